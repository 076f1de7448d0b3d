// RemoveObject and ListObjects.
#include <algorithm>
#include <map>
#include <optional>

#include "client/integrity.h"
#include "client/object_io.h"
#include "client/refusals.h"
#include "net/gather.h"
#include "wire/revision.h"

namespace dstk::client {

Status RemoveObject(net::Cluster& cluster, const std::string& name, const Thresholds& t) {
  Location loc = Locate(cluster, name, false);
  if (loc.answered < t.w) {
    return Decided(Status::Unavailable("rm " + name + ": only " + std::to_string(loc.answered) +
                                       " units answered, the write threshold is w=" +
                                       std::to_string(t.w) + " (" + loc.Failures(cluster) + ")"),
                   loc.Forbidden(), cluster.size(), t.w);
  }
  // The tombstone goes past any revision a unit reports, believed or not; whether there is an
  // object to remove is the manifest rule's to say (client/integrity.h).
  const uint64_t newest = loc.manifest ? loc.manifest->rev : 0;
  TrustLocation(loc, TrustCopies(t));
  if (!loc.manifest || loc.manifest->tomb) return Status::NotFound("no object " + name);
  wire::Manifest tomb;
  tomb.rev = wire::NewRevision(newest + 1);
  tomb.tomb = true;
  wire::Request pub;
  pub.op = wire::Op::kPublish;
  pub.name = name;
  pub.manifest = tomb;
  size_t acked = 0, forbidden = 0;
  std::string failures;
  auto outcomes = cluster.CallAll(pub);
  for (size_t u = 0; u < outcomes.size(); ++u) {
    const auto& o = outcomes[u];
    if (o.status.ok() &&
        (o.response->reply.ok() || o.response->reply.status == wire::ReplyStatus::kConflict)) {
      ++acked;
      continue;
    }
    if (!failures.empty()) failures += "; ";
    if (o.status.ok()) {
      forbidden += o.response->reply.status == wire::ReplyStatus::kForbidden ? 1 : 0;
      failures += cluster.Describe(u) + ": " + wire::ReplyStatusName(o.response->reply.status) +
                  ": " + o.response->reply.error;
    } else {
      failures += o.status.message();
    }
  }
  if (acked < t.w) {
    return Decided(Status::Unavailable("rm " + name + ": only " + std::to_string(acked) +
                                       " units recorded the removal, need w=" +
                                       std::to_string(t.w) + " (" + failures + ")"),
                   forbidden, cluster.size(), t.w);
  }
  return Status::Ok();
}

namespace {

// The union of the units' listings: per name, the newest live revision (a tombstone only while
// no live one was heard of), and how many units reported each tombstone.
class MergedListing {
 public:
  void Add(const wire::ListEntry& e) {
    auto [m, fresh] = merged_.emplace(e.name, e);
    ++m->second.units;
    if (e.manifest.tomb) ++tombs_[e.name][e.manifest.rev];
    if (fresh) return;
    const wire::Manifest& have = m->second.manifest;
    if (have.tomb ? !e.manifest.tomb || have.rev < e.manifest.rev
                  : !e.manifest.tomb && have.rev < e.manifest.rev) {
      m->second.manifest = e.manifest;
    }
    m->second.locked += e.locked;
  }

  // The names not removed, in order, at most `max_entries` (0: all). Removed: a tombstone newer
  // than every live revision, reported by `copies` units (a removal fewer units report is not
  // believed, client/integrity.h), or no live revision at all.
  std::vector<wire::ListEntry> Live(size_t max_entries, uint32_t copies) && {
    std::vector<wire::ListEntry> out;
    for (auto& [name, e] : merged_) {
      if (max_entries > 0 && out.size() == max_entries) break;
      bool removed = e.manifest.tomb;
      for (const auto& [rev, units] : tombs_[name]) {
        removed |= rev > e.manifest.rev && units >= copies;
      }
      if (!removed) out.push_back(std::move(e));
    }
    return out;
  }

