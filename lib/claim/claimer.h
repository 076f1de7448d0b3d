// The claimer: walks a queue in key order and claims the next function by lock-read-delete
// (Paxos phase 1 with the read) and commit (phase 2), as docs/claim.md describes. A claimer
// that loses a key in phase 1 releases what it locked and moves to the next key; one that had
// any commit accepted keeps learning until that key is decided.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "claim/tally.h"
#include "codec/slice.h"
#include "net/cluster.h"
#include "util/status.h"
#include "wire/message.h"

namespace dstk::claim {

// One protocol message, for --trace: a request sent or a reply received.
struct TraceEvent {
  bool reply = false;
  size_t unit = 0;
  wire::Op op = wire::Op::kLockReadDelete;
  std::string key;
  wire::Ballot ballot;
  std::string status;  // replies only
  std::optional<wire::ClaimView> view;
};

struct ClaimOptions {
  wire::ClaimMode mode = wire::ClaimMode::kConsume;
  uint32_t lease_ms = 30000;
  std::function<void(const TraceEvent&)> trace;
  std::function<void(const std::string& phase)> step;  // called before each phase (--step)
};

// A won claim: what dsrun needs to run the function and to keep or finish its lease.
struct Claim {
  std::string queue;
  std::string key;
  wire::Ballot ballot;  // ballot.n is the claim token
  wire::ClaimMode mode = wire::ClaimMode::kConsume;
  uint32_t lease_ms = 0;
  uint32_t attempts = 0;  // runs started, this one included
  std::vector<std::pair<codec::SliceHeader, std::vector<uint8_t>>> slices;  // >= k
};

struct ClaimStats {
  uint64_t won = 0;
  uint64_t lost = 0;           // keys lost in phase 1 to another claimer
  uint64_t decided_other = 0;  // keys found decided for someone else
  uint64_t rounds = 0;         // phase-1 rounds sent
  uint64_t elsewhere = 0;      // functions skipped: placed on other units (KeepPlacedHere)
  uint64_t listings = 0;       // listings of the queue the walk asked for
  uint64_t listed = 0;         // names those listings returned (merged over the units)
  uint64_t retried = 0;        // keys of a batch handed to one-key rounds (TryKey)
  uint64_t lane_moves = 0;     // a crowded walker moved to another lane
};

class Claimer {
 public:
  Claimer(net::Cluster& cluster, ClaimOptions options);

  // Claims the next function of `queue` in order, with one-key messages (lock_read_delete and
  // commit of one key). kNotFound when no key is claimable now; kUnavailable when too few units
  // answer to reach a quorum. Walks the queue like NextBatch (docs/claim.md, "Walkers share
  // the queue"): alone, in order from a listing kept across calls; beside other walkers, in
  // lanes.
  Result<Claim> Next(const std::string& queue);

  // Claims up to `max` (at most wire::kMaxBatchKeys) of the next functions at once: one
  // lock_read_delete message per unit carrying the next keys of the queue, each key decided by
  // its own quorum, then one commit message per unit for the keys won in phase 1. A key the
  // batch cannot settle cleanly (a stale promise, another owner's accepted value, a commit
  // short of its quorum) goes through Next()'s one-key rounds. At least one claim, or the
  // error Next() would give; claims won before an error are returned, never dropped.
  Result<std::vector<Claim>> NextBatch(const std::string& queue, size_t max);

  uint64_t id() const { return id_; }
  const ClaimStats& stats() const { return stats_; }
  static size_t Quorum(size_t k, size_t n) { return std::max(k, n / 2 + 1); }

