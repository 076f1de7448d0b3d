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

// One listing in progress: every unit paged at once, one round per page, each unit resuming
// after its own last name, all requests of a round in flight together.
class Pager {
 public:
  Pager(net::Cluster& cluster, const std::string& prefix, size_t max_entries,
        const std::string& start_after, size_t enough, wire::ListLane lane)
      : cluster_(cluster),
        prefix_(prefix),
        max_entries_(max_entries),
        enough_(enough),
        lane_(lane),
        returned_(cluster.size(), 0),
        done_(cluster.size(), false),
        after_(cluster.size(), start_after) {}

  // Pages until every unit is done, or `enough` answered and the others' grace ran out.
  void Run() {
    while (!Settled()) {
      if (!Round()) break;
    }
  }

  size_t answered() const { return answered_; }
  size_t forbidden() const { return forbidden_; }
  const std::string& failures() const { return failures_; }
  MergedListing& merged() { return merged_; }

 private:
  // Once `enough` units have answered, the others get a grace as long as that took again (5 ms
  // at least): on a healthy network they answer within it (so a name that only one unit still
  // holds, such as a function that unit missed the commit of, is seen); a dead unit costs little.
  bool Settled() {
    if (enough_ == 0 || answered_ < enough_) return false;
    if (!grace_end_) {
      grace_end_ = net::Clock::now() + std::max<net::Clock::duration>(net::Clock::now() - started_,
                                                                      std::chrono::milliseconds(5));
    }
    return net::Clock::now() >= *grace_end_;
  }

  // One page from each unit not done yet; false when no request could be sent.
  bool Round() {
    std::vector<size_t> asking;
    for (size_t u = 0; u < cluster_.size(); ++u) {
      if (!done_[u]) asking.push_back(u);
    }
    bool sent_any = false;
    net::GatherOptions g;
    g.keep = false;  // each page is merged as it comes
    g.enough = [&](const std::vector<net::Response>&, size_t) { return Settled(); };
    g.deadline = [&](net::Clock::time_point deadline) {
      return grace_end_ ? std::min(deadline, *grace_end_) : deadline;
    };
    g.on_reply = [&](const net::Response& resp) { Take(resp); };
    const net::Gathered round = net::Gather(
        cluster_, asking,
        [&](size_t u) -> Result<uint64_t> {
          auto id = Ask(u);
          if (id.ok()) sent_any = true;
          return id;
        },
        g);
    if (!sent_any) return false;
    const bool stopped_waiting = enough_ > 0 && answered_ >= enough_;
    for (size_t u : round.silent) {
      done_[u] = true;
      if (stopped_waiting) continue;  // not a failure: we had enough and the grace ran out
      AddFailure(cluster_.Describe(u) + ": no reply within " +
                 std::to_string(cluster_.timeout().count()) + " ms");
    }
    return true;
  }

  // Sends unit `u` the request for its next page.
  Result<uint64_t> Ask(size_t u) {
    wire::Request req;
    req.op = wire::Op::kList;
    req.prefix = prefix_;
    req.after = after_[u];
    req.lane = lane_;
    if (max_entries_ > 0) req.limit = static_cast<uint32_t>(std::min<size_t>(max_entries_, 1000));
    auto id = cluster_.Send(u, req);
    if (!id.ok()) {
      done_[u] = true;
      AddFailure(id.status().message());
    }
    return id;
  }

  // Merges one unit's page and notes whether that unit has more to give.
  void Take(const net::Response& resp) {
    const size_t u = resp.unit;
    const wire::Reply& r = resp.reply;
    if (!r.ok()) {
      done_[u] = true;
      forbidden_ += r.status == wire::ReplyStatus::kForbidden ? 1 : 0;
      AddFailure(cluster_.Describe(u) + ": " + wire::ReplyStatusName(r.status) + ": " + r.error);
      return;
    }
    for (const auto& e : r.entries) merged_.Add(e);
    returned_[u] += r.entries.size();
    // A lane's page that the unit's scan bound cut short resumes after the last name scanned
    // (ignored unless it is past where this page started: a unit must move forward).
    const bool resumes = !r.scanned.empty() && r.scanned > after_[u] && r.more;
    // Each unit's first max_entries names contain every name of the merged first max_entries
    // that the unit holds, so a unit can stop paging once it returned that many.
    if (!r.more || (r.entries.empty() && !resumes) ||
        (max_entries_ > 0 && returned_[u] >= max_entries_)) {
      done_[u] = true;
      ++answered_;
    } else {
      after_[u] = resumes ? r.scanned : r.entries.back().name;
    }
  }

  void AddFailure(const std::string& why) { failures_ += (failures_.empty() ? "" : "; ") + why; }

  net::Cluster& cluster_;
  const std::string& prefix_;
  const size_t max_entries_;
  const size_t enough_;
  const wire::ListLane lane_;
  std::vector<size_t> returned_;  // names each unit returned so far
  std::vector<bool> done_;
  std::vector<std::string> after_;  // each unit's last name returned
  MergedListing merged_;
  std::string failures_;
  size_t forbidden_ = 0;  // units that refused the listing as forbidden
  size_t answered_ = 0;
  const net::Clock::time_point started_ = net::Clock::now();
  std::optional<net::Clock::time_point> grace_end_;
};

}  // namespace

Result<std::vector<wire::ListEntry>> ListObjects(net::Cluster& cluster, const std::string& prefix,
                                                 size_t min_units, size_t max_entries,
                                                 const std::string& start_after, size_t enough,
                                                 uint32_t copies, wire::ListLane lane) {
  Pager pager(cluster, prefix, max_entries, start_after, enough, lane);
  pager.Run();
  if (pager.answered() < min_units) {
    return Decided(
        Status::Unavailable((prefix.empty() ? std::string("ls") : "ls " + prefix) + ": only " +
                            std::to_string(pager.answered()) + " units answered, need " +
                            std::to_string(min_units) + " (" + pager.failures() + ")"),
        pager.forbidden(), cluster.size(), min_units);
  }
  return std::move(pager.merged()).Live(max_entries, copies);
}

}  // namespace dstk::client
