// PutObject: stream, encode, fan out slices, publish.
#include <algorithm>
#include <deque>
#include <optional>
#include <set>
#include <unordered_map>

#include "client/integrity.h"
#include "client/object_io.h"
#include "client/placement.h"
#include "client/refusals.h"
#include "codec/segment.h"
#include "util/fd_io.h"
#include "util/segment_reader.h"
#include "util/work_crew.h"
#include "wire/revision.h"

namespace dstk::client {
namespace {

// Tracks which units are still part of this put and why the others left.
class UnitSet {
 public:
  explicit UnitSet(size_t n) : alive_(n, true), refused_(n, false), forbidden_(n, false), why_(n) {}
  bool alive(size_t u) const { return alive_[u]; }
  size_t count() const {
    size_t n = 0;
    for (bool a : alive_) n += a;
    return n;
  }
  // `why` names the unit (net::Cluster::Describe) and says what went wrong.
  // `refused`: it answered with an error (full, ...), so it is up and may hold some slices.
  // `forbidden`: the error was forbidden (the unit does not let this key write the name).
  void Drop(size_t u, const std::string& why, bool refused = false, bool forbidden = false) {
    if (!alive_[u]) return;
    alive_[u] = false;
    why_[u] = why;
    refused_[u] = refused;
    forbidden_[u] = forbidden;
  }
  bool refused(size_t u) const { return refused_[u]; }
  size_t forbidden() const {
    return static_cast<size_t>(std::count(forbidden_.begin(), forbidden_.end(), true));
  }
  const std::string& why(size_t u) const { return why_[u]; }
  std::vector<size_t> Alive() const {
    std::vector<size_t> out;
    for (size_t u = 0; u < alive_.size(); ++u) {
      if (alive_[u]) out.push_back(u);
    }
    return out;
  }
  std::string Reasons() const {
    std::string out;
    for (size_t u = 0; u < alive_.size(); ++u) {
      if (alive_[u]) continue;
      if (!out.empty()) out += "; ";
      out += why_[u];
    }
    return out;
  }

 private:
  std::vector<bool> alive_;
  std::vector<bool> refused_;
  std::vector<bool> forbidden_;
  std::vector<std::string> why_;
};

struct InFlight {
  uint32_t seg;
  std::set<size_t> waiting;  // units that have not acknowledged this segment yet
  net::Clock::time_point deadline;
};

class Writer {
 public:
  Writer(net::Cluster& c, const std::string& name, const PutOptions& o)
      : c_(c), name_(name), o_(o), units_(c.size()) {}

  Result<wire::Manifest> Run(int fd, const ProgressSink& progress);

 private:
  Status SendSegment(const codec::SliceHeader& base,
                     const std::vector<std::span<const uint8_t>>& payloads);
  Status Pump(size_t max_in_flight);
  Status CheckQuorum() const;
  void Abort();
  Status ChooseRevision();
  Status StoreSegments(int fd, const ProgressSink& progress);
  Status TooManySegments() const;
  Status Publish(const wire::Manifest& m);
  void ReleaseLeftOut();

