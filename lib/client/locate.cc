#include "client/locate.h"

#include <algorithm>
#include <unordered_map>

#include "net/gather.h"

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

size_t Location::Forbidden() const {
  size_t n = 0;
  for (const auto& u : units) n += u.error.code() == Code::kForbidden ? 1 : 0;
  return n;
}

std::vector<size_t> Location::Holders() const {
  std::vector<size_t> out;
  if (!manifest || manifest->tomb) return out;
  for (size_t u = 0; u < units.size(); ++u) {
    if (units[u].answered && units[u].SlicesOf(manifest->rev) > 0) out.push_back(u);
  }
  return out;
}

bool Location::AnySkipped() const {
  for (const auto& u : units) {
    if (u.skipped) return true;
  }
  return false;
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

Status CheckOneUnitEach(const net::Cluster& cluster, const std::vector<std::string>& unit_ids) {
  std::unordered_map<std::string, size_t> first;
  for (size_t u = 0; u < unit_ids.size(); ++u) {
    if (unit_ids[u].empty()) continue;
    auto [at, fresh] = first.emplace(unit_ids[u], u);
    if (!fresh) {
      return Status::Invalid(cluster.Describe(at->second) + " and " + cluster.Describe(u) +
                             " are one unit (id " + unit_ids[u] +
                             "): list each unit once in the node list");
    }
  }
  return Status::Ok();
}

Status CheckOneUnitEach(const net::Cluster& cluster, const Location& loc) {
  std::vector<std::string> ids;
  for (const UnitView& v : loc.units) ids.push_back(v.unit_id);
  return CheckOneUnitEach(cluster, ids);
}

namespace {

// Whether a reader can stop waiting: the newest committed revision seen has slices on k of the
// answering units, and more than n-k units answered. Every put is acknowledged by w >= k units,
// so any newer revision is on at least k units, one of which is then among the answers.
// Absence and tombstones wait for every unit, as before.
bool Settled(const Location& loc, bool early) {
  if (!early || !loc.manifest || loc.manifest->tomb) return false;
  const size_t k = loc.manifest->k;
  return k > 0 && loc.answered + k > loc.units.size() && loc.Holders().size() >= k;
}

}  // namespace

Location Locate(net::Cluster& cluster, const std::string& name, bool verify, bool early,
                size_t enough, const std::function<bool(const wire::Manifest&)>& elsewhere) {
  wire::Request req;
  req.op = wire::Op::kStat;
  req.name = name;
  req.verify = verify;
  if (early) req.slice_max = kReadFirstSliceMax;
  Location loc;
  loc.units.resize(cluster.size());
  std::vector<size_t> all(cluster.size());
  for (size_t u = 0; u < all.size(); ++u) all[u] = u;
  net::Clock::time_point started;  // when the last request was queued
  bool grace = false;              // the deadline is a grace after enough answers, not the timeout
  auto moved_on = [&] { return elsewhere && loc.manifest && elsewhere(*loc.manifest); };
  net::GatherOptions g;
  g.keep = false;  // each answer is folded into `loc` as it comes
  g.enough = [&](const std::vector<net::Response>&, size_t) { return Settled(loc, early); };
  g.deadline = [&](net::Clock::time_point deadline) {
    // Enough answers (a writer's), or a manifest naming other units (a reader's guess was
    // wrong): the rest get a short grace, so that units that are up still answer (one may
    // report a newer revision) but a dead one costs no whole timeout.
    if (!grace && ((enough > 0 && loc.answered >= enough) || moved_on())) {
      grace = true;
      const auto took = net::Clock::now() - started;
      const auto wait = std::max<net::Clock::duration>(3 * took, std::chrono::milliseconds(100));
      const auto now = net::Clock::now();
      deadline = std::min(deadline, now + wait);
      loc.grace = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now);
    }
    return deadline;
  };
  g.on_reply = [&](const net::Response& resp) {
    const size_t u = resp.unit;
    UnitView& view = loc.units[u];
    const wire::Reply& r = resp.reply;
    if (r.status != wire::ReplyStatus::kOk && r.status != wire::ReplyStatus::kNotFound) {
      // Forbidden keeps its code: a caller tells a refused key from units that are down.
      view.refused = true;
      view.error =
          Status(r.status == wire::ReplyStatus::kForbidden ? Code::kForbidden : Code::kUnavailable,
                 cluster.Describe(u) + ": " + wire::ReplyStatusName(r.status) + ": " + r.error);
      return;
    }
    view.answered = true;
    view.error = Status::Ok();
    ++loc.answered;
    view.committed = r.committed;
    view.held = r.held;
    view.unit_id = r.unit_id;
    cluster.NoteUnitId(u, r.unit_id);
    if (early && r.slice && resp.payload.size() > 0) {
      auto first = std::make_shared<net::Response>();
      first->unit = u;
      first->reply.id = r.id;
      first->reply.slice = r.slice;
      first->payload = zmq::message_t(resp.payload.data(), resp.payload.size());
      view.first_slice = std::move(first);
    }
    // The newest revision; of one revision, the manifest with the newest placement.
    if (r.committed &&
        (!loc.manifest || loc.manifest->rev < r.committed->rev ||
         (loc.manifest->rev == r.committed->rev && loc.manifest->pgen < r.committed->pgen))) {
      loc.manifest = r.committed;
    }
  };
  const net::Gathered round = net::Gather(
      cluster, all,
      [&](size_t u) -> Result<uint64_t> {
        wire::Request r = req;
        auto id = cluster.Send(u, r);
        if (id.ok()) {
          loc.units[u].error =
              Status::Unavailable(cluster.Describe(u) + ": no reply within " +
                                  std::to_string(cluster.timeout().count()) + " ms");
        }
        started = net::Clock::now();
        return id;
      },
      g);
  for (const auto& [u, why] : round.unsent) loc.units[u].error = why;
  const bool stopped_early = Settled(loc, early) || grace;
  for (size_t u : round.silent) loc.units[u].skipped = stopped_early;
  return loc;
}

}  // namespace dstk::client
