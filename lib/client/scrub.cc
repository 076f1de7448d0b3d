#include "client/scrub.h"

#include "client/integrity.h"
#include "codec/slice.h"
#include "net/gather.h"

namespace dstk::client {

std::vector<ScrubResult> ScrubObject(net::Cluster& cluster, const std::string& name,
                                     const wire::Manifest& m, const std::vector<size_t>& units) {
  std::vector<ScrubResult> out(cluster.size());
  for (uint32_t seg = 0; seg < m.segs; ++seg) {
    wire::Request req;
    req.op = wire::Op::kGetSlice;
    req.name = name;
    req.rev = m.rev;
    req.seg = seg;
    // Each slice is checked as it arrives and not kept: one payload in memory at a time.
    net::GatherOptions g;
    g.keep = false;
    g.on_reply = [&](const net::Response& resp) {
      const size_t u = resp.unit;
      const wire::Reply& r = resp.reply;
      if (!r.ok() || !r.slice) {
        ++(r.status == wire::ReplyStatus::kCorrupt ? out[u].bad : out[u].lost);
        return;
      }
      const codec::SliceHeader& h = *r.slice;
      if (!codec::VerifySlice(h, resp.Payload()).ok()) {
        ++out[u].bad;
      } else if (h.name != name || h.rev != m.rev || h.seg != seg || h.idx != u || h.k != m.k ||
                 h.n != m.n || !CheckSliceHash(m, seg, h.idx, resp.Payload()).ok()) {
        ++out[u].lied;
      } else {
        ++out[u].good;
      }
    };
    const net::Gathered round = net::Gather(cluster, units, req, g);
    for (const auto& [u, why] : round.unsent) ++out[u].lost;
    for (size_t u : round.silent) ++out[u].lost;
  }
  return out;
}

}  // namespace dstk::client
