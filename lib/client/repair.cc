#include "client/repair.h"

#include <unistd.h>

#include <cstdlib>
#include <unordered_map>

#include "client/locate.h"
#include "client/object_io.h"
#include "codec/segment.h"
#include "util/segment_reader.h"

namespace dstk::client {

Result<RepairReport> RepairObject(net::Cluster& cl, const std::string& name, const Thresholds& t) {
  RepairReport report;
  Location loc = Locate(cl, name, true);  // verify: units re-check every slice's CRC
  if (!loc.manifest || loc.manifest->tomb) {
    if (!AbsenceIsCertain(loc.answered, cl.size(), t.w)) {
      return Status::Unavailable("repair " + name + ": too few units answered (" +
                                 loc.Failures(cl) + ")");
    }
    return Status::NotFound("no object " + name);
  }
  const wire::Manifest m = *loc.manifest;
  std::vector<size_t> need;
  for (size_t u = 0; u < cl.size(); ++u) {
    if (loc.units[u].answered && loc.units[u].SlicesOf(m.rev) < m.segs) need.push_back(u);
  }
  if (need.empty()) return report;

  // Decode once into an unlinked temp file, so memory stays flat whatever the size.
  char path[] = "/tmp/dstk-repair.XXXXXX";
  const int fd = ::mkstemp(path);
  if (fd < 0) return Status::IoError("repair: cannot create a temp file");
  ::unlink(path);
  GetOptions g;
  g.t = t;
  auto got = GetObject(cl, name, fd, g);
  if (!got.ok() || got->rev != m.rev || ::lseek(fd, 0, SEEK_SET) != 0) {
    ::close(fd);
    return got.ok() ? Status::Conflict("repair " + name + ": the object changed meanwhile")
                    : got.status();
  }
  report.bytes = got->size;

  auto coder = codec::ErasureCoder::Create(static_cast<int>(m.k), static_cast<int>(m.n));
  if (!coder.ok() || m.n != cl.size()) {
    ::close(fd);
    return Status::Invalid("repair " + name +
                           ": the object was written with n=" + std::to_string(m.n) +
                           " but the node list has " + std::to_string(cl.size()) + " units");
  }
  codec::SegmentEncoder encoder(*coder);
  SegmentReader reader(fd, m.segsize);
  std::vector<bool> ok(cl.size(), true);
  for (uint32_t seg = 0; !reader.done(); ++seg) {
    auto segment = reader.Next();
    if (!segment.ok()) {
      ::close(fd);
      return segment.status();
    }
    const auto& payloads = encoder.Encode(*segment);
    std::unordered_map<uint64_t, size_t> sent;
    for (size_t u : need) {
      if (!ok[u]) continue;
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
      if (auto id = cl.Send(u, r, payloads[u]); id.ok())
        sent[*id] = u;
      else
        ok[u] = false;
    }
    const auto deadline = net::Clock::now() + cl.timeout();
    while (!sent.empty()) {
      auto resp = cl.Receive(deadline);
      if (!resp) break;
      auto it = sent.find(resp->reply.id);
      if (it == sent.end()) continue;
      if (!resp->reply.ok()) ok[it->second] = false;
      sent.erase(it);
    }
    for (const auto& [id, u] : sent) {
      cl.Forget(id);
      ok[u] = false;
    }
  }
  ::close(fd);
  std::vector<size_t> publish;
  for (size_t u : need) {
    if (ok[u]) publish.push_back(u);
  }
  wire::Request pub;
  pub.op = wire::Op::kPublish;
  pub.name = name;
  pub.manifest = m;
  auto outcomes = cl.CallEach(pub, publish);
  for (size_t i = 0; i < publish.size(); ++i) {
    if (!outcomes[i].status.ok() || !outcomes[i].response->reply.ok()) ok[publish[i]] = false;
  }
  for (size_t u : need) (ok[u] ? report.units_repaired : report.units_failed)++;
  return report;
}

}  // namespace dstk::client
