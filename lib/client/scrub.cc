#include "client/scrub.h"

#include <unordered_map>

#include "client/integrity.h"
#include "codec/slice.h"

namespace dstk::client {

std::vector<ScrubResult> ScrubObject(net::Cluster& cluster, const std::string& name,
                                     const wire::Manifest& m, const std::vector<size_t>& units) {
  std::vector<ScrubResult> out(cluster.size());
  for (uint32_t seg = 0; seg < m.segs; ++seg) {
    std::unordered_map<uint64_t, size_t> asked;
    for (size_t u : units) {
      wire::Request req;
      req.op = wire::Op::kGetSlice;
      req.name = name;
      req.rev = m.rev;
      req.seg = seg;
      auto id = cluster.Send(u, req);
      if (id.ok())
        asked[*id] = u;
      else
        ++out[u].lost;
    }
    const auto deadline = net::Clock::now() + cluster.timeout();
    while (!asked.empty()) {
      auto resp = cluster.Receive(deadline);
      if (!resp) break;
      auto it = asked.find(resp->reply.id);
      if (it == asked.end()) continue;
      const size_t u = it->second;
      asked.erase(it);
      const wire::Reply& r = resp->reply;
      if (!r.ok() || !r.slice) {
        ++(r.status == wire::ReplyStatus::kCorrupt ? out[u].bad : out[u].lost);
        continue;
      }
      const codec::SliceHeader& h = *r.slice;
      if (!codec::VerifySlice(h, resp->Payload()).ok()) {
        ++out[u].bad;
      } else if (h.name != name || h.rev != m.rev || h.seg != seg || h.idx != u || h.k != m.k ||
                 h.n != m.n || !CheckSliceHash(m, seg, h.idx, resp->Payload()).ok()) {
        ++out[u].lied;
      } else {
        ++out[u].good;
      }
    }
    for (const auto& [id, u] : asked) {
      cluster.Forget(id);
      ++out[u].lost;
    }
  }
  return out;
}

}  // namespace dstk::client
