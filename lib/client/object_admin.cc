// RemoveObject and ListObjects.
#include <map>

#include "client/object_io.h"
#include "client/revision.h"

namespace dstk::client {

Status RemoveObject(net::Cluster& cluster, const std::string& name, const Thresholds& t) {
  Location loc = Locate(cluster, name, false);
  if (loc.answered < t.w) {
    return Status::Unavailable("rm " + name + ": only " + std::to_string(loc.answered) +
                               " units answered, the write threshold is w=" + std::to_string(t.w) +
                               " (" + loc.Failures(cluster) + ")");
  }
  if (!loc.manifest || loc.manifest->tomb) return Status::NotFound("no object " + name);
  wire::Manifest tomb;
  tomb.rev = NewRevision(loc.manifest->rev + 1);
  tomb.tomb = true;
  wire::Request pub;
  pub.op = wire::Op::kPublish;
  pub.name = name;
  pub.manifest = tomb;
  size_t acked = 0;
  std::string failures;
  auto outcomes = cluster.CallAll(pub);
  for (size_t u = 0; u < outcomes.size(); ++u) {
    const auto& o = outcomes[u];
    if (o.status.ok() && (o.response->reply.ok() || o.response->reply.status == wire::ReplyStatus::kConflict)) {
      ++acked;
      continue;
    }
    if (!failures.empty()) failures += "; ";
    failures += o.status.ok() ? cluster.Describe(u) + ": " + o.response->reply.error : o.status.message();
  }
  if (acked < t.w) {
    return Status::Unavailable("rm " + name + ": only " + std::to_string(acked) +
                               " units recorded the removal, need w=" + std::to_string(t.w) + " (" +
                               failures + ")");
  }
  return Status::Ok();
}

Result<std::vector<wire::ListEntry>> ListObjects(net::Cluster& cluster, const std::string& prefix,
                                                 size_t min_units) {
  std::map<std::string, wire::Manifest> merged;
  std::vector<bool> done(cluster.size(), false);
  std::vector<std::string> after(cluster.size());
  std::string failures;
  size_t answered = 0;
  // Page through every unit in lockstep, one round per page.
  for (;;) {
    std::vector<size_t> units;
    for (size_t u = 0; u < cluster.size(); ++u) {
      if (!done[u]) units.push_back(u);
    }
    if (units.empty()) break;
    wire::Request req;
    req.op = wire::Op::kList;
    req.prefix = prefix;
    std::vector<net::Outcome> outcomes;
    // Each unit resumes after its own last name, so the requests differ per unit.
    for (size_t u : units) {
      req.after = after[u];
      outcomes.push_back(std::move(cluster.CallEach(req, {u})[0]));
    }
    for (size_t i = 0; i < units.size(); ++i) {
      const size_t u = units[i];
      const auto& o = outcomes[i];
      if (!o.status.ok() || !o.response->reply.ok()) {
        done[u] = true;
        if (!failures.empty()) failures += "; ";
        failures += o.status.ok() ? cluster.Describe(u) + ": " + o.response->reply.error : o.status.message();
        continue;
      }
      const wire::Reply& r = o.response->reply;
      for (const auto& e : r.entries) {
        auto [it, fresh] = merged.emplace(e.name, e.manifest);
        if (!fresh && it->second.rev < e.manifest.rev) it->second = e.manifest;
      }
      if (!r.more || r.entries.empty()) {
        done[u] = true;
        ++answered;
      } else {
        after[u] = r.entries.back().name;
      }
    }
  }
  if (answered < min_units) {
    return Status::Unavailable("ls: only " + std::to_string(answered) + " units answered, need " +
                               std::to_string(min_units) + " (" + failures + ")");
  }
  std::vector<wire::ListEntry> out;
  for (auto& [name, m] : merged) {
    if (!m.tomb) out.push_back({name, m});
  }
  return out;
}

}  // namespace dstk::client
