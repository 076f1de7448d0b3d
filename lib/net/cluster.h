// The client side of the wire: one ZeroMQ DEALER socket per storage unit, requests fanned out
// to many units at once, replies gathered against deadlines.
//
// DEALER (not REQ) so that any number of requests can be in flight per unit and a lost reply
// never wedges the socket; each request carries an id and replies are matched by it, so a
// reply that arrives after its request was given up is recognised and dropped.
//
// Not thread-safe: one Cluster per thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>
#include <zmq.hpp>

#include "net/keys.h"
#include "net/node_list.h"
#include "util/status.h"
#include "wire/message.h"

namespace dstk::net {

using Clock = std::chrono::steady_clock;

// A reply from a unit, with the raw frame-2 payload when the reply had one.
struct Response {
  size_t unit = 0;
  wire::Reply reply;
  zmq::message_t payload;
  std::span<const uint8_t> Payload() const {
    return {static_cast<const uint8_t*>(payload.data()), payload.size()};
  }
};

// The outcome of one request in a fan-out: a response, or why there is none.
struct Outcome {
  Status status;  // ok when `response` holds a reply (whatever its own status)
  std::optional<Response> response;
};

class Cluster {
 public:
  // A unit of the node list that a view has no unit for (a pillar whose unit left the list).
  static constexpr size_t kNoUnit = static_cast<size_t>(-1);

  // The whole network: one unit per node list entry (net/node_list.h, canonical lines), unit i
  // being line i. Sockets are made and connected (lazily, as ZeroMQ does) the first time a unit
  // is sent to, so a process that talks to a few units of a large network opens only those.
  // `timeout` is how long to wait for any one reply. A unit listed with a public key is reached
  // encrypted and authenticated with `client_keys` (an ephemeral pair when none is given, which
  // a unit with an allow-list will refuse).
  Cluster(const std::vector<std::string>& node_list, std::chrono::milliseconds timeout,
          const std::optional<KeyPair>& client_keys = std::nullopt);
  // Messages still queued for a unit that answered nothing in this process are dropped (it is
  // down or unreachable) when the last view of the network goes; others get a short linger so
  // fire-and-forget releases leave.
  ~Cluster();
  Cluster(Cluster&&) noexcept;
  Cluster& operator=(Cluster&&) noexcept;
  Cluster(const Cluster&) = delete;
  Cluster& operator=(const Cluster&) = delete;

  // A view of some of the network's units, sharing its connections: unit i of the view is
  // network unit `units[i]` (kNoUnit: none; sends to it fail). Every object operation runs on
  // a view whose unit i holds pillar i of the object. Views of one network are used one at a
  // time: a reply to another view's request that arrives while this one receives is dropped.
  Cluster View(const std::vector<size_t>& units) const;
  // The whole network as a view (unit i = node list line i), whatever this view is.
  Cluster Network() const;

  size_t size() const { return members_.size(); }
  // Units in the whole network (the node list's length).
  size_t network_size() const;
  // The network unit (node list line index) behind this view's unit `unit`, or kNoUnit.
  size_t NetworkIndex(size_t unit) const { return members_[unit]; }
  const std::vector<size_t>& members() const { return members_; }
  // The node list entry of network unit `net_unit`, with the id the unit reported when the
  // list gave none (NoteUnitId).
  const NodeEntry& Entry(size_t net_unit) const;
  // Records the id this view's unit `unit` reported (a stat reply) when its line gave none.
  void NoteUnitId(size_t unit, const std::string& id);
  // The endpoint of this view's unit `unit` ("" for kNoUnit).
  const std::string& endpoint(size_t unit) const;
  std::chrono::milliseconds timeout() const { return timeout_; }
  // "unit 3 (tcp://127.0.0.1:7103)": how messages name a unit (by its node list line index).
  std::string Describe(size_t unit) const;

  // Queues one request (assigning its id) with an optional payload frame. Never blocks.
  Result<uint64_t> Send(size_t unit, wire::Request& request, std::span<const uint8_t> payload = {});

  // The next reply to a request still outstanding, or nullopt once `deadline` passes first.
  // Replies to forgotten requests are dropped; a reply that does not parse is returned as a
  // Response whose reply status is kError with the parse error.
  std::optional<Response> Receive(Clock::time_point deadline);

  // Forgets an outstanding request (its late reply will be dropped).
  void Forget(uint64_t id) { pending_.erase(id); }
  size_t Outstanding() const { return pending_.size(); }

  // Sends `request` to each unit in `units` and waits for every reply or the timeout.
  // The result is indexed like `units`.
  std::vector<Outcome> CallEach(const wire::Request& request, const std::vector<size_t>& units);
  std::vector<Outcome> CallAll(const wire::Request& request);

 private:
  struct Links;  // the network's sockets, shared by its views (cluster.cc)
  Cluster(std::shared_ptr<Links> links, std::vector<size_t> members,
          std::chrono::milliseconds timeout);

  // The first message waiting on view unit `u`'s socket that answers a request outstanding
  // (others are dropped), or nullopt when none is waiting.
  std::optional<Response> ReceiveFrom(size_t u);

  std::shared_ptr<Links> links_;
  std::vector<size_t> members_;  // view unit -> network unit
  std::chrono::milliseconds timeout_;
  std::unordered_map<uint64_t, size_t> pending_;  // request id -> view unit
};

}  // namespace dstk::net
