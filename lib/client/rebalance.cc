#include "client/rebalance.h"

#include <algorithm>
#include <set>

#include "client/integrity.h"
#include "client/locate.h"
#include "client/object_io.h"
#include "client/placement.h"
#include "client/repair.h"

namespace dstk::client {
namespace {

bool Contains(const std::vector<size_t>& v, size_t x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

// Tells `units` (network indices) that `name` lives elsewhere now; returns how many took it.
size_t DropFrom(net::Cluster& network, const std::string& name, uint64_t rev,
                const std::vector<size_t>& units) {
  if (units.empty()) return 0;
  net::Cluster view = network.View(units);
  wire::Request del;
  del.op = wire::Op::kDelSlice;
  del.name = name;
  del.rev = rev;
  del.moved = true;
  size_t dropped = 0;
  for (const auto& o : view.CallAll(del)) {
    if (o.status.ok() && o.response->reply.ok()) ++dropped;
  }
  return dropped;
}

}  // namespace

Result<std::vector<size_t>> LiveUnits(net::Cluster& network) {
  net::Cluster all = network.Network();
  wire::Request stat;
  stat.op = wire::Op::kStat;
  std::vector<size_t> live;
  std::vector<std::string> ids(all.size());
  auto outcomes = all.CallAll(stat);
  for (size_t u = 0; u < outcomes.size(); ++u) {
    if (!outcomes[u].status.ok() || !outcomes[u].response->reply.ok()) continue;
    ids[u] = outcomes[u].response->reply.unit_id;
    all.NoteUnitId(u, ids[u]);
    live.push_back(u);
  }
  DSTK_RETURN_IF_ERROR(CheckOneUnitEach(all, ids));
  return live;
}

namespace {

// Where each pillar of `m` goes: kept where its unit is still a target, else to the best target
// unit that holds none. `moving` gets the pillars that change units.
Result<std::vector<size_t>> NewHomes(net::Cluster& network, const std::string& name,
                                     const wire::Manifest& m, const std::vector<size_t>& old_units,
                                     const RebalanceOptions& o, std::vector<uint32_t>& moving,
                                     RebalanceReport& report) {
  std::vector<size_t> new_units = old_units;
  auto target = Place(network, name, m.n);
  if (!target.ok()) return target.status().With(name);
  std::vector<size_t> free_targets;
  for (size_t u : *target) {
    if (!Contains(old_units, u)) free_targets.push_back(u);
  }
  size_t next_free = 0;
  for (uint32_t p = 0; p < m.n; ++p) {
    const size_t u = old_units[p];
    const bool gone = u == net::Cluster::kNoUnit;
    if (!gone && (o.only_gone || Contains(*target, u))) continue;
    ++report.minimum;
    if (next_free == free_targets.size()) {
      return Status::Unavailable(name + ": no target unit left for pillar " + std::to_string(p));
    }
    new_units[p] = free_targets[next_free++];
    moving.push_back(p);
  }
  return new_units;
}

// Copies the `moving` pillars of `m` to their new units (a repair that reads from the old
// placement and publishes the next placement generation). Returns whether every one moved; an
// old unit whose pillar did not move is taken off `stale`, since its copy is still needed.
Result<bool> MovePillars(net::Cluster& network, const std::string& name, const wire::Manifest& m,
                         const std::vector<size_t>& old_units, const std::vector<size_t>& new_units,
                         const std::vector<uint32_t>& moving, const RebalanceOptions& o,
                         std::vector<size_t>& stale, RebalanceReport& report) {
  wire::Manifest next = m;
  next.pgen = m.pgen + 1;
  net::Cluster new_view = network.View(new_units);
  next.placement = PlacementIds(new_view);
  if (next.placement.empty()) return Status::Invalid(name + ": a target unit has no known id");
  net::Cluster old_view = network.View(old_units);
  Thresholds t = o.t;
  t.n = m.n;
  t.k = m.k;
  t.w = std::min<uint32_t>(std::max(t.w, m.k), m.n);
  RepairPlan plan;
  plan.read_from = &old_view;
  plan.publish = next;
  plan.verify = false;
  auto repaired = RepairObject(new_view, name, t, plan);
  if (!repaired.ok()) return repaired.status();
  size_t moved = 0;
  for (uint32_t p : moving) {
    if (!Contains(repaired->published, p)) {
      // The new home did not take it: the old copy must stay.
      stale.erase(std::remove(stale.begin(), stale.end(), old_units[p]), stale.end());
      continue;
    }
    ++moved;
  }
  report.slices_moved += moved;
  if (moved > 0) ++report.objects_moved;
  if (moved == moving.size()) return true;
  report.failures.push_back(name + ": " + std::to_string(moving.size() - moved) +
                            " pillars not moved (" +
                            (repaired->failures.empty() ? "" : repaired->failures[0]) + ")");
  return false;
}

// Nothing to move: makes sure every unit of the placement has the newest manifest (a crash
// between steps 2 and 3 may have left some with the old one).
void RepublishBehind(net::Cluster& network, const std::string& name, const wire::Manifest& m,
                     const std::vector<size_t>& units, RebalanceReport& report) {
  net::Cluster view = network.View(units);
  Location here = Locate(view, name, false);
  std::vector<size_t> behind;
  for (size_t u = 0; u < view.size(); ++u) {
    if (here.units[u].answered && here.units[u].SlicesOf(m.rev) == m.segs &&
        (!here.units[u].committed || here.units[u].committed->pgen < m.pgen))
      behind.push_back(u);
  }
  wire::Request pub;
  pub.op = wire::Op::kPublish;
  pub.name = name;
  pub.manifest = m;
  for (const auto& out : view.CallEach(pub, behind)) {
    if (out.status.ok() && out.response->reply.ok()) ++report.republished;
  }
}

}  // namespace

Status RebalanceObject(net::Cluster& network, const std::vector<size_t>& live,
                       const std::string& name, const RebalanceOptions& o,
                       RebalanceReport& report) {
  ++report.objects;
  if (PlacementKey(name) != name) return Status::Ok();  // a function: never moved
  net::Cluster everyone = network.View(live);
  Location loc = Locate(everyone, name, /*verify=*/false);
  TrustLocation(loc, TrustCopies(o.t));  // a revision only a liar reports is not moved
  if (!loc.manifest || loc.manifest->tomb) return Status::Ok();
  const wire::Manifest m = *loc.manifest;
  const std::vector<size_t> old_units = UnitsOf(network, m);
  std::vector<uint32_t> moving;
  auto new_units = NewHomes(network, name, m, old_units, o, moving, report);
  if (!new_units.ok()) return new_units.status();

  // Units that hold something of the object but are not in its (new) placement: old copies a
  // crash left, or slices of an older width.
  std::vector<size_t> stale;
  for (size_t i = 0; i < live.size(); ++i) {
    const UnitView& v = loc.units[i];
    if (!v.answered || Contains(*new_units, live[i])) continue;
    if (v.committed || !v.held.empty()) stale.push_back(live[i]);
  }
  if (!moving.empty()) {
    auto all_moved = MovePillars(network, name, m, old_units, *new_units, moving, o, stale, report);
    if (!all_moved.ok()) return all_moved.status();
    if (!*all_moved) return Status::Ok();  // nothing dropped that is still needed
  } else if (!stale.empty() || m.pgen > 0) {
    RepublishBehind(network, name, m, *new_units, report);
  }
  // Old copies go last, once the new placement holds the object.
  for (size_t u : moving) {
    const size_t old = old_units[u];
    if (old != net::Cluster::kNoUnit && Contains(live, old) && !Contains(stale, old))
      stale.push_back(old);
  }
  report.dropped += DropFrom(network, name, m.rev, stale);
  return Status::Ok();
}

Result<RebalanceReport> Rebalance(net::Cluster& network, const std::string& prefix,
                                  const RebalanceOptions& o, const ProgressSink& progress) {
  RebalanceReport report;
  auto answered = LiveUnits(network);
  if (!answered.ok()) return answered.status();
  const std::vector<size_t>& live = *answered;
  if (live.size() < o.t.k) {
    return Status::Unavailable("rebalance: only " + std::to_string(live.size()) +
                               " units answer, need at least k=" + std::to_string(o.t.k));
  }
  LearnUnitIds(network);
  net::Cluster everyone = network.View(live);
  auto names = ListObjects(everyone, prefix, 1);
  if (!names.ok()) return names.status();
  uint64_t done = 0;
  for (const auto& e : *names) {
    Status st = RebalanceObject(network, live, e.name, o, report);
    if (!st.ok()) report.failures.push_back(e.name + ": " + st.message());
    if (progress) progress(++done, names->size());
  }
  return report;
}

}  // namespace dstk::client
