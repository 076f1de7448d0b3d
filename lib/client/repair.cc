#include "client/repair.h"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>

#include "client/integrity.h"
#include "client/locate.h"
#include "client/object_io.h"
#include "client/placement.h"
#include "client/scrub.h"
#include "codec/segment.h"
#include "net/gather.h"
#include "util/segment_reader.h"
#include "util/temp_file.h"

namespace dstk::client {
namespace {

std::string ReplyReason(const net::Cluster& cl, size_t unit, const wire::Reply& reply) {
  return cl.Describe(unit) + ": " + wire::ReplyStatusName(reply.status) +
         (reply.error.empty() ? "" : ": " + reply.error);
}

// How each unit fared in a repair: still fine, or why not.
struct UnitOutcomes {
  explicit UnitOutcomes(const net::Cluster& c)
      : cl(c), ok(c.size(), true), why(c.size()), refused(c.size(), false) {}
  void Failed(size_t u, const std::string& reason) {
    if (!ok[u]) return;
    ok[u] = false;
    why[u] = reason;
  }
  // It answered, with an error (a full disk, ...): it may hold part of the revision.
  void Refused(size_t u, const wire::Reply& reply) {
    Failed(u, ReplyReason(cl, u, reply));
    refused[u] = true;
  }
  const net::Cluster& cl;
  std::vector<bool> ok;
  std::vector<std::string> why;
  std::vector<bool> refused;
};

// Re-encodes the decoded object from `reader` and sends the `need` units their slices, one
// segment at a time; a unit that fails a segment is left out of the rest.
Status SendSlices(net::Cluster& cl, const std::string& name, const wire::Manifest& m,
                  SegmentReader& reader, codec::SegmentEncoder& encoder,
                  const std::vector<size_t>& need, UnitOutcomes& out) {
  for (uint32_t seg = 0; !reader.done(); ++seg) {
    auto segment = reader.Next();
    if (!segment.ok()) return segment.status();
    const auto& payloads = encoder.Encode(*segment);
    std::vector<size_t> to;
    for (size_t u : need) {
      if (out.ok[u]) to.push_back(u);
    }
    const net::Gathered round = net::Gather(cl, to, [&](size_t u) -> Result<uint64_t> {
      wire::Request r;
      r.op = wire::Op::kPutSlice;
      codec::SliceHeader h;
      h.name = name;
      h.rev = m.rev;
      h.seg = seg;
      h.segs = m.segs;
      h.idx = static_cast<uint32_t>(u);
      h.k = m.k;
      h.n = m.n;
      h.size = m.size;
      h.seglen = static_cast<uint32_t>(segment->size());
      h.segsize = m.segsize;
      h.crc = codec::ComputeSliceCrc(h, payloads[u]);
      r.slice = h;
      r.token = m.token;
      return cl.Send(u, r, payloads[u]);
    });
    for (const auto& [u, status] : round.unsent) out.Failed(u, status.message());
    for (const auto& resp : round.replies) {
      if (!resp.reply.ok()) out.Refused(resp.unit, resp.reply);
    }
    for (size_t u : round.silent) {
      out.Failed(
          u, cl.Describe(u) + ": no reply within " + std::to_string(cl.timeout().count()) + " ms");
    }
  }
  return Status::Ok();
}

// Publishes the revision on the units that took every slice and on those that only lacked the
// new manifest, and counts the repaired and the failed.
void PublishAndClean(net::Cluster& cl, const std::string& name, const wire::Manifest& m,
                     const Location& loc, const std::vector<size_t>& need,
                     const std::vector<size_t>& republish, UnitOutcomes& out,
                     RepairReport& report) {
  std::vector<size_t> publish = republish;
  for (size_t u : need) {
    if (out.ok[u]) publish.push_back(u);
  }
  wire::Request pub;
  pub.op = wire::Op::kPublish;
  pub.name = name;
  pub.manifest = m;
  auto outcomes = cl.CallEach(pub, publish);
  for (size_t i = 0; i < publish.size(); ++i) {
    if (!outcomes[i].status.ok())
      out.Failed(publish[i], outcomes[i].status.message());
    else if (!outcomes[i].response->reply.ok())
      out.Refused(publish[i], outcomes[i].response->reply);
    else
      report.published.push_back(publish[i]);
  }
  // What a refusing unit took of the revision is unpublished weight (on a full disk, the worst
  // place for it): delete it. A unit that holds the revision committed (it lacked only some
  // slices) refuses the delete, and keeps its good slices. Silent units are not waited for.
  std::vector<size_t> clean;
  for (size_t u : need) {
    if (out.ok[u]) {
      ++report.units_repaired;
      report.repaired.push_back(u);
    } else {
      ++report.units_failed;
      report.failures.push_back(out.why[u]);
      if (out.refused[u] && (!loc.units[u].committed || loc.units[u].committed->rev != m.rev))
        clean.push_back(u);
    }
  }
  wire::Request del;
  del.op = wire::Op::kDelSlice;
  del.name = name;
  del.rev = m.rev;
  cl.CallEach(del, clean);
}

// The units a repair writes to: `need` (slices missing, or made up: a unit that lies passes
// its own verify, which checks CRCs only, but not the digests) and `republish` (every slice,
// but an older placement: they only need the new manifest).
void UnitsToRepair(net::Cluster& cl, const std::string& name, const wire::Manifest& m,
                   const Location& loc, bool new_manifest, const RepairPlan& plan,
                   std::vector<size_t>& need, std::vector<size_t>& republish,
                   RepairReport& report) {
  for (size_t u = 0; u < cl.size(); ++u) {
    if (!loc.units[u].answered) continue;
    if (loc.units[u].SlicesOf(m.rev) < m.segs) {
      need.push_back(u);
    } else if (new_manifest && (!loc.units[u].committed || loc.units[u].committed->pgen < m.pgen)) {
      republish.push_back(u);
    }
  }
  // The units' verify checks CRCs only; a unit that lies passes it. The digests catch it.
  if (m.hashed() && plan.read_from == nullptr) {
    const std::vector<size_t> holders = loc.Holders();
    const std::vector<ScrubResult> scrub = ScrubObject(cl, name, m, holders);
    for (size_t u : holders) {
      if (scrub[u].lied == 0) continue;
      report.notes.push_back(cl.Describe(u) + " served " + std::to_string(scrub[u].lied) +
                             " slices that do not match the manifest's digests");
      if (std::find(need.begin(), need.end(), u) == need.end()) need.push_back(u);
    }
  }
}

}  // namespace

Result<RepairReport> RepairObject(net::Cluster& cl, const std::string& name, const Thresholds& t,
                                  const RepairPlan& plan) {
  RepairReport report;
  Location loc = Locate(cl, name, plan.verify);  // verify: units re-check every slice's CRC
  DSTK_RETURN_IF_ERROR(CheckOneUnitEach(cl, loc));
  TrustLocation(loc, TrustCopies(t));  // a revision only a liar reports is not repaired
  for (size_t u : loc.unconfirmed) {
    report.notes.push_back(cl.Describe(u) + " reports a revision too few units confirm");
  }
  if (!plan.publish && (!loc.manifest || loc.manifest->tomb)) {
    if (!AbsenceIsCertain(loc.answered, cl.size(), t.w)) {
      return Status::Unavailable("repair " + name + ": too few units answered (" +
                                 loc.Failures(cl) + ")");
    }
    return Status::NotFound("no object " + name);
  }
  wire::Manifest m = plan.publish ? *plan.publish : *loc.manifest;
  // A replaced disk holds a pillar under a new id: the manifest is brought up to date (a new
  // placement generation) along with the slices.
  const std::vector<std::string> ids = PlacementIds(cl);
  const bool new_manifest =
      plan.publish || (!m.placement.empty() && !ids.empty() && m.placement != ids);
  if (!plan.publish && new_manifest) {
    m.placement = ids;
    ++m.pgen;
  }
  std::vector<size_t> need;       // units missing slices, or holding made-up ones
  std::vector<size_t> republish;  // units that hold every slice but an older placement
  UnitsToRepair(cl, name, m, loc, new_manifest, plan, need, republish, report);
  if (need.empty() && republish.empty()) return report;

  // Decode once into an unlinked temp file, so memory stays flat whatever the size. It goes
  // in $TMPDIR (TempDir()): the whole object lands there, and a fixed /tmp is often a small
  // tmpfs where a large repair would fail with ENOSPC the operator could not redirect.
  auto temp = OpenUnlinkedTempFile("dstk-repair");
  if (!temp.ok()) return temp.status().With("repair");
  UniqueFd tmp = std::move(temp).value();
  const int fd = tmp.get();
  GetOptions g;
  g.t = t;
  ReadReport read;
  g.report = &read;
  auto got = GetObject(plan.read_from != nullptr ? *plan.read_from : cl, name, fd, g);
  for (const auto& note : read.notes) report.notes.push_back(note);
  // A unit that served made-up slices is damaged like one that lost them: it gets the
  // revision again (if it lies on purpose that will not help, but stat keeps naming it).
  if (plan.read_from == nullptr) {
    for (size_t u : read.lied) {
      if (std::find(need.begin(), need.end(), u) == need.end()) need.push_back(u);
    }
  }
  if (!got.ok() || got->rev != m.rev || ::lseek(fd, 0, SEEK_SET) != 0) {
    return got.ok() ? Status::Conflict("repair " + name + ": the object changed meanwhile")
                    : got.status();
  }
  report.bytes = got->size;

  auto coder = codec::ErasureCoder::Create(static_cast<int>(m.k), static_cast<int>(m.n));
  if (!coder.ok() || m.n != cl.size()) {
    return Status::Invalid("repair " + name +
                           ": the object was written with n=" + std::to_string(m.n) +
                           " but the node list has " + std::to_string(cl.size()) + " units");
  }
  codec::SegmentEncoder encoder(*coder);
  SegmentReader reader(fd, m.segsize);
  UnitOutcomes out(cl);
  DSTK_RETURN_IF_ERROR(SendSlices(cl, name, m, reader, encoder, need, out));
  tmp.reset();  // re-encoded: its space is freed before the publish round, not after
  PublishAndClean(cl, name, m, loc, need, republish, out, report);
  return report;
}

}  // namespace dstk::client
