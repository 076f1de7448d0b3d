// GetObject: locate the revision, read each segment from k units, decode, write in order.
#include <algorithm>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <unordered_map>

#include "client/integrity.h"
#include "client/object_io.h"
#include "client/refusals.h"
#include "codec/segment.h"
#include "util/fd_io.h"
#include "util/work_crew.h"

namespace dstk::client {
namespace {

// One segment being gathered.
struct Gather {
  uint32_t seg = 0;
  std::vector<size_t> tried;               // units asked (or that failed) for it
  std::map<uint32_t, net::Response> good;  // pillar index -> slice that passed its CRC
  std::set<uint32_t> digest_ok;            // pillars of `good` whose digest was checked too
  size_t asking = 0;                       // requests outstanding
  std::vector<std::string> failures;
  bool corrupt_seen = false;  // a slice failed its CRC: the data on some unit is damaged
  bool lie_seen = false;      // a slice failed its digest: some unit made it up
  size_t forbidden = 0;       // units that refused the read as forbidden
};

class Reader {
 public:
  Reader(net::Cluster& c, const std::string& name, const GetOptions& o)
      : c_(c), name_(name), o_(o) {}
  Result<wire::Manifest> Run(int fd, const ProgressSink& progress);

 private:
  Status Ask(Gather& g);
  Status Seed(Gather& g);
  Status Collect(Gather& g, net::Response&& r);
  Status CheckDigests(Gather& g);
  Status DecodeAndWrite(const codec::ErasureCoder& coder, const Gather& g, int fd,
                        std::vector<uint8_t>& segment);
  Status GiveUpLate();
  Result<Location> Trusted();
  std::string Names(const std::vector<size_t>& units) const;
  uint32_t SegLen(uint32_t seg) const {
    return seg + 1 < m_.segs ? m_.segsize
                             : static_cast<uint32_t>(m_.size - uint64_t{seg} * m_.segsize);
  }

