#include "claim/lease.h"

namespace dstk::claim {
namespace {

Status Round(net::Cluster& c, const Claim& claim, wire::Op op) {
  if (claim.slices.empty()) return Status::Invalid("claim has no slices");
  const size_t q = Claimer::Quorum(claim.slices.front().first.k, c.size());
  wire::Request r;
  r.op = op;
  r.name = claim.key;
  r.ballot = claim.ballot;
  r.owner = claim.ballot.id;
  r.lease_ms = claim.lease_ms;
  r.mode = claim.mode;
  size_t ok = 0, refused = 0;
  std::string why;
  for (const auto& o : c.CallAll(r)) {
    if (!o.status.ok()) {
      why += (why.empty() ? "" : "; ") + o.status.message();
      continue;
    }
    if (o.response->reply.ok()) {
      ++ok;
    } else {
      ++refused;
      why +=
          (why.empty() ? "" : "; ") + c.Describe(o.response->unit) + ": " + o.response->reply.error;
    }
  }
  if (ok >= q) return Status::Ok();
  const std::string msg = std::string(wire::OpName(op)) + " " + claim.key + ": " +
                          std::to_string(ok) + " units agreed, need q=" + std::to_string(q) + " (" +
                          why + ")";
  return refused > c.size() - q ? Status::Conflict(msg) : Status::Unavailable(msg);
}

}  // namespace

Status Renew(net::Cluster& c, const Claim& claim) {
  return Round(c, claim, wire::Op::kRenew);
}
Status Finish(net::Cluster& c, const Claim& claim) {
  return Round(c, claim, wire::Op::kFinish);
}

void Release(net::Cluster& c, const Claim& claim) {
  for (size_t u = 0; u < c.size(); ++u) {
    wire::Request r;
    r.op = wire::Op::kRelease;
    r.name = claim.key;
    r.ballot = claim.ballot;
    if (auto id = c.Send(u, r); id.ok()) c.Forget(*id);
  }
}

}  // namespace dstk::claim