 private:
  // kLeft: seen consumed or done and left unsettled by a first try (skip_finished).
  enum class Outcome { kWon, kLost, kDecidedOther, kGone, kLeft };
  // What a key's earlier rounds left: whether a commit naming us was sent (we may then not
  // walk away, docs/claim.md step 6) and the slices read so far.
  struct KeyProgress {
    bool committed_ours = false;
    SlicesByPillar slices;
  };
  // With `skip_finished`, a key that a unit reports consumed or done is left at once (see
  // claimer.cc): a walker's first try of each key; its end-of-pass tries teach such keys.
  Result<Outcome> TryKey(const std::string& queue, const wire::ListEntry& entry, Claim& out,
                         KeyProgress progress, bool skip_finished = false);
  // One round of TryKey on a key: its ballot, its quorum and the units it goes to.
  struct Round {
    const std::string& key;
    const std::vector<size_t>& all;  // every unit of the view
    wire::Ballot ballot;
    size_t q = 0;
    int number = 0;  // 0 for the key's first round in this TryKey
  };
  // TryKey's steps (claimer.cc): one round's phase 1; what a round short of its quorum leads to
  // (FellShort) and one that reached it (Settle, with phase 2): the key's outcome, or nullopt
  // for another round; and why a round that no unit refused fell short of its quorum.
  Result<std::optional<Outcome>> FellShort(const Round& r, const Phase1& t,
                                           const std::vector<net::Response>& replies,
                                           const std::vector<size_t>& unreachable,
                                           bool committed_ours, std::mt19937_64& rng);
  Result<std::optional<Outcome>> Settle(const std::string& queue, const wire::ListEntry& entry,
                                        const Round& r, const Phase1& t, KeyProgress& progress,
                                        Claim& out);
  std::vector<net::Response> LockReadDelete(const std::vector<size_t>& all, const TallyContext& ctx,
                                            const wire::Ballot& ballot,
                                            std::vector<size_t>& unreachable);
  std::vector<net::Response> Commit(const std::vector<size_t>& all, const std::string& key,
                                    const wire::Ballot& ballot, uint64_t value, size_t q);
  Status Unanswered(const std::string& key, const std::vector<net::Response>& replies,
                    const std::vector<size_t>& unreachable, size_t promised, size_t q) const;
  // The walk both paths take (claimer_walk.cc): lists windows of the queue and hands their keys
  // to `try_keys`, max at a time, until one is won, the queue is empty, or every key is held.
  using TryKeys = Result<bool> (Claimer::*)(const std::string& queue,
                                            const std::vector<wire::ListEntry>& entries,
                                            std::vector<Claim>& won);
  // With `held_last` (one-key walks), keys that a listing showed held by another claimer are
  // tried once per pass after every free key, as the units' answer is the authority.
  Result<std::vector<Claim>> Walk(const std::string& queue, size_t max, TryKeys try_keys,
                                  bool held_last);
  // Next()'s way to try keys (claimer_walk.cc): TryKey's one-key rounds, TryBatch's contract.
  Result<bool> TryOne(const std::string& queue, const std::vector<wire::ListEntry>& entries,
                      std::vector<Claim>& won);
  // TryKey on one key of a walk or a batch, its outcome folded in: a win joins `won`, a loss
  // counts and sets `contended`. On an error, sets `stop`; the error is returned only when
  // nothing was won yet (what was won is handed over, and the next call meets the error again).
  Status TryCollect(const std::string& queue, const wire::ListEntry& entry, KeyProgress progress,
                    bool skip_finished, std::vector<Claim>& won, bool& contended, bool& stop);
  // One batch of keys (claimer_batch.cc): appends the claims won to `won`; returns whether
  // another claimer held any of the keys.
  Result<bool> TryBatch(const std::string& queue, const std::vector<wire::ListEntry>& entries,
                        std::vector<Claim>& won);
  // A batch's phase-1 request and what each key of it has so far.
  struct Batch {
    wire::Request lrd;                  // the lock_read_delete of every key, each its own ballot
    std::vector<size_t> q;              // each key's claim quorum
    std::vector<KeyProgress> progress;  // each key's slices and whether a commit named us
  };
  // What phase 1 decided for each key of a batch (indexes into it).
  struct BatchPlan {
    std::vector<size_t> to_commit;  // q promised and a value chosen: commit in the batch
    std::vector<uint64_t> owner;    // the value each key's commit names
    std::vector<size_t> to_retry;   // released, then settled by TryKey's rounds
    wire::Request release;          // every key not committed
    bool contended = false;         // another claimer held a key
  };
  // TryBatch's steps (claimer_batch.cc): the request, the per-key tally, phase 2 of the keys
  // to commit, and TryKey for the rest.
  Batch StartBatch(const std::vector<wire::ListEntry>& entries);
  BatchPlan JudgeBatch(const std::vector<wire::ListEntry>& entries,
                       const std::vector<net::Response>& replies, Batch& b);
  void CommitBatch(const std::string& queue, const std::vector<wire::ListEntry>& entries,
                   const std::vector<size_t>& all, Batch& b, BatchPlan& plan,
                   std::vector<Claim>& won);
  Result<bool> RetryEach(const std::string& queue, const std::vector<wire::ListEntry>& entries,
                         Batch& b, BatchPlan& plan, std::vector<Claim>& won);
  // Drops the functions that do not live on exactly this claimer's units (pushed with another
  // width, or on another node list): a claim quorum is a majority of the units that hold the
  // function, so claiming one on other units could let two claimers both win it.
  void KeepPlacedHere(std::vector<wire::ListEntry>& entries);
  // Lists up to `limit` keys of `queue` after `after` (sets listed_end_ to the last name
  // listed), keeping the claimable ones placed on this claimer's units; with `lane`, the keys
  // of that lane only.
  Result<std::vector<wire::ListEntry>> ListWindow(const std::string& queue,
                                                  const std::string& after, size_t limit,
                                                  wire::ListLane lane = {});
  // A crowded walker's listing of its own lane only (units filter it): true when it filled
  // listed_ with at least half of `want` keys; false when the lane runs thin in the window,
  // and FillWindow then lists every lane to pick one.
  Result<bool> FillFromLane(const std::string& queue, size_t want,
                            const std::set<std::string>& tried,
                            std::map<std::string, wire::ListEntry>* held);
  // The walk's next keys into listed_ (claimer_walk.cc): false at the end of the queue.
  // With `held`, appends the keys a crowded listing shows held by others.
  Result<bool> FillWindow(const std::string& queue, size_t max, const std::set<std::string>& tried,
                          bool& contended, std::map<std::string, wire::ListEntry>* held);
  // Bounds seen_ and left_unsettled_ (called after a win: what they hold is only an
  // optimisation or a retry hint, safe to forget).
  void TrimKeyMemory();
  // The claim won on `key`, remembered in consume mode (won_keys_).
  Claim Won(const std::string& queue, const std::string& key, const wire::Ballot& ballot,
            uint32_t attempts, SlicesByPillar& slices);
  // Whether this claimer already handed out a consume-mode claim of `key`: a unit that missed
  // that commit still lists the key, and the rounds that teach it find our own id accepted.
  // Winning it again would run the function twice, so such a key counts as gone.
  bool WonBefore(const std::string& key) const {
    return o_.mode == wire::ClaimMode::kConsume && won_keys_.count(key) > 0;
  }

