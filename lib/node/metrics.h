// What a storage unit tells Prometheus (dsnode --metrics; the list is in man dsnode, METRICS):
// requests by op and status, latencies, flushes, bytes, what the store holds, the claim's
// promises, commits and refusals, busy replies, clients connected, corrupt slices.
//
// Service and the server hold a `UnitMetrics*` that is null when --metrics is off, so the cost
// then is one pointer test per event. Every series is created here, up front, once: updating
// one is an index into an array and an atomic add (a histogram takes a short lock), with no
// label lookup or allocation on the request path. Each series carries the constant label
// `unit_id` (DIR/unit.id), which stays the same when a unit moves to another host or port.
// Safe to update from several threads and to read from the HTTP exposer's threads.
#pragma once

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "wire/message.h"

namespace dstk::node {

// The two flushes a group of writes ends with (Service::Sync).
enum class FlushTarget { kFiles, kClaims };

// What the store holds, as the unit last counted it (SliceStore::Info and its claim states).
struct StoreCounts {
  uint64_t objects = 0;
  uint64_t slices = 0;
  uint64_t bytes = 0;
  uint64_t leases = 0;  // functions under a live lease an owner holds here (lease mode)
};

class UnitMetrics {
 public:
  UnitMetrics(prometheus::Registry& registry, const std::string& unit_id);

  // One request answered: its op (nullopt: the header could not be decoded), reply status, the
  // time the unit spent on it (without the wait for the group's flush) and its frames' bytes.
  void Request(std::optional<wire::Op> op, wire::ReplyStatus status, double seconds,
               size_t bytes_in, size_t bytes_out);
  void Flush(FlushTarget target, double seconds);
  void Busy() { busy_.Increment(); }
  void ClientConnected() {
    clients_.Increment();
    connections_.Increment();
  }
  void ClientDisconnected() { clients_.Decrement(); }
  void ClaimPromised() { promises_.Increment(); }
  void ClaimCommitted() { commits_.Increment(); }
  // A claim op (lock_read_delete ... finish) refused with `reason`, its reply status.
  void ClaimRefused(wire::Op op, wire::ReplyStatus reason);
  void SlicesQuarantined(uint64_t n) { corrupt_.Increment(static_cast<double>(n)); }
  void Store(const StoreCounts& counts);

 private:
  static constexpr size_t kOps = static_cast<size_t>(wire::Op::kFinish) + 2;  // + "unknown"
  // wire::ReplyStatus::kForbidden is the last status (wire/message.h).
  static constexpr size_t kStatuses = static_cast<size_t>(wire::ReplyStatus::kForbidden) + 1;

  std::array<std::array<prometheus::Counter*, kStatuses>, kOps> requests_{};
  std::array<prometheus::Histogram*, kOps> request_seconds_{};
  std::array<prometheus::Histogram*, 2> flush_seconds_{};
  prometheus::Counter& received_bytes_;
  prometheus::Counter& sent_bytes_;
  prometheus::Counter& busy_;
  prometheus::Gauge& clients_;
  prometheus::Counter& connections_;
  prometheus::Counter& promises_;
  prometheus::Counter& commits_;
  static constexpr size_t kClaimOps =
      static_cast<size_t>(wire::Op::kFinish) - static_cast<size_t>(wire::Op::kLockReadDelete) + 1;
  std::array<std::array<prometheus::Counter*, kStatuses>, kClaimOps> refusals_{};
  prometheus::Counter& corrupt_;
  prometheus::Gauge& objects_;
  prometheus::Gauge& slices_;
  prometheus::Gauge& bytes_stored_;
  prometheus::Gauge& leases_;
};

}  // namespace dstk::node