  net::Cluster& c_;
  std::string name_;
  GetOptions o_;
  wire::Manifest m_;
  std::vector<size_t> holders_;
  std::vector<bool> down_;
  std::vector<std::shared_ptr<const net::Response>> first_;  // by unit: Locate's first slices
  std::deque<Gather> flight_;
  struct Asked {
    uint32_t seg;
    size_t unit;
    net::Clock::time_point deadline;
  };
  std::unordered_map<uint64_t, Asked> ids_;
  // Digests are checked on a second thread as well when there is more than one segment: a
  // reader hashes every byte it outputs, as fast as the rest of the read together.
  std::optional<WorkCrew> crew_;
};

// Sends requests until k are outstanding-or-good for this segment, from holders not yet tried.
Status Reader::Ask(Gather& g) {
  for (size_t u : holders_) {
    if (g.good.size() + g.asking >= m_.k) break;
    if (down_[u] || std::find(g.tried.begin(), g.tried.end(), u) != g.tried.end()) continue;
    g.tried.push_back(u);
    wire::Request req;
    req.op = wire::Op::kGetSlice;
    req.name = name_;
    req.rev = m_.rev;
    req.seg = g.seg;
    auto id = c_.Send(u, req);
    if (!id.ok()) {
      g.failures.push_back(id.status().message());
      continue;
    }
    ids_[*id] = {g.seg, u, net::Clock::now() + c_.timeout()};
    ++g.asking;
  }
  if (g.good.size() + g.asking >= m_.k) return Status::Ok();
  std::string why;
  for (const auto& f : g.failures) why += (why.empty() ? "" : "; ") + f;
  const std::string msg = "get " + name_ + ": segment " + std::to_string(g.seg) + " has only " +
                          std::to_string(g.good.size()) +
                          " good slices, need k=" + std::to_string(m_.k) + " (" + why + ")";
  // Made-up slices are a unit's doing, not damage to the data: the object is intact on the
  // honest units, there are only too few of them up.
  if (g.lie_seen) return Status::Unavailable(msg);
  if (g.corrupt_seen) return Status::Corruption(msg);
  return Decided(Status::Unavailable(msg), g.forbidden, holders_.size(), m_.k);
}

// Takes the first slices the units sent with their stat (Locate's UnitView::first_slice) for
// segment 0, as if asked for with get_slice: they pass the same checks in Collect. Only slices
// of the revision being read are taken; a unit whose committed revision is another (one the
// manifest rule passed over) is asked again, like any holder.
Status Reader::Seed(Gather& g) {
  for (size_t u : holders_) {
    const auto& first = first_[u];
    if (!first || !first->reply.slice || first->reply.slice->rev != m_.rev ||
        first->reply.slice->seg != g.seg ||
        std::find(g.tried.begin(), g.tried.end(), u) != g.tried.end()) {
      continue;
    }
    g.tried.push_back(u);
    net::Response r;
    r.unit = u;
    r.reply = first->reply;
    r.payload = zmq::message_t(first->payload.data(), first->payload.size());
    DSTK_RETURN_IF_ERROR(Collect(g, std::move(r)));
  }
  return Status::Ok();
}

Status Reader::Collect(Gather& g, net::Response&& r) {
  const std::string who = c_.Describe(r.unit);
  const wire::Reply& rep = r.reply;
  Status bad;
  if (!rep.ok()) {
    g.forbidden += rep.status == wire::ReplyStatus::kForbidden ? 1 : 0;
    bad = Status(rep.status == wire::ReplyStatus::kCorrupt ? Code::kCorruption : Code::kUnavailable,
                 who + ": " + wire::ReplyStatusName(rep.status) + ": " + rep.error);
  } else if (!rep.slice) {
    bad = Status::Corruption(who + ": reply lacks the slice header");
  } else {
    const codec::SliceHeader& h = *rep.slice;
    // With digests, the CRC is checked only when the digest fails (CheckDigests): the digest
    // catches everything the CRC would, and hashing alone is half the cost of hashing plus CRC.
    Status v = m_.hashed() ? codec::CheckSliceFields(h, r.Payload().size())
                           : codec::VerifySlice(h, r.Payload());
    if (!v.ok()) {
      bad = Status::Corruption(who + ": " + v.message());
    } else if (h.name != name_ || h.rev != m_.rev || h.seg != g.seg || h.k != m_.k || h.n != m_.n ||
               h.segsize != m_.segsize || h.seglen != SegLen(g.seg)) {
      bad =
          Status::Corruption(who + ": slice does not belong to revision " + std::to_string(m_.rev));
    } else if (g.good.count(h.idx)) {
      bad = Status::Corruption(who + ": duplicate pillar index " + std::to_string(h.idx));
    }
  }
  if (!bad.ok()) {
    g.corrupt_seen |= bad.code() == Code::kCorruption;
    g.failures.push_back(bad.message());
    return Ask(g);
  }
  const uint32_t idx = rep.slice->idx;
  g.good.emplace(idx, std::move(r));
  return Status::Ok();
}

// Checks the digests of the k slices the segment will be decoded from (client/integrity.h),
// side by side on the crew. A slice that fails its digest is dropped and another holder asked.
// Its CRC tells why: a wrong CRC is damage (bit rot, a torn file), and the unit is still asked
// for other segments; a right CRC with a wrong digest was made up by the unit, which is read
// around from now on.
Status Reader::CheckDigests(Gather& g) {
  if (!m_.hashed()) return Status::Ok();
  std::vector<std::map<uint32_t, net::Response>::iterator> todo;
  size_t taken = 0;
  for (auto it = g.good.begin(); it != g.good.end() && taken < m_.k; ++it, ++taken) {
    if (!g.digest_ok.count(it->first)) todo.push_back(it);
  }
  std::vector<char> ok(todo.size(), 0);
  crew_->Run(todo.size(), [&](size_t i) {
    ok[i] = CheckSliceHash(m_, g.seg, todo[i]->first, todo[i]->second.Payload()).ok() ? 1 : 0;
  });
  bool any_bad = false;
  for (size_t i = 0; i < todo.size(); ++i) {
    const uint32_t idx = todo[i]->first;
    if (ok[i]) {
      g.digest_ok.insert(idx);
      continue;
    }
    any_bad = true;
    const size_t unit = todo[i]->second.unit;
    const net::Response& r = todo[i]->second;
    if (!codec::VerifySlice(*r.reply.slice, r.Payload()).ok()) {
      g.failures.push_back(c_.Describe(unit) + ": slice CRC mismatch");
      g.corrupt_seen = true;
      g.good.erase(todo[i]);
      continue;
    }
    const std::string why = c_.Describe(unit) + " lies: slice " + std::to_string(idx) +
                            " of segment " + std::to_string(g.seg) +
                            " does not match the manifest's digest";
    g.good.erase(todo[i]);
    g.lie_seen = true;
    g.failures.push_back(why);
    down_[unit] = true;
    if (o_.report != nullptr) {
      o_.report->lied.push_back(unit);
      o_.report->notes.push_back(why + "; reading around it");
    }
  }
  return any_bad ? Ask(g) : Status::Ok();
}

std::string Reader::Names(const std::vector<size_t>& units) const {
  std::string out;
  for (size_t u : units) out += (out.empty() ? "" : ", ") + c_.Describe(u);
  return out;
}

// The location with the manifest rule applied (client/integrity.h): the newest revision enough
// units vouch for. A Locate that stopped early heard too few units to overrule one: it is done
// again in full before a revision is passed over.
Result<Location> Reader::Trusted() {
  Location loc = o_.located != nullptr ? *o_.located : Locate(c_, name_, false, /*early=*/true);
  const uint32_t copies = TrustCopies(o_.t);
  Location full = loc;
  TrustLocation(full, copies);
  if (!full.unconfirmed.empty() && loc.AnySkipped()) {
    full = Locate(c_, name_, false, /*early=*/false);
    TrustLocation(full, copies);
  }
  if (o_.report != nullptr && !full.unconfirmed.empty()) {
    o_.report->unconfirmed = full.unconfirmed;
    for (size_t u : full.unconfirmed) {
      const auto& m = full.units[u].committed;
      if (m && (!o_.report->passed_over || o_.report->passed_over->rev < m->rev)) {
        o_.report->passed_over = m;
      }
    }
  }
  if (o_.report != nullptr) {
    for (size_t u : full.unconfirmed) {
      const auto& m = full.units[u].committed;
      std::string what = !m        ? "another version"
                         : m->tomb ? "a removal"
                                   : "revision " + std::to_string(m->rev);
      o_.report->notes.push_back(
          c_.Describe(u) + " reports " + what + " that fewer than " + std::to_string(copies) +
          " units confirm; " +
          (full.manifest && !full.manifest->tomb
               ? "reading revision " + std::to_string(full.manifest->rev) + " instead"
               : std::string("not believed")));
    }
  }
  if (full.manifest && !full.manifest->tomb) return full;
  if (!AbsenceIsCertain(full.answered - full.unconfirmed.size(), c_.size(), o_.t.w)) {
    std::string why = full.Failures(c_);
    if (!full.unconfirmed.empty()) {
      why += std::string(why.empty() ? "" : "; ") + "fewer than " + std::to_string(copies) +
             " units vouch for what " + Names(full.unconfirmed) + " report";
    }
    return Decided(
        Status::Unavailable("get " + name_ + ": only " + std::to_string(full.answered) +
                            " units answered and too few have it; it may be on the others (" + why +
                            ")"),
        full.Forbidden(), c_.size(), c_.size() - o_.t.w + 1);
  }
  return Status::NotFound("no object " + name_);
}

// Decodes the segment `g` from its first k good slices (a copy when they are the data
// pillars: the code is systematic) and writes it to `fd`.
Status Reader::DecodeAndWrite(const codec::ErasureCoder& coder, const Gather& g, int fd,
                              std::vector<uint8_t>& segment) {
  std::vector<int> indices;
  std::vector<std::span<const uint8_t>> payloads;
  for (const auto& [idx, resp] : g.good) {
    if (indices.size() == m_.k) break;
    indices.push_back(static_cast<int>(idx));
    payloads.push_back(resp.Payload());
  }
  DSTK_RETURN_IF_ERROR(codec::DecodeSegment(coder, SegLen(g.seg), indices, payloads, segment));
  return WriteAll(fd, segment).With("get " + name_);
}

// Every request past its deadline is given up, and its unit treated as down from now on; the
// segments that were waiting on them ask other holders.
Status Reader::GiveUpLate() {
  const auto now = net::Clock::now();
  for (auto it = ids_.begin(); it != ids_.end();) {
    if (it->second.deadline > now) {
      ++it;
      continue;
    }
    down_[it->second.unit] = true;
    c_.Forget(it->first);
    for (auto& g : flight_) {
      if (g.seg != it->second.seg) continue;
      --g.asking;
      g.failures.push_back(c_.Describe(it->second.unit) + ": no reply within " +
                           std::to_string(c_.timeout().count()) + " ms");
    }
    it = ids_.erase(it);
  }
  for (auto& g : flight_) DSTK_RETURN_IF_ERROR(Ask(g));
  return Status::Ok();
}

Result<wire::Manifest> Reader::Run(int fd, const ProgressSink& progress) {
  auto trusted = Trusted();
  if (!trusted.ok()) return trusted.status();
  const Location& loc = *trusted;
  m_ = *loc.manifest;
  holders_ = loc.Holders();
  // Units Locate stopped waiting for (early) are asked last, only when the known holders'
  // slices fail: they may hold the revision too.
  for (size_t u = 0; u < c_.size(); ++u) {
    if (loc.units[u].skipped) holders_.push_back(u);
  }
  down_.assign(c_.size(), false);
  first_.assign(c_.size(), nullptr);
  for (size_t u = 0; u < c_.size(); ++u) first_[u] = loc.units[u].first_slice;
  if (holders_.size() < m_.k) {
    std::string failures = loc.Failures(c_);
    return Status::Unavailable(
        "get " + name_ + ": only " + std::to_string(holders_.size()) + " units hold revision " +
        std::to_string(m_.rev) + " (" + (holders_.empty() ? "none" : Names(holders_)) +
        "), need k=" + std::to_string(m_.k) + (failures.empty() ? "" : " (" + failures + ")"));
  }
  crew_.emplace(m_.segs > 1 ? std::min(2u, WorkCrew::AvailableCores()) : 1u);
  auto coder = codec::ErasureCoder::Create(static_cast<int>(m_.k), static_cast<int>(m_.n));
  if (!coder.ok()) return Status::Corruption("manifest: " + coder.status().message());

  uint32_t next_to_ask = 0;
  uint64_t written = 0;
  std::vector<uint8_t> segment;
  while (next_to_ask < m_.segs || !flight_.empty()) {
    while (next_to_ask < m_.segs && flight_.size() < o_.window) {
      flight_.emplace_back();
      flight_.back().seg = next_to_ask++;
      if (flight_.back().seg == 0) DSTK_RETURN_IF_ERROR(Seed(flight_.back()));
      DSTK_RETURN_IF_ERROR(Ask(flight_.back()));
    }
    Gather& head = flight_.front();
    if (head.good.size() >= m_.k) DSTK_RETURN_IF_ERROR(CheckDigests(head));
    if (head.good.size() >= m_.k) {
      DSTK_RETURN_IF_ERROR(DecodeAndWrite(**coder, head, fd, segment));
      written += segment.size();
      progress(written, m_.size);
      flight_.pop_front();
      continue;
    }
    // Wait for the earliest deadline among outstanding requests.
    auto deadline = net::Clock::time_point::max();
    for (const auto& [id, a] : ids_) deadline = std::min(deadline, a.deadline);
    auto resp = c_.Receive(deadline);
    if (!resp) {
      DSTK_RETURN_IF_ERROR(GiveUpLate());
      continue;
    }
    auto it = ids_.find(resp->reply.id);
    if (it == ids_.end()) continue;
    const uint32_t seg = it->second.seg;
    ids_.erase(it);
    for (auto& g : flight_) {
      if (g.seg != seg) continue;
      --g.asking;
      DSTK_RETURN_IF_ERROR(Collect(g, std::move(*resp)));
    }
  }
  if (written != m_.size)
    return Status::Corruption("get " + name_ + ": decoded size differs from the manifest");
  return m_;
}

}  // namespace

Result<wire::Manifest> GetObject(net::Cluster& cluster, const std::string& name, int fd,
                                 const GetOptions& options, const ProgressSink& progress) {
  return Reader(cluster, name, options).Run(fd, OrIgnore(progress));
}

}  // namespace dstk::client