  net::Cluster& c_;
  ClaimOptions o_;
  uint64_t id_;
  std::map<std::string, uint64_t> seen_;  // key -> highest ballot number seen (bounded)
  // Keys a walker left after seeing them consumed or done without settling them (skip_finished):
  // met again, such a key gets the full rounds, so one that a unit missed the decision of (or
  // a lease finish that reached too few units) is settled rather than skipped for ever.
  std::set<std::string> left_unsettled_;  // bounded like seen_
  // Keys won in consume mode (WonBefore), the oldest forgotten past kMaxWonKeys: a unit that
  // missed a decision learns it within a walk or two, long before that many claims.
  static constexpr size_t kMaxWonKeys = size_t{1} << 16;
  std::set<std::string> won_keys_;
  std::deque<std::string> won_order_;
  // The walk (claimer_walk.cc). Alone, a walker keeps its window's listing across
  // calls (keys listed and not tried yet, in order). Crowded (another walker met), it keeps the
  // keys of its lane `lane_` (walk.h) from a fresh listing of the window instead; the lane
  // starts from a hash of the claimer id and moves whenever a batch meets another walker.
  static constexpr size_t kLanes = 4;          // also the batches a lone walker lists at once
  static constexpr size_t kLaneBatches = 3;    // batches of its lane a crowded walker lists
  static constexpr size_t kQuietListings = 8;  // crowded listings with nobody met: alone again
  static constexpr size_t kMinListed = 8;      // keys per batch the walk lists, at least
  static constexpr size_t kLaneListings = 8;   // crowded: listings of the lane alone in a row
  std::string listed_queue_;
  std::deque<wire::ListEntry> listed_;
  std::string listed_start_;  // the lone listing started after this name
  std::string window_after_;  // the next listing starts after this name (empty: the head)
  std::string listed_end_;    // the last name of the latest listing
  bool crowded_ = false;
  size_t quiet_listings_ = 0;
  size_t window_held_ = 0;    // keys others held in the latest crowded listing
  size_t lane_held_ = 0;      // keys others held in the latest listing of the lane alone
  size_t lane_listings_ = 0;  // listings of the lane alone since the last of every lane
  size_t lane_;
  ClaimStats stats_;
};

}  // namespace dstk::claim