  net::Cluster& c_;
  std::string name_;
  PutOptions o_;
  UnitSet units_;
  std::deque<InFlight> flight_;
  std::unordered_map<uint64_t, std::pair<size_t, uint32_t>> ids_;  // id -> (unit, seg)
  uint64_t rev_ = 0;
  uint64_t max_segs_ = 0;  // the most segments a manifest holds the digests of
  uint64_t total_ = 0;     // bytes stored
  uint32_t segs_ = 0;      // segments stored
  std::string hashes_;     // every slice's digest, for the manifest (client/integrity.h)
};

Status Writer::CheckQuorum() const {
  if (units_.count() >= o_.t.w) return Status::Ok();
  return Decided(Status::Unavailable("put " + name_ + ": only " + std::to_string(units_.count()) +
                                     " units can store it, the write threshold is w=" +
                                     std::to_string(o_.t.w) + " (" + units_.Reasons() + ")"),
                 units_.forbidden(), c_.size(), o_.t.w);
}

Status Writer::SendSegment(const codec::SliceHeader& base,
                           const std::vector<std::span<const uint8_t>>& payloads) {
  InFlight f{base.seg, {}, net::Clock::now() + c_.timeout()};
  for (size_t u = 0; u < c_.size(); ++u) {
    if (!units_.alive(u)) continue;
    wire::Request req;
    req.op = wire::Op::kPutSlice;
    req.slice = base;
    req.slice->idx = static_cast<uint32_t>(u);
    req.slice->crc = codec::ComputeSliceCrc(*req.slice, payloads[u]);
    req.token = o_.token;
    req.pack = o_.pack;
    auto id = c_.Send(u, req, payloads[u]);
    if (!id.ok()) {
      units_.Drop(u, id.status().message());
      continue;
    }
    ids_[*id] = {u, base.seg};
    f.waiting.insert(u);
  }
  flight_.push_back(std::move(f));
  return CheckQuorum();
}

// Waits for replies until at most `max_in_flight` segments are unacknowledged.
Status Writer::Pump(size_t max_in_flight) {
  while (flight_.size() > max_in_flight) {
    InFlight& oldest = flight_.front();
    for (auto it = oldest.waiting.begin(); it != oldest.waiting.end();) {
      it = units_.alive(*it) ? std::next(it) : oldest.waiting.erase(it);
    }
    if (oldest.waiting.empty()) {
      flight_.pop_front();
      continue;
    }
    auto resp = c_.Receive(oldest.deadline);
    if (!resp) {
      for (size_t u : oldest.waiting) {
        units_.Drop(u, c_.Describe(u) + ": no reply within " +
                           std::to_string(c_.timeout().count()) + " ms");
      }
      DSTK_RETURN_IF_ERROR(CheckQuorum());
      continue;
    }
    auto id = ids_.find(resp->reply.id);
    if (id == ids_.end()) continue;
    const auto [unit, seg] = id->second;
    ids_.erase(id);
    if (resp->reply.status == wire::ReplyStatus::kFenced) {
      return Status::Fenced("put " + name_ + ": " + c_.Describe(unit) + ": " + resp->reply.error);
    }
    if (!resp->reply.ok()) {
      units_.Drop(unit,
                  c_.Describe(unit) + ": " + wire::ReplyStatusName(resp->reply.status) + ": " +
                      resp->reply.error,
                  /*refused=*/true, resp->reply.status == wire::ReplyStatus::kForbidden);
      DSTK_RETURN_IF_ERROR(CheckQuorum());
      continue;
    }
    for (auto& f : flight_) {
      if (f.seg == seg) f.waiting.erase(unit);
    }
  }
  return Status::Ok();
}

void Writer::Abort() {
  // Best effort: a unit we cannot reach keeps a pending revision that no manifest names and
  // that the next successful put of this name removes.
  wire::Request del;
  del.op = wire::Op::kDelSlice;
  del.name = name_;
  del.rev = rev_;
  c_.CallEach(del, units_.Alive());
}

// One stat round first: it finds the revision to go past and which units answer at all, so
// that a put to a network too small to hold it fails before it reads any input. It waits for
// max(n-w+1, w) answers and then a short grace, not for a dead unit's whole timeout (Locate); a
// unit silent that long is left out of this put like a dead one (repair puts its slices back).
Status Writer::ChooseRevision() {
  if (o_.fresh) {
    rev_ = wire::NewRevision(0);
    return Status::Ok();
  }
  Location loc = Locate(c_, name_, false, false, WriterEnough(c_.size(), o_.t.w));
  DSTK_RETURN_IF_ERROR(CheckOneUnitEach(c_, loc));
  for (size_t u = 0; u < c_.size(); ++u) {
    if (loc.units[u].answered) continue;
    units_.Drop(u,
                loc.units[u].skipped ? c_.Describe(u) + ": no reply within " +
                                           std::to_string(loc.grace.count()) + " ms"
                                     : loc.units[u].error.message(),
                false, loc.units[u].error.code() == Code::kForbidden);
  }
  DSTK_RETURN_IF_ERROR(CheckQuorum());
  rev_ = wire::NewRevision(loc.manifest ? loc.manifest->rev + 1 : 0);
  return Status::Ok();
}

Status Writer::TooManySegments() const {
  return Status::Limit("put " + name_ + ": more than " + std::to_string(max_segs_) +
                       " segments of " + std::to_string(o_.segment_size) +
                       " bytes, the most one manifest holds the digests of: use a larger "
                       "--segment-size");
}

// Reads, encodes, hashes and sends every segment, keeping o_.window segments in flight, and
// waits until the units acknowledged them all.
Status Writer::StoreSegments(int fd, const ProgressSink& progress) {
  auto coder = codec::ErasureCoder::Create(static_cast<int>(o_.t.k), static_cast<int>(c_.size()));
  if (!coder.ok()) return coder.status();
  codec::SegmentEncoder encoder(*coder);

  uint64_t known_size = codec::kUnknownSize;
  uint32_t known_segs = codec::kUnknownCount;
  max_segs_ = MaxHashedSegments(static_cast<uint32_t>(c_.size()));
  if (const uint64_t len = KnownLength(fd); len != kUnknownLength) {
    known_size = len;
    const uint64_t segs =
        std::max<uint64_t>(1, (known_size + o_.segment_size - 1) / o_.segment_size);
    if (segs > max_segs_) return TooManySegments();
    known_segs = static_cast<uint32_t>(segs);
  }
  std::optional<WorkCrew> crew;
  SegmentReader reader(fd, o_.segment_size);
  while (!reader.done()) {
    auto segment = reader.Next();
    if (!segment.ok()) return segment.status();
    codec::SliceHeader h;
    h.name = name_;
    h.rev = rev_;
    h.seg = segs_;
    h.segs = known_segs;
    h.k = o_.t.k;
    h.n = static_cast<uint32_t>(c_.size());
    h.size = known_size;
    h.seglen = static_cast<uint32_t>(segment->size());
    h.segsize = o_.segment_size;
    if (segs_ >= max_segs_) return TooManySegments();
    const auto& payloads = encoder.Encode(*segment);
    // More than one segment: the slices are hashed on two threads (the hashing is as much
    // work as the rest of the put on the client).
    if (segs_ == 1) crew.emplace(std::min(2u, WorkCrew::AvailableCores()));
    AppendSliceHashes(payloads, hashes_, crew ? &*crew : nullptr);
    DSTK_RETURN_IF_ERROR(SendSegment(h, payloads));
    DSTK_RETURN_IF_ERROR(Pump(o_.window - 1));
    total_ += segment->size();
    progress(total_, known_size == codec::kUnknownSize ? 0 : known_size);
    ++segs_;
  }
  DSTK_RETURN_IF_ERROR(Pump(0));
  if (known_size != codec::kUnknownSize && total_ != known_size) {
    return Status::IoError("input changed size while being read");
  }
  return Status::Ok();
}

// Publishes `m` on every unit still in the put; ok when w units took it.
Status Writer::Publish(const wire::Manifest& m) {
  wire::Request pub;
  pub.op = wire::Op::kPublish;
  pub.name = name_;
  pub.manifest = m;
  const std::vector<size_t> targets = units_.Alive();
  auto outcomes = c_.CallEach(pub, targets);
  for (size_t i = 0; i < targets.size(); ++i) {
    const auto& o = outcomes[i];
    if (o.status.ok() && o.response->reply.status == wire::ReplyStatus::kFenced) {
      return Status::Fenced("put " + name_ + ": " + c_.Describe(targets[i]) + ": " +
                            o.response->reply.error);
    }
    if (!o.status.ok()) {
      units_.Drop(targets[i], o.status.message());
    } else if (!o.response->reply.ok() &&
               o.response->reply.status != wire::ReplyStatus::kConflict) {
      // conflict: a newer revision is committed there already; ours is superseded, not lost.
      // A fenced write is refused outright: its writer lost the claim.
      units_.Drop(targets[i],
                  c_.Describe(targets[i]) + ": " + wire::ReplyStatusName(o.response->reply.status) +
                      ": " + o.response->reply.error,
                  /*refused=*/true, o.response->reply.status == wire::ReplyStatus::kForbidden);
    }
  }
  Status st = CheckQuorum();
  if (st.ok()) return st;
  return Status(st.code() == Code::kForbidden ? Code::kForbidden : Code::kUnavailable,
                "put " + name_ +
                    ": the new revision was stored but published on too few units; it may or "
                    "may not be visible: " +
                    st.message());
}

// Reports the units left out of the put. One that refused part of it (a full disk) holds the
// rest unpublished: it is told to drop them, without waiting (a later put of the name would
// also remove them).
void Writer::ReleaseLeftOut() {
  for (size_t u = 0; u < c_.size(); ++u) {
    if (units_.alive(u)) continue;
    if (o_.left_out) o_.left_out(u, units_.why(u));
    if (units_.refused(u)) {
      wire::Request del;
      del.op = wire::Op::kDelSlice;
      del.name = name_;
      del.rev = rev_;
      if (auto id = c_.Send(u, del); id.ok()) c_.Forget(*id);
    }
  }
}

Result<wire::Manifest> Writer::Run(int fd, const ProgressSink& progress) {
  DSTK_RETURN_IF_ERROR(ChooseRevision());
  if (Status st = StoreSegments(fd, progress); !st.ok()) {
    Abort();
    return st;
  }
  wire::Manifest m;
  m.rev = rev_;
  m.size = total_;
  m.segs = segs_;
  m.segsize = o_.segment_size;
  m.k = o_.t.k;
  m.n = static_cast<uint32_t>(c_.size());
  m.token = o_.token;
  m.placement = PlacementIds(c_);
  SealHashes(m, std::move(hashes_));
  DSTK_RETURN_IF_ERROR(Publish(m));
  ReleaseLeftOut();
  return m;
}

}  // namespace

Result<wire::Manifest> PutObject(net::Cluster& cluster, const std::string& name, int fd,
                                 const PutOptions& options, const ProgressSink& progress) {
  return Writer(cluster, name, options).Run(fd, OrIgnore(progress));
}

}  // namespace dstk::client
