// The requests a unit has read off its socket and not yet answered, per client, served
// round-robin between clients.
//
// The server is one thread: it handles one request at a time and, between two requests, reads
// everything that has arrived into this queue. A request is "in flight" from the moment it is
// read until its reply is sent, so a client's in-flight count is its share of this queue.
// Past `per_client` the server refuses a request at once (busy) instead of holding it; past the
// global caps it stops reading, and what is left stays in ZeroMQ's bounded queues (TCP
// back-pressure on the senders). Serving one request per client in turn means a client with a
// full queue delays another client by at most one request per turn, however much it sends.
//
// A template over the held item so tests can drive it without sockets.
#pragma once

#include <cstddef>
#include <deque>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>

namespace dstk::node {

struct InflightLimits {
  size_t per_client = 64;           // requests held per client identity
  size_t total = 4096;              // requests held over all clients
  size_t total_bytes = 256u << 20;  // bytes held over all clients (one request always fits)
};

template <typename Item>
class InflightQueue {
 public:
  explicit InflightQueue(InflightLimits limits) : limits_(limits) {}

  // Whether the server may read another message off the socket now.
  bool Room() const {
    return held_ < limits_.total && (held_ == 0 || bytes_ < limits_.total_bytes);
  }

  // Holds `item` (of `bytes` bytes) for client `id`; false when that client already has
  // `per_client` requests held, in which case `item` is left untouched for the caller to
  // refuse.
  bool Admit(const std::string& id, Item&& item, size_t bytes) {
    auto& q = clients_[id];
    if (q.size() >= limits_.per_client) return false;
    if (q.empty()) ring_.push_back(id);
    q.push_back({std::move(item), bytes});
    ++held_;
    bytes_ += bytes;
    return true;
  }

  // The next request to serve: the oldest of the client whose turn it is.
  std::optional<Item> Next() {
    if (ring_.empty()) return std::nullopt;
    std::string id = std::move(ring_.front());
    ring_.pop_front();
    auto it = clients_.find(id);
    Held h = std::move(it->second.front());
    it->second.pop_front();
    --held_;
    bytes_ -= h.bytes;
    if (it->second.empty()) {
      clients_.erase(it);  // forget idle clients: the map never outgrows the queue
    } else {
      ring_.push_back(std::move(id));
    }
    return std::move(h.item);
  }

  bool empty() const { return held_ == 0; }
  size_t size() const { return held_; }
  size_t bytes() const { return bytes_; }
  size_t HeldFor(const std::string& id) const {
    auto it = clients_.find(id);
    return it == clients_.end() ? 0 : it->second.size();
  }

 private:
  struct Held {
    Item item;
    size_t bytes = 0;
  };
  InflightLimits limits_;
  std::unordered_map<std::string, std::deque<Held>> clients_;
  std::deque<std::string> ring_;  // clients with held requests, in serving order
  size_t held_ = 0;
  size_t bytes_ = 0;
};

}  // namespace dstk::node
