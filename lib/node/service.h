// What a storage unit does with one request: decode, check, apply to the store, reply.
// Transport-free, so tests drive it directly; node/server.h puts it behind a ROUTER socket.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "node/metrics.h"
#include "node/rights.h"
#include "store/slice_store.h"
#include "wire/message.h"

namespace dstk::node {

// One reply ready to send: frame 1, and frame 2 when `payload` is set.
struct Outgoing {
  std::string header;
  std::vector<uint8_t> file;  // owns the bytes `payload` points into
  std::span<const uint8_t> payload;
  bool has_payload = false;
  uint64_t id = 0;          // the request's id, for an error reply in its place
  bool after_sync = false;  // a write or claim reply: send only after Service::Sync() returned Ok
};

// Who sent a request. With CurveZMQ: the client's public key (Z85) and its rights from the
// allow-list. Without: no key, and no rights apply (every op is served).
struct Caller {
  std::string key;
  const Rights* rights = nullptr;  // null: unchecked
};

// A notable event for the operator's log, with its level.
enum class LogLevel { kError, kWarn, kInfo, kDebug };
using LogSink = std::function<void(LogLevel, const std::string&)>;

class Service {
 public:
  // `version` is what stat reports as the unit's software version. With `metrics` (dsnode
  // --metrics; it must outlive the service) every request, flush, claim decision and
  // quarantined slice is counted there, and the store's gauges are refreshed from Idle().
  Service(store::SliceStore& store, LogSink log, std::string version,
          UnitMetrics* metrics = nullptr);

  // Handles one request given as its frames (header, and payload for put_slice) from
  // `caller`. Malformed input is answered with bad_request and never throws; a request its
  // caller's rights do not allow with forbidden (logged at warn with the key). Each write,
  // remove, push and claim decision is logged at info with the caller's key (see Audit in
  // service.cc for which messages those are).
  //
  // Writes (put_slice, publish, del_slice) are staged and claim states saved to the journal,
  // neither durable yet (group commit): a reply with
  // `after_sync` set may be sent only after Sync() returns Ok, and must be replaced by
  // FailedSync() when it does not. The server handles every request it has read, then syncs
  // once for all of them.
  Outgoing Handle(std::span<const uint8_t> header, std::span<const uint8_t> payload,
                  bool has_payload, const Caller& caller = {});
  // Makes every staged write and claim state so far durable; a no-op when there is none.
  Status Sync();
  // Background work for when no request waits: retries a flush that failed (a full disk), so
  // what is left becomes durable without waiting for the next request, and deletes
  // a few consumed functions' slices. Returns when to run again unless a request comes first:
  // at once while slices are left to delete, in a second while the flush keeps failing,
  // nullopt when there is nothing to do. With metrics, also recounts what the store holds once
  // it changed, at most once a second (asking to run again for that).
  std::optional<std::chrono::milliseconds> Idle();
  // The reply to send in place of an after_sync reply whose Sync() failed with `why`.
  static Outgoing FailedSync(const Outgoing& out, const Status& why);
  // Ok, or the first failed flush (kIoError): after one, a unit may have lost data it was about
  // to acknowledge from the page cache, and retrying would report success; it must stop.
  const Status& fatal() const { return fatal_; }

 private:
  wire::Reply HandleClaim(const wire::Request& r, const std::string& who, Outgoing& out);
  // One claim op on the function r.name at r.ballot; a lock_read_delete of a pending function
  // also reads its slice into `file` (`payload` points at the slice's bytes in it). `who`
  // names the caller in the log line of a decision.
  wire::KeyResult ClaimOne(const wire::Request& r, const std::string& who, int64_t now,
                           std::vector<uint8_t>& file, std::span<const uint8_t>& payload);
  // `may_read`: the caller's key has the read right on r.name (a stat's slice needs it; false
  // for every other request, which never needs it).
  wire::Reply Dispatch(const wire::Request& r, std::span<const uint8_t> payload, bool has_payload,
                       const std::string& who, bool may_read, Outgoing& out);
  // list: one page of names, each marked when another claimer holds it.
  wire::Reply ListReply(const wire::Request& r);
  // stat: the unit's own figures when r.name is empty, else what it holds of that object
  // (corrupt slices found are counted and logged), with the committed revision's first slice
  // in `out` when r.slice_max asks for it and `may_read`.
  wire::Reply StatReply(const wire::Request& r, bool may_read, Outgoing& out);
  // The committed revision's slice of segment 0 into `out` and `reply.slice`, when it is at
  // most `slice_max` bytes; nothing when there is none to give (the stat stands without it).
  void AttachFirstSlice(const wire::Manifest& m, const std::string& name, uint32_t slice_max,
                        wire::Reply& reply, Outgoing& out);
  // Logs a write, remove or push that took effect (publish, del_slice) with its caller.
  void Audit(const wire::Request& r, const std::string& who);
  std::optional<std::chrono::milliseconds> IdleWork();
  // Counts the store for the gauges when it changed and the last count is old enough; returns
  // `next` or the sooner time the count is due.
  std::optional<std::chrono::milliseconds> RefreshCounts(
      std::optional<std::chrono::milliseconds> next);
  void CountClaim(const wire::Request& r, wire::ReplyStatus status);

  store::SliceStore& store_;
  Status fatal_;
  LogSink log_;
  std::string version_;
  UnitMetrics* metrics_;  // null: --metrics is off
  bool counts_stale_ = true;
  std::chrono::steady_clock::time_point next_count_{};
};

// Maps a store Status onto the wire status a client sees.
wire::ReplyStatus ReplyStatusFor(const Status& s);

}  // namespace dstk::node