 private:
  std::map<std::string, wire::ListEntry> merged_;
  std::map<std::string, std::map<uint64_t, uint32_t>> tombs_;  // name -> rev -> units
};

}  // namespace

Result<std::vector<wire::ListEntry>> ListObjects(net::Cluster& cluster, const std::string& prefix,
                                                 size_t min_units, size_t max_entries,
                                                 const std::string& start_after, size_t enough,
                                                 uint32_t copies) {
  // Each unit's first max_entries names contain every name of the merged first max_entries
  // that the unit holds, so a unit can stop paging once it returned that many.
  std::vector<size_t> returned(cluster.size(), 0);
  MergedListing merged;
  std::vector<bool> done(cluster.size(), false);
  std::vector<std::string> after(cluster.size(), start_after);
  std::string failures;
  size_t forbidden = 0;  // units that refused the listing as forbidden
  size_t answered = 0;
  // Once `enough` units have answered, the others get a grace as long as that took again (5 ms at
  // least): on a healthy network they answer within it (so a name that only one unit still
  // holds, such as a function that unit missed the commit of, is seen); a dead unit costs little.
  const auto started = net::Clock::now();
  std::optional<net::Clock::time_point> grace_end;
  auto settled = [&] {
    if (enough == 0 || answered < enough) return false;
    if (!grace_end) {
      grace_end = net::Clock::now() + std::max<net::Clock::duration>(net::Clock::now() - started,
                                                                     std::chrono::milliseconds(5));
    }
    return net::Clock::now() >= *grace_end;
  };
  // Page through every unit at once: one round per page, each unit resuming after its own last
  // name, all requests of a round in flight together.
  while (!settled()) {
    std::vector<size_t> asking;
    for (size_t u = 0; u < cluster.size(); ++u) {
      if (!done[u]) asking.push_back(u);
    }
    bool sent_any = false;
    net::GatherOptions g;
    g.keep = false;  // each page is merged as it comes
    g.enough = [&](const std::vector<net::Response>&, size_t) { return settled(); };
    g.deadline = [&](net::Clock::time_point deadline) {
      return grace_end ? std::min(deadline, *grace_end) : deadline;
    };
    g.on_reply = [&](const net::Response& resp) {
      const size_t u = resp.unit;
      const wire::Reply& r = resp.reply;
      if (!r.ok()) {
        done[u] = true;
        forbidden += r.status == wire::ReplyStatus::kForbidden ? 1 : 0;
        failures += (failures.empty() ? "" : "; ") + cluster.Describe(u) + ": " +
                    wire::ReplyStatusName(r.status) + ": " + r.error;
        return;
      }
      for (const auto& e : r.entries) merged.Add(e);
      returned[u] += r.entries.size();
      if (!r.more || r.entries.empty() || (max_entries > 0 && returned[u] >= max_entries)) {
        done[u] = true;
        ++answered;
      } else {
        after[u] = r.entries.back().name;
      }
    };
    const net::Gathered round = net::Gather(
        cluster, asking,
        [&](size_t u) -> Result<uint64_t> {
          wire::Request req;
          req.op = wire::Op::kList;
          req.prefix = prefix;
          req.after = after[u];
          if (max_entries > 0)
            req.limit = static_cast<uint32_t>(std::min<size_t>(max_entries, 1000));
          auto id = cluster.Send(u, req);
          if (!id.ok()) {
            done[u] = true;
            failures += (failures.empty() ? "" : "; ") + id.status().message();
          } else {
            sent_any = true;
          }
          return id;
        },
        g);
    if (!sent_any) break;
    const bool stopped_waiting = enough > 0 && answered >= enough;
    for (size_t u : round.silent) {
      done[u] = true;
      if (stopped_waiting) continue;  // not a failure: we had enough and the grace ran out
      failures += (failures.empty() ? "" : "; ") + cluster.Describe(u) + ": no reply within " +
                  std::to_string(cluster.timeout().count()) + " ms";
    }
  }
  if (answered < min_units) {
    return Decided(
        Status::Unavailable((prefix.empty() ? std::string("ls") : "ls " + prefix) + ": only " +
                            std::to_string(answered) + " units answered, need " +
                            std::to_string(min_units) + " (" + failures + ")"),
        forbidden, cluster.size(), min_units);
  }
  return std::move(merged).Live(max_entries, copies);
}

}  // namespace dstk::client
