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
  // Connects (lazily, as ZeroMQ does) to every endpoint; the index in `endpoints` is the unit's
  // pillar index. `timeout` is how long to wait for any one reply. An endpoint may be followed
  // by a space and the unit's CurveZMQ public key: the connection is then encrypted and
  // authenticated with `client_keys` (an ephemeral pair when none is given, which a unit with
  // an allow-list will refuse).
  Cluster(std::vector<std::string> endpoints, std::chrono::milliseconds timeout,
          const std::optional<KeyPair>& client_keys = std::nullopt);
  // Messages still queued for a unit that answered nothing in this process are dropped (it is
  // down or unreachable); others get a short linger so fire-and-forget releases leave.
  ~Cluster();
  Cluster(const Cluster&) = delete;
  Cluster& operator=(const Cluster&) = delete;

  size_t size() const { return endpoints_.size(); }
  const std::string& endpoint(size_t unit) const { return endpoints_[unit]; }
  std::chrono::milliseconds timeout() const { return timeout_; }
  // "unit 3 (tcp://127.0.0.1:7103)": how messages name a unit.
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
  std::vector<std::string> endpoints_;
  std::chrono::milliseconds timeout_;
  zmq::context_t context_;
  std::vector<zmq::socket_t> sockets_;
  std::unordered_map<uint64_t, size_t> pending_;  // request id -> unit
  std::vector<bool> answered_;                    // a reply came from this unit
  std::vector<std::string> connect_errors_;       // why a unit's endpoint was refused, or ''
  uint64_t next_id_;
};

// Parses a node list: one endpoint per line (blank lines and '#' comments skipped) or, for
// DSTK_NODES, comma-separated, each optionally followed by the unit's public key. Every
// endpoint is checked (net/endpoint.h) and returned in its canonical form (tcp:// added). A
// list that names one unit twice (the same endpoint, two host names that resolve to one
// address, or one public key) is refused. kInvalidArgument names the line or item.
Result<std::vector<std::string>> ParseNodeList(const std::string& text, char separator);

}  // namespace dstk::net
