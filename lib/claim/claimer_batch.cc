// The batched claim (dsclaim --batch): the same two phases as Claimer::TryKey, for up to
// wire::kMaxBatchKeys keys at once. One lock_read_delete message per unit carries every key
// with its own ballot number; each key is then judged on its own quorum by TallyPhase1
// (claim/tally.h), the function TryKey judges every round by. Two verdicts are settled here,
// both with one commit message per unit: commit us (a quorum of promises, no value to adopt, k
// slices read) and commit another owner (a quorum that reports another claimer's accepted
// owner: the commit names that owner at our ballot, so that units that missed it learn it, as
// TryKey does). Every other key (a stale promise to outbid, a commit short of its quorum, a
// finished lease to help finish) is released and handed to TryKey, whose rounds the spin model
// checks (tests/model/claim.pml). So the batch adds no protocol state of its own: per key it is
// TryKey's first round, sent together with other keys' first rounds, and the unit applies each
// key's op independently.
#include <algorithm>
#include <numeric>
#include <random>
#include <set>

#include "claim/claimer.h"
#include "claim/rounds.h"
#include "claim/tally.h"
#include "claim/walk.h"
#include "client/object_io.h"
#include "wire/limits.h"

namespace dstk::claim {
namespace {

using wire::ReplyStatus;

// A unit's result for key `i`, or nullptr when the unit refused the message as a whole (busy,
// bad_request) or answered for a different number of keys.
const wire::KeyResult* ResultFor(const net::Response& r, size_t i, size_t keys) {
  if (r.reply.results.size() != keys) return nullptr;
  return &r.reply.results[i];
}

// The slices of a batched reply: the payload frame holds them back to back, in result order.
// One span per result; empty where the result has no slice or the frame is short (a bad unit).
std::vector<std::span<const uint8_t>> SplitPayload(const net::Response& r) {
  std::vector<std::span<const uint8_t>> out(r.reply.results.size());
  const std::span<const uint8_t> all = r.Payload();
  size_t at = 0;
  for (size_t i = 0; i < out.size(); ++i) {
    const auto& slice = r.reply.results[i].slice;
    if (!slice) continue;
    const size_t len = slice->PayloadLength();
    if (len > all.size() - at) break;
    out[i] = all.subspan(at, len);
    at += len;
  }
  return out;
}

// Sends a batched request to `units` and gathers replies until every key has its quorum
// `q[i]` of ok results or can no longer reach it.
std::vector<net::Response> GatherBatch(net::Cluster& c, const std::vector<size_t>& units,
                                       const wire::Request& req, const std::vector<size_t>& q,
                                       const ClaimOptions& o) {
  ClaimOptions quiet = o;
  quiet.trace = nullptr;  // traced per key by the caller
  if (o.trace) {
    for (size_t u : units) {
      for (const auto& k : req.keys)
        o.trace({false, u, req.op, k.name, {k.n, req.ballot.id}, "", std::nullopt});
    }
  }
  const size_t keys = req.keys.size();
  auto got = TracedGather(
      c, units, req,
      [&](const std::vector<net::Response>& replies, size_t outstanding) {
        for (size_t i = 0; i < keys; ++i) {
          size_t ok = 0;
          for (const auto& r : replies) {
            const auto* res = ResultFor(r, i, keys);
            ok += res != nullptr && res->ok();
          }
          if (ok < q[i] && ok + outstanding >= q[i]) return false;
        }
        return true;
      },
      quiet);
  if (o.trace) {
    for (const auto& r : got) {
      for (size_t i = 0; i < keys; ++i) {
        const auto* res = ResultFor(r, i, keys);
        o.trace({true,
                 r.unit,
                 req.op,
                 req.keys[i].name,
                 {req.keys[i].n, req.ballot.id},
                 wire::ReplyStatusName(res ? res->status : r.reply.status),
                 res ? res->claim : std::nullopt});
      }
    }
  }
  return got;
}

}  // namespace

Result<bool> Claimer::TryBatch(const std::string& queue,
                               const std::vector<wire::ListEntry>& entries,
                               std::vector<Claim>& won) {
  std::vector<size_t> all(c_.size());
  std::iota(all.begin(), all.end(), size_t{0});
  Batch b = StartBatch(entries);
  if (o_.step) o_.step("phase 1: lock_read_delete of " + std::to_string(entries.size()) + " keys");
  const auto replies = GatherBatch(c_, all, b.lrd, b.q, o_);
  BatchPlan plan = JudgeBatch(entries, replies, b);
  // Release before TryKey's higher ballots: our own live lock would refuse them. The same
  // DEALER socket per unit keeps the release ahead of them.
  if (!plan.release.keys.empty()) {
    for (size_t u : all) {
      wire::Request r = plan.release;
      auto id = c_.Send(u, r);
      if (id.ok()) c_.Forget(*id);
    }
  }
  if (!plan.to_commit.empty()) CommitBatch(queue, entries, all, b, plan, won);
  return RetryEach(queue, entries, b, plan, won);
}

// Phase 1 for every key: lock_read_delete, each at a ballot above any it has seen.
Claimer::Batch Claimer::StartBatch(const std::vector<wire::ListEntry>& entries) {
  Batch b;
  b.lrd.op = wire::Op::kLockReadDelete;
  b.lrd.ballot = {1, id_};  // the id; each key carries its own number
  b.lrd.lease_ms = o_.lease_ms;
  b.lrd.mode = o_.mode;
  b.q.resize(entries.size());
  b.progress.resize(entries.size());
  for (size_t i = 0; i < entries.size(); ++i) {
    uint64_t& seen = seen_[entries[i].name];
    b.lrd.keys.push_back({entries[i].name, ++seen});
    b.q[i] = Quorum(entries[i].manifest.k, c_.size());
    ++stats_.rounds;
  }
  return b;
}

// Each key's phase-1 answers judged by TallyPhase1: to commit in the batch, to release and
// leave, or to release and hand to TryKey.
Claimer::BatchPlan Claimer::JudgeBatch(const std::vector<wire::ListEntry>& entries,
                                       const std::vector<net::Response>& replies, Batch& b) {
  const size_t keys = entries.size();
  std::vector<std::vector<std::span<const uint8_t>>> payloads;
  payloads.reserve(replies.size());
  for (const auto& r : replies) payloads.push_back(SplitPayload(r));
  BatchPlan plan;
  plan.owner.assign(keys, 0);
  plan.release = b.lrd;
  plan.release.op = wire::Op::kRelease;
  plan.release.keys.clear();
  for (size_t i = 0; i < keys; ++i) {
    const std::string& key = entries[i].name;
    std::vector<UnitAnswer> answers;
    for (size_t r = 0; r < replies.size(); ++r) {
      const auto* res = ResultFor(replies[r], i, keys);
      if (res == nullptr) continue;
      answers.push_back({replies[r].unit, res->status, res->claim ? &*res->claim : nullptr,
                         res->slice ? &*res->slice : nullptr, payloads[r][i]});
    }
    // Consume mode: a key seen consumed though a quorum listed it a moment ago was just taken
    // by another walker: leave it, as TryKey's first try does (skip_finished). A key fewer than
    // q units list (one that a unit missed the decision of) is taught instead.
    const bool may_leave = o_.mode == wire::ClaimMode::kConsume && entries[i].units >= b.q[i] &&
                           !left_unsettled_.count(key);
    const TallyContext ctx{.key = key,
                           .rev = entries[i].manifest.rev,
                           .k = entries[i].manifest.k,
                           .q = b.q[i],
                           .mode = o_.mode,
                           .us = id_,
                           .committed_ours = false,  // a batch is each key's first round
                           .may_leave = may_leave};
    const Phase1 t = TallyPhase1(answers, ctx, b.progress[i].slices);
    uint64_t& seen = seen_[key];
    seen = std::max(seen, t.highest);
    switch (t.verdict) {
      case Verdict::kCommitOurs:
      case Verdict::kCommitOther:
        // Ours, or decided (or about to be) for another owner: commit that owner at our
        // ballot, in the batch, so that units that missed it learn it (TryKey's step 5).
        plan.to_commit.push_back(i);
        plan.owner[i] = t.value;
        continue;
      case Verdict::kLeave:
        left_unsettled_.insert(key);
        ++stats_.decided_other;
        break;
      case Verdict::kLost:
      case Verdict::kTooFewSlices:  // too few readable slices here; try later
        ++stats_.lost;
        plan.contended = true;
        break;
      case Verdict::kGone:  // consumed or finished where it was seen, nobody holds it
        break;
      case Verdict::kRetry:          // stale promises, or units silent: TryKey outbids or explains
      case Verdict::kHelpFinish:     // someone ran it (lease mode); rare: TryKey helps finish
      case Verdict::kNothingToHelp:  // TryKey's rounds settle it
        plan.to_retry.push_back(i);
        break;
    }
    plan.release.keys.push_back(b.lrd.keys[i]);
  }
  return plan;
}

// Phase 2 for the keys promised by a quorum: one commit message per unit naming each key's
// chosen owner (us, or the one another claimer got accepted). Keys won go to `won`; keys whose
// commit fell short of their quorum join plan.to_retry.
void Claimer::CommitBatch(const std::string& queue, const std::vector<wire::ListEntry>& entries,
                          const std::vector<size_t>& all, Batch& b, BatchPlan& plan,
                          std::vector<Claim>& won) {
  wire::Request commit = b.lrd;
  commit.op = wire::Op::kCommit;
  commit.owner = id_;
  commit.keys.clear();
  std::vector<size_t> cq;
  for (size_t i : plan.to_commit) {
    commit.keys.push_back(b.lrd.keys[i]);
    if (plan.owner[i] != id_) commit.keys.back().owner = plan.owner[i];
    cq.push_back(b.q[i]);
    // From the send on, a commit naming us may land: we may not walk away from the key.
    if (plan.owner[i] == id_) b.progress[i].committed_ours = true;
  }
  if (o_.step) o_.step("phase 2: commit of " + std::to_string(plan.to_commit.size()) + " keys");
  const auto acks = GatherBatch(c_, all, commit, cq, o_);
  for (size_t j = 0; j < plan.to_commit.size(); ++j) {
    const size_t i = plan.to_commit[j];
    size_t ok = 0;
    uint32_t attempts = 0;
    for (const auto& r : acks) {
      const auto* res = ResultFor(r, j, plan.to_commit.size());
      if (res == nullptr) continue;
      if (res->claim) {
        uint64_t& seen = seen_[entries[i].name];
        seen = std::max(seen, res->claim->promised.n);
      }
      if (!res->ok()) continue;
      ++ok;
      if (res->claim) attempts = std::max(attempts, res->claim->attempts);
    }
    if (ok >= b.q[i] && plan.owner[i] != id_) {
      ++stats_.decided_other;
    } else if (ok >= b.q[i]) {
      if (WonBefore(entries[i].name)) continue;  // our own earlier claim (claimer.h)
      won.push_back(
          Won(queue, entries[i].name, {b.lrd.keys[i].n, id_}, attempts, b.progress[i].slices));
    } else {
      plan.to_retry.push_back(i);  // not decided yet: TryKey keeps learning (or teaching)
    }
  }
}

// The keys the batch did not settle, one at a time through TryKey; keys with a commit naming us
// first, since those may not be left undecided. Returns whether another claimer held any key.
Result<bool> Claimer::RetryEach(const std::string& queue,
                                const std::vector<wire::ListEntry>& entries, Batch& b,
                                BatchPlan& plan, std::vector<Claim>& won) {
  std::stable_partition(plan.to_retry.begin(), plan.to_retry.end(),
                        [&](size_t i) { return b.progress[i].committed_ours; });
  for (size_t i : plan.to_retry) {
    ++stats_.retried;
    bool stop = false;
    DSTK_RETURN_IF_ERROR(TryCollect(queue, entries[i], std::move(b.progress[i]),
                                    /*skip_finished=*/false, won, plan.contended, stop));
    if (stop) break;
  }
  return plan.contended;
}

}  // namespace dstk::claim
