#include "client/locate.h"

namespace dstk::client {

uint32_t UnitView::SlicesOf(uint64_t rev) const {
  for (const auto& h : held) {
    if (h.rev == rev) return h.slices;
  }
  return 0;
}

uint32_t UnitView::BadOf(uint64_t rev) const {
  for (const auto& h : held) {
    if (h.rev == rev) return h.bad;
  }
  return 0;
}

std::vector<size_t> Location::Holders() const {
  std::vector<size_t> out;
  if (!manifest || manifest->tomb) return out;
  for (size_t u = 0; u < units.size(); ++u) {
    if (units[u].answered && units[u].SlicesOf(manifest->rev) > 0) out.push_back(u);
  }
  return out;
}

std::string Location::Failures(const net::Cluster& c) const {
  std::string out;
  for (size_t u = 0; u < units.size(); ++u) {
    if (units[u].answered) continue;
    if (!out.empty()) out += "; ";
    out += units[u].error.ok() ? c.Describe(u) : units[u].error.message();
  }
  return out;
}

Location Locate(net::Cluster& cluster, const std::string& name, bool verify) {
  wire::Request req;
  req.op = wire::Op::kStat;
  req.name = name;
  req.verify = verify;
  Location loc;
  loc.units.resize(cluster.size());
  auto outcomes = cluster.CallAll(req);
  for (size_t u = 0; u < outcomes.size(); ++u) {
    UnitView& view = loc.units[u];
    if (!outcomes[u].status.ok()) {
      view.error = outcomes[u].status;
      continue;
    }
    const wire::Reply& r = outcomes[u].response->reply;
    if (r.status != wire::ReplyStatus::kOk && r.status != wire::ReplyStatus::kNotFound) {
      view.error = Status::Unavailable(cluster.Describe(u) + ": " +
                                       wire::ReplyStatusName(r.status) + ": " + r.error);
      continue;
    }
    view.answered = true;
    ++loc.answered;
    view.committed = r.committed;
    view.held = r.held;
    if (r.committed && (!loc.manifest || loc.manifest->rev < r.committed->rev)) {
      loc.manifest = r.committed;
    }
  }
  return loc;
}

}  // namespace dstk::client
