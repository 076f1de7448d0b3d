// The walk of the queue that both claim paths take (docs/claim.md, "Walkers share the queue"):
// which keys a claimer tries next, alone or beside other walkers, and when a pass ends. The keys
// are then tried by one-key rounds (Next: TryOne, claimer.cc's TryKey) or in batches (NextBatch:
// TryBatch, claimer_batch.cc). The walk only picks keys: every decision is the rounds'.
#include <algorithm>
#include <map>
#include <random>
#include <set>
#include <string_view>

#include "claim/claimer.h"
#include "claim/rounds.h"
#include "claim/walk.h"
#include "client/object_io.h"
#include "wire/limits.h"
#include "wire/name.h"

namespace dstk::claim {
namespace {

// Keys that fewer than a quorum still list (consumed on the others: a unit missed the decision)
// go last in a lone walker's window: a batch slot spent on one claims nothing, it only teaches.
void FreeFirst(std::deque<wire::ListEntry>& window, size_t n) {
  std::stable_partition(window.begin(), window.end(), [&](const wire::ListEntry& e) {
    return e.units >= Claimer::Quorum(e.manifest.k, n);
  });
}

}  // namespace

Result<Claim> Claimer::Next(const std::string& queue) {
  auto won = Walk(queue, 1, &Claimer::TryOne, /*held_last=*/true);
  if (!won.ok()) return won.status();
  return std::move(won->front());
}

Result<std::vector<Claim>> Claimer::NextBatch(const std::string& queue, size_t max) {
  return Walk(queue, max, &Claimer::TryBatch, /*held_last=*/false);
}

// The keys of a one-key walk, each by TryKey's rounds with one-key messages; the same contract
// as TryBatch. A first try leaves a key that a unit reports consumed when a quorum listed it (in
// consume mode), as a batch does.
Result<bool> Claimer::TryOne(const std::string& queue, const std::vector<wire::ListEntry>& entries,
                             std::vector<Claim>& won) {
  bool contended = false;
  for (const auto& e : entries) {
    const bool may_leave =
        o_.mode == wire::ClaimMode::kConsume && e.units >= Quorum(e.manifest.k, c_.size());
    bool stop = false;
    DSTK_RETURN_IF_ERROR(TryCollect(queue, e, KeyProgress{}, may_leave, won, contended, stop));
    if (stop) break;
  }
  return contended;
}

Result<std::vector<wire::ListEntry>> Claimer::ListWindow(const std::string& queue,
                                                         const std::string& after, size_t limit,
                                                         wire::ListLane lane) {
  // A majority's view is enough: any key pushed to w units is on one of them.
  auto entries = client::ListObjects(c_, queue + "/", 1, std::min(limit, wire::kMaxListPage), after,
                                     c_.size() / 2 + 1, 1, lane);
  if (!entries.ok()) return entries.status();
  ++stats_.listings;
  stats_.listed += entries->size();
  listed_end_ = entries->empty() ? after : entries->back().name;
  KeepPlacedHere(*entries);
  // Only queue keys are claimed: any other object under QUEUE/ (an output a user named there)
  // is no function, and a consume-mode claim would delete it.
  // A unit of an earlier version lists every lane.
  std::erase_if(*entries, [&](const wire::ListEntry& e) {
    return e.manifest.k == 0 || Quorum(e.manifest.k, c_.size()) > c_.size() ||
           wire::QueueOf(e.name) != std::string_view(queue) ||
           (lane.lanes > 1 && wire::LaneOf(e.name, lane.lanes) != lane.lane);
  });
  return entries;
}

Result<bool> Claimer::FillFromLane(const std::string& queue, size_t want,
                                   const std::set<std::string>& tried,
                                   std::map<std::string, wire::ListEntry>* held) {
  const wire::ListLane lane{.lane = static_cast<uint32_t>(lane_), .lanes = kLanes};
  auto window = ListWindow(queue, window_after_, lane_held_ + want, lane);
  if (!window.ok()) return window.status();
  std::erase_if(*window, [&](const auto& e) { return tried.count(e.name); });
  const LanePick pick = PickLane(*window, c_.size(), want, kLanes, lane_);
  if (pick.lane != lane_ || pick.keys.size() < (want + 1) / 2) return false;
  if (held != nullptr) {
    for (const auto& e : *window) {
      if (e.locked > 0) held->emplace(e.name, e);
    }
  }
  // Only keys of this lane were listed, so a listing with none held says nothing of the other
  // walkers: it neither counts as quiet nor moves the window.
  lane_held_ = pick.held;
  if (pick.held > 0) quiet_listings_ = 0;
  for (size_t i : pick.keys) listed_.push_back(std::move((*window)[i]));
  return true;
}

// Fills listed_ with the next keys to try: false at the end of the queue. Alone, a walker
// lists kLanes batches and keeps them; crowded, it takes the keys of its lane from a fresh
// listing of the window (NextBatch). Sets `contended` when the window is all other walkers'
// batches in flight.
Result<bool> Claimer::FillWindow(const std::string& queue, size_t max,
                                 const std::set<std::string>& tried, bool& contended,
                                 std::map<std::string, wire::ListEntry>* held) {
  while (listed_.empty()) {
    // Listed as if batches held at least kMinListed keys: a listing costs about a claim's two
    // rounds, so a one-key walker that listed 4 keys at a time would spend a third of its
    // rounds listing.
    const size_t per = std::max(max, kMinListed);
    // Crowded, a walker lists kLaneBatches batches of its own lane alone (a quarter of the
    // names a listing of every lane carries), kLaneListings times in a row; then, and whenever
    // its lane runs thin, one batch of the lane PickLane chooses from the head of the queue's
    // window (every lane listed): a lane nobody serves shows there and the walker moves to it,
    // so that no lane falls far behind the others.
    const size_t want = crowded_ ? per : kLanes * per;
    if (crowded_ && lane_listings_ < kLaneListings) {
      auto from_lane = FillFromLane(queue, kLaneBatches * per, tried, held);
      if (!from_lane.ok()) return from_lane.status();
      if (*from_lane) {
        ++lane_listings_;
        break;
      }
    }
    lane_listings_ = 0;
    auto window = ListWindow(queue, window_after_, crowded_ ? window_held_ + kLanes * want : want);
    if (!window.ok()) return window.status();
    if (window->empty() && listed_end_ == window_after_) return false;  // the end of the queue
    // A crowded window does not move past a key that stays (one that cannot be claimed
    // now): each is tried once per call.
    if (crowded_) std::erase_if(*window, [&](const auto& e) { return tried.count(e.name); });
    if (window->empty()) {
      window_after_ = listed_end_;  // all placed elsewhere or tried: look further
      continue;
    }
    const LanePick pick = PickLane(*window, c_.size(), want, kLanes, lane_);
    if (held != nullptr && crowded_) {
      for (const auto& e : *window) {
        if (e.locked > 0) held->emplace(e.name, e);
      }
    }
    window_held_ = crowded_ ? pick.held : 0;
    if (!crowded_ && pick.held > 0) {
      crowded_ = true;  // another walker at work: share the window with it
      quiet_listings_ = 0;
      window_held_ = pick.held;
      continue;
    }
    // Nobody met for a while (one quiet listing is not enough: the others may be between
    // their rounds): alone again, in order.
    if (crowded_ && pick.held == 0 && ++quiet_listings_ >= kQuietListings) crowded_ = false;
    if (!crowded_) {
      listed_.assign(window->begin(), window->end());
      FreeFirst(listed_, c_.size());
      listed_start_ = window_after_;
      window_after_ = listed_end_;
      continue;
    }
    if (pick.held > 0) quiet_listings_ = 0;
    stats_.lane_moves += pick.lane != lane_;
    lane_ = pick.lane;
    if (pick.keys.empty()) {
      // Every key of the window is another walker's batch in flight: look further. The
      // pass met others (they may still release those keys), so it ends in a backoff and
      // a new walk from the head rather than "empty".
      contended = true;
      window_after_ = listed_end_;
      continue;
    }
    for (size_t i : pick.keys) listed_.push_back(std::move((*window)[i]));
  }
  return true;
}

Result<std::vector<Claim>> Claimer::Walk(const std::string& queue, size_t max, TryKeys try_keys,
                                         bool held_last) {
  max = std::clamp<size_t>(max, 1, wire::kMaxBatchKeys);
  std::mt19937_64 rng(id_ ^ 0x9e3779b97f4a7c15 ^ stats_.rounds);
  if (listed_queue_ != queue) {
    listed_queue_ = queue;
    listed_.clear();
    window_after_.clear();
    crowded_ = false;
  }
  // Walk the queue from the head, a window at a time (docs/claim.md, "Walkers share the
  // queue"). Alone, a walker lists kLanes batches, keeps the listing across calls and takes its
  // keys in order: a listing waits for a majority of units and a short grace, which would
  // otherwise cost as much as a batch's two rounds. Once it meets another walker (keys held in
  // its listing, or keys of its batch lost or taken), it takes kLaneBatches batches of its lane
  // (walk.h) from a fresh listing of the window at a time; claimed keys are gone from the next
  // listing, so the window moves on by itself. A pass that ends without a claim but met others
  // backs off and starts again from the head (six passes at most).
  std::set<std::string> tried;                       // keys of this call's batches
  std::map<std::string, wire::ListEntry> held_keys;  // held_last: seen held, by name (queue order)
  for (int pass = 0; pass < 6; ++pass) {
    bool contended = false;
    const size_t left_before = left_unsettled_.size();
    for (;;) {
      auto more = FillWindow(queue, max, tried, contended, held_last ? &held_keys : nullptr);
      if (!more.ok()) return more.status();
      if (!*more && held_keys.empty()) break;  // the end of the queue
      if (!*more) {
        // Keys another claimer held when listed, once each pass, after every free key: the
        // units, not a listing's hint, say whether they are still held (a one-key walker that
        // finds nothing else free is refused by them, or takes a key whose holder went away).
        for (auto& [name, e] : held_keys) {
          if (!tried.count(name)) listed_.push_back(std::move(e));
        }
        held_keys.clear();
        if (listed_.empty()) break;
      }
      const size_t take = std::min(max, listed_.size());
      std::vector<wire::ListEntry> batch(listed_.begin(),
                                         listed_.begin() + static_cast<std::ptrdiff_t>(take));
      listed_.erase(listed_.begin(), listed_.begin() + static_cast<std::ptrdiff_t>(take));
      for (const auto& e : batch) tried.insert(e.name);
      std::vector<Claim> won;
      const uint64_t others_before = stats_.decided_other;
      auto held = (this->*try_keys)(queue, batch, won);
      stats_.won += won.size();
      if (held.ok() && *held) contended = true;
      if ((held.ok() && *held) || stats_.decided_other > others_before) {
        // Another walker holds or took keys of this batch: it walks here too. Share the window
        // (seen afresh: the window this batch came from) and move to another lane rather than
        // trail it.
        if (!crowded_) {
          crowded_ = true;
          window_after_ = listed_start_;
        }
        quiet_listings_ = 0;
        lane_ = (lane_ + 1 + rng() % (kLanes - 1)) % kLanes;
        ++stats_.lane_moves;
        listed_.clear();
      }
      if (!won.empty()) {
        TrimKeyMemory();
        return won;
      }
      if (!held.ok()) return held.status();
    }
    window_after_.clear();  // the end of the queue: the next walk starts from the head
    listed_.clear();
    held_keys.clear();
    tried.clear();  // a new pass tries every key again (left_unsettled_: in full)
    crowded_ = false;
    // Keys left unsettled in this pass get their full rounds in the next (left_unsettled_):
    // the queue is not empty while one of them may still be pending somewhere.
    if (left_unsettled_.size() > left_before) continue;
    if (!contended) return Status::NotFound("queue " + queue + " is empty");
    Backoff(rng, pass + 3);
  }
  return Status::NotFound("queue " + queue + ": every function is locked by another claimer now");
}

}  // namespace dstk::claim
