#include "node/service.h"

#include <algorithm>
#include <chrono>

#include "node/claim_rules.h"
#include "node/store_counts.h"
#include "wire/limits.h"
#include "wire/name.h"

namespace dstk::node {
namespace {

// Claim locks are wall-clock expiries (they survive a restart): milliseconds since the epoch.
int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

using SteadyClock = std::chrono::steady_clock;

double SecondsSince(SteadyClock::time_point start) {
  return std::chrono::duration<double>(SteadyClock::now() - start).count();
}

// How log lines name a caller: its key's first characters, enough to find its allow-list line.
std::string Who(const Caller& caller) {
  if (caller.key.empty()) return "no key";
  return std::string("key ").append(caller.key, 0, 10).append("..");
}

// `reply` refused with `s`'s status and message.
wire::Reply WithError(wire::Reply reply, const Status& s) {
  reply.status = ReplyStatusFor(s);
  reply.error = s.message();
  return reply;
}

}  // namespace

wire::ReplyStatus ReplyStatusFor(const Status& s) {
  switch (s.code()) {
    case Code::kOk:
      return wire::ReplyStatus::kOk;
    case Code::kNotFound:
      return wire::ReplyStatus::kNotFound;
    case Code::kInvalidArgument:
      return wire::ReplyStatus::kBadRequest;
    case Code::kConflict:
      return wire::ReplyStatus::kConflict;
    case Code::kCorruption:
      return wire::ReplyStatus::kCorrupt;
    case Code::kFenced:
      return wire::ReplyStatus::kFenced;
    case Code::kForbidden:
      return wire::ReplyStatus::kForbidden;
    case Code::kLimit:
      return wire::ReplyStatus::kNoSpace;
    case Code::kUnavailable:
    case Code::kIoError:
      return wire::ReplyStatus::kError;
  }
  return wire::ReplyStatus::kError;
}

Service::Service(store::SliceStore& store, LogSink log, std::string version, UnitMetrics* metrics)
    : store_(store), log_(std::move(log)), version_(std::move(version)), metrics_(metrics) {
  if (metrics_ != nullptr) RefreshCounts(std::nullopt);
}

Outgoing Service::Handle(std::span<const uint8_t> header, std::span<const uint8_t> payload,
                         bool has_payload, const Caller& caller) {
  const SteadyClock::time_point start =
      metrics_ != nullptr ? SteadyClock::now() : SteadyClock::time_point{};
  Outgoing out;
  wire::Reply reply;
  auto req = wire::DecodeRequest(header);
  if (!req.ok()) {
    // Echo the id when the map had one, so the client can match the refusal.
    reply.id = wire::PeekRequestId(header);
    reply.status = wire::ReplyStatus::kBadRequest;
    reply.error = req.status().message();
    log_(LogLevel::kWarn, "bad request: " + reply.error);
  } else {
    const std::string who = Who(caller);
    const std::string what =
        std::string(wire::OpName(req->op)) + " " + (req->slice ? req->slice->name : req->name);
    const Status allowed =
        caller.rights != nullptr ? CheckRights(*caller.rights, *req) : Status::Ok();
    if (!allowed.ok()) {
      reply.status = wire::ReplyStatus::kForbidden;
      reply.error = allowed.message();
      log_(LogLevel::kWarn, who + ": refused " + what + ": " + reply.error);
    } else {
      // Asked only of a stat that wants the first slice: the one request that needs it.
      const bool may_read =
          req->op == wire::Op::kStat && req->slice_max != 0 &&
          (caller.rights == nullptr || caller.rights->Covers(Right::kRead, req->name));
      reply = Dispatch(*req, payload, has_payload, who, may_read, out);
      if (reply.ok()) Audit(*req, who);
    }
    reply.id = req->id;
    if (reply.status == wire::ReplyStatus::kCorrupt || reply.status == wire::ReplyStatus::kError ||
        reply.status == wire::ReplyStatus::kNoSpace) {
      log_(LogLevel::kError, what + ": " + reply.error);
    } else {
      log_(LogLevel::kDebug, what + ": " + wire::ReplyStatusName(reply.status));
    }
  }
  out.header = wire::EncodeReply(reply);
  out.id = reply.id;
  if (metrics_ != nullptr) {
    counts_stale_ = true;
    metrics_->Request(req.ok() ? std::optional<wire::Op>(req->op) : std::nullopt, reply.status,
                      SecondsSince(start), header.size() + payload.size(),
                      out.header.size() + out.payload.size());
  }
  return out;
}

void Service::Audit(const wire::Request& r, const std::string& who) {
  switch (r.op) {
    case wire::Op::kPublish: {
      // One line per object or function stored or removed, not per slice: the publish is what
      // makes a write take effect.
      const auto right = RightFor(r);
      std::string line = who + ": ";
      line.append(right ? RightName(*right) : "?").append(" ").append(r.name);
      line.append(" rev ").append(std::to_string(r.manifest->rev));
      if (r.manifest->token != 0) line.append(" token ").append(std::to_string(r.manifest->token));
      log_(LogLevel::kInfo, line);
      return;
    }
    case wire::Op::kDelSlice: {
      std::string line = who + ": ";
      line.append(r.moved ? "admin " : wire::QueueOf(r.name) ? "push " : "write ").append(r.name);
      line.append(" dropped rev ").append(std::to_string(r.rev));
      line.append(r.moved ? " (moved to other units)" : " (an aborted write)");
      log_(LogLevel::kInfo, line);
      return;
    }
    default:
      return;  // put_slice is named by its publish; claims are logged per decision (ClaimOne)
  }
}

Status Service::Sync() {
  // Each flush is timed only when it has something to flush: a no-op is not a latency.
  const bool time_files = metrics_ != nullptr && store_.HasUnsyncedFiles();
  SteadyClock::time_point start = time_files ? SteadyClock::now() : SteadyClock::time_point{};
  Status files = store_.SyncFiles();
  if (time_files) metrics_->Flush(FlushTarget::kFiles, SecondsSince(start));
  if (!files.ok()) log_(LogLevel::kError, "flushing slices and manifests: " + files.message());
  const bool time_claims = metrics_ != nullptr && store_.HasUnsyncedClaims();
  if (time_claims) start = SteadyClock::now();
  Status st = store_.SyncClaims();
  if (time_claims) metrics_->Flush(FlushTarget::kClaims, SecondsSince(start));
  if (!st.ok()) log_(LogLevel::kError, "claim journal: " + st.message());
  Status result = files.ok() ? st : files;
  if (st.code() == Code::kIoError) result = st;
  if (result.code() == Code::kIoError && fatal_.ok()) fatal_ = result;
  return result;
}

std::optional<std::chrono::milliseconds> Service::Idle() {
  auto next = IdleWork();
  return metrics_ != nullptr ? RefreshCounts(next) : next;
}

std::optional<std::chrono::milliseconds> Service::RefreshCounts(
    std::optional<std::chrono::milliseconds> next) {
  if (!counts_stale_) return next;
  const auto now = SteadyClock::now();
  if (now < next_count_) {
    const auto due = std::chrono::ceil<std::chrono::milliseconds>(next_count_ - now);
    return next && *next < due ? next : due;
  }
  metrics_->Store(CountStore(store_, NowMs()));
  counts_stale_ = false;
  // Counting walks the whole index: keep it under 1% of the unit's time on a large store.
  next_count_ = SteadyClock::now() + std::max<SteadyClock::duration>(
                                         std::chrono::seconds(1), (SteadyClock::now() - now) * 100);
  return next;
}

std::optional<std::chrono::milliseconds> Service::IdleWork() {
  if ((store_.HasUnsyncedClaims() || store_.HasUnsyncedFiles()) && !Sync().ok())
    return std::chrono::milliseconds(1000);
  // A few at a time, so that a request arriving meanwhile waits for at most a few unlinks.
  Status st = store_.DropConsumedSlices(8);
  if (!st.ok()) log_(LogLevel::kWarn, "deleting consumed slices: " + st.message());
  if (st.ok() && store_.HasConsumedSlices()) return std::chrono::milliseconds(0);
  // Drop records appended to packs above, made durable while nothing else waits.
  if (store_.HasUnsyncedFiles() && !Sync().ok()) return std::chrono::milliseconds(1000);
  // One pack at a time: a request arriving meanwhile waits for one pack's live records.
  auto compacted = store_.CompactPacks();
  if (!compacted.ok()) {
    if (compacted.status().code() == Code::kIoError && fatal_.ok()) fatal_ = compacted.status();
    log_(LogLevel::kWarn, "compacting packs: " + compacted.status().message());
    return std::chrono::milliseconds(1000);
  }
  if (*compacted) {
    log_(LogLevel::kDebug, "compacted the oldest pack");
    return std::chrono::milliseconds(0);
  }
  return std::nullopt;
}

Outgoing Service::FailedSync(const Outgoing& out, const Status& why) {
  wire::Reply reply;
  reply.id = out.id;
  reply.status = ReplyStatusFor(why);
  reply.error = "not saved: " + why.message();
  Outgoing failed;
  failed.header = wire::EncodeReply(reply);
  failed.id = out.id;
  return failed;
}

wire::Reply Service::Dispatch(const wire::Request& r, std::span<const uint8_t> payload,
                              bool has_payload, const std::string& who, bool may_read,
                              Outgoing& out) {
  wire::Reply reply;
  auto fail = [&reply](const Status& s) { return WithError(reply, s); };
  if (has_payload != (r.op == wire::Op::kPutSlice)) {
    return fail(Status::Invalid(has_payload ? "this op takes no payload frame"
                                            : "put_slice needs a payload frame"));
  }
  switch (r.op) {
    case wire::Op::kPutSlice: {
      out.after_sync = true;  // acknowledged once durable: the group's SyncFiles
      Status st = store_.PutSlice(*r.slice, payload, r.token, r.pack);
      return st.ok() ? reply : fail(st);
    }
    case wire::Op::kGetSlice: {
      codec::SliceHeader h;
      Status st = store_.GetSlice(r.name, r.rev, r.seg, h, out.file, out.payload);
      if (st.code() == Code::kCorruption && metrics_ != nullptr) metrics_->SlicesQuarantined(1);
      if (!st.ok()) return fail(st);
      reply.slice = h;
      out.has_payload = true;
      return reply;
    }
    case wire::Op::kDelSlice: {
      out.after_sync = true;
      Status st = store_.DeleteRevision(r.name, r.rev, r.moved);
      return st.ok() ? reply : fail(st);
    }
    case wire::Op::kPublish: {
      out.after_sync = true;
      Status st = store_.Publish(r.name, *r.manifest);
      return st.ok() ? reply : fail(st);
    }
    case wire::Op::kList:
      return ListReply(r);
    case wire::Op::kStat:
      return StatReply(r, may_read, out);
    case wire::Op::kLockReadDelete:
    case wire::Op::kCommit:
    case wire::Op::kRelease:
    case wire::Op::kRenew:
    case wire::Op::kFinish:
      return HandleClaim(r, who, out);
  }
  return fail(Status::Invalid("unknown op"));
}

wire::Reply Service::ListReply(const wire::Request& r) {
  wire::Reply reply;
  const size_t limit = r.limit == 0 || r.limit > wire::kMaxListPage ? wire::kMaxListPage : r.limit;
  store::ListPage page = store_.List(r.prefix, r.after, limit, wire::kListReplyBudget, r.lane);
  reply.entries = std::move(page.entries);
  reply.more = page.more;
  reply.scanned = std::move(page.scanned);
  // Walkers try keys that another claimer holds last (a round spent on a held key is lost).
  const int64_t now = NowMs();
  for (auto& e : reply.entries) {
    const store::ClaimState* claim = store_.Claim(e.name);
    e.locked = claim != nullptr && LockLive(*claim, now) ? 1 : 0;
    // A listing names objects; their slice digests would crowd the page out (and past
    // the 64 KiB frame of clients of earlier versions). stat serves them.
    e.manifest.hashes.clear(), e.manifest.root.clear();
  }
  return reply;
}

wire::Reply Service::StatReply(const wire::Request& r, bool may_read, Outgoing& out) {
  wire::Reply reply;
  reply.unit_id = store_.unit_id();
  if (r.name.empty()) {
    reply.unit = store_.Info();
    reply.unit->version = version_;
    return reply;
  }
  auto st = store_.Stat(r.name, r.verify);
  if (!st.ok()) return WithError(reply, st.status());
  for (const auto& h : st->held) {
    if (h.bad > 0) {
      if (metrics_ != nullptr) metrics_->SlicesQuarantined(h.bad);
      log_(LogLevel::kWarn, r.name + ": " + std::to_string(h.bad) + " corrupt slices of revision " +
                                std::to_string(h.rev) + " moved aside (.corrupt)");
    }
  }
  reply.committed = st->committed;
  reply.held = std::move(st->held);
  if (r.slice_max != 0 && may_read && reply.committed && !reply.committed->tomb) {
    AttachFirstSlice(*reply.committed, r.name, r.slice_max, reply, out);
  }
  return reply;
}

void Service::AttachFirstSlice(const wire::Manifest& m, const std::string& name, uint32_t slice_max,
                               wire::Reply& reply, Outgoing& out) {
  // A slice carries at least 1/k of its segment: a larger one is not read only to be dropped.
  const uint64_t first_segment = std::min<uint64_t>(m.size, m.segsize);
  if (m.k == 0 || first_segment > uint64_t{slice_max} * m.k) return;
  codec::SliceHeader h;
  Status st = store_.GetSlice(name, m.rev, 0, h, out.file, out.payload);
  if (st.code() == Code::kCorruption && metrics_ != nullptr) metrics_->SlicesQuarantined(1);
  if (!st.ok() || out.payload.size() > slice_max) {
    // No slice here (a unit without a pillar of the revision, or a bad one moved aside): the
    // reader asks the other holders with get_slice, as it would without slice_max.
    out.file.clear();
    out.payload = {};
    return;
  }
  reply.slice = h;
  out.has_payload = true;
}

wire::Reply Service::HandleClaim(const wire::Request& r, const std::string& who, Outgoing& out) {
  // Every claim reply waits for the group's sync, refusals and no-ops too: one may report a
  // state another request of the group saved (a finish already done), which is not durable yet.
  out.after_sync = true;
  const int64_t now = NowMs();
  wire::Reply reply;
  if (r.keys.empty()) {
    wire::KeyResult one = ClaimOne(r, who, now, out.file, out.payload);
    reply.status = one.status;
    reply.error = std::move(one.error);
    reply.claim = one.claim;
    reply.slice = one.slice;
    out.has_payload = one.slice.has_value();
    return reply;
  }
  // A batch: the op on each key in turn, at the key's ballot number; the slices go back to back
  // in one payload frame (while they fit in one).
  wire::Request each = r;
  each.keys.clear();
  std::vector<uint8_t> file;
  std::span<const uint8_t> payload;
  for (const auto& key : r.keys) {
    each.name = key.name;
    each.ballot = {key.n, r.ballot.id};
    each.owner = key.owner != 0 ? key.owner : r.owner;
    wire::KeyResult one = ClaimOne(each, who, now, file, payload);
    if (one.slice) {
      if (out.file.size() + payload.size() <= wire::kMaxPayloadFrame) {
        out.file.insert(out.file.end(), payload.begin(), payload.end());
      } else {
        one.slice.reset();  // the claimer reads this key's slice from other units, or later
      }
    }
    reply.results.push_back(std::move(one));
  }
  out.payload = out.file;
  out.has_payload = !out.file.empty();
  return reply;
}

wire::KeyResult Service::ClaimOne(const wire::Request& r, const std::string& who, int64_t now,
                                  std::vector<uint8_t>& file, std::span<const uint8_t>& payload) {
  wire::KeyResult result;
  // Only queue keys are functions. A claim of any other name would treat an ordinary object as
  // one, and a consume-mode claim would delete it.
  if (!wire::QueueOf(r.name)) {
    result.status = wire::ReplyStatus::kBadRequest;
    result.error =
        r.name + " is not a queue key (QUEUE/<16 hex>-<8 hex>): only functions are claimed";
    CountClaim(r, result.status);
    return result;
  }
  auto st = store_.Stat(r.name, false);
  if (!st.ok() || !st->committed || st->committed->tomb) {
    result.status = wire::ReplyStatus::kNotFound;
    result.error = "no function " + r.name + " on this unit";
    CountClaim(r, result.status);
    return result;
  }
  const store::ClaimState* current = store_.Claim(r.name);
  store::ClaimState state = current != nullptr ? *current : store::ClaimState{};
  ClaimDecision d = ApplyClaimOp(state, r, now);
  if (d.save) {
    // Durable before the reply (after_sync): a promise or acceptance a unit forgets could elect
    // two owners.
    Status saved = d.durable ? store_.SaveClaim(r.name, state, d.drop_slices)
                             : store_.KeepClaim(r.name, state);
    if (!saved.ok()) {
      result.status = ReplyStatusFor(saved);
      result.error = saved.message();
      CountClaim(r, result.status);
      return result;
    }
  }
  CountClaim(r, d.status);
  // The decisions, not every message: a commit accepted, a finish or a release that changed
  // the state. Phase 1 promises and renewals would be most of the lines and decide nothing.
  const bool decision =
      r.op == wire::Op::kCommit || r.op == wire::Op::kFinish || r.op == wire::Op::kRelease;
  if (decision && d.save && d.status == wire::ReplyStatus::kOk) {
    std::string line = who + ": claim " + r.name + " ";
    line.append(wire::OpName(r.op)).append(" ballot ").append(std::to_string(r.ballot.n));
    if (r.op == wire::Op::kCommit) line.append(" owner ").append(std::to_string(r.owner));
    log_(LogLevel::kInfo, line);
  }
  result.status = d.status;
  result.error = d.error;
  result.claim = ViewOf(current != nullptr && !d.save ? *current : state, now);
  if (d.send_slice) {
    codec::SliceHeader h;
    Status read = store_.GetSlice(r.name, st->committed->rev, 0, h, file, payload);
    if (read.ok()) result.slice = h;
    if (read.code() == Code::kCorruption && metrics_ != nullptr) metrics_->SlicesQuarantined(1);
  }
  return result;
}

void Service::CountClaim(const wire::Request& r, wire::ReplyStatus status) {
  if (metrics_ == nullptr) return;
  if (status != wire::ReplyStatus::kOk) {
    metrics_->ClaimRefused(r.op, status);
  } else if (r.op == wire::Op::kLockReadDelete) {
    metrics_->ClaimPromised();
  } else if (r.op == wire::Op::kCommit) {
    metrics_->ClaimCommitted();
  }
}

}  // namespace dstk::node
