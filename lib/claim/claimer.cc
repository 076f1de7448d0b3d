#include "claim/claimer.h"

#include <algorithm>
#include <chrono>
#include <optional>
#include <random>
#include <thread>
#include <unordered_map>

#include "claim/rounds.h"
#include "claim/tally.h"
#include "client/object_io.h"
#include "client/placement.h"
#include "client/refusals.h"

namespace dstk::claim {
using wire::ReplyStatus;
namespace {

// kForbidden when units refusing `key` as forbidden put the quorum q of n out of reach (the
// client's key has no claim right on the key's queue there), else Ok.
Status Forbidden(const std::string& key, const std::vector<net::Response>& replies, size_t n,
                 size_t q) {
  size_t forbidden = 0;
  std::string why;
  for (const auto& r : replies) {
    if (r.reply.status != ReplyStatus::kForbidden) continue;
    if (++forbidden == 1) why = r.reply.error;
  }
  if (!client::ForbiddenDecides(forbidden, n, q)) return Status::Ok();
  return Status::Forbidden("claim " + key + ": " + std::to_string(forbidden) + " of the " +
                           std::to_string(n) + " units refused it as forbidden (" + why +
                           "), the claim quorum is q=" + std::to_string(q));
}

// The phase-1 tally (claim/tally.h) of one round's replies.
Phase1 TallyReplies(const std::vector<net::Response>& replies, const TallyContext& ctx,
                    SlicesByPillar& slices) {
  std::vector<UnitAnswer> answers;
  answers.reserve(replies.size());
  for (const auto& r : replies) {
    answers.push_back({r.unit, r.reply.status, r.reply.claim ? &*r.reply.claim : nullptr,
                       r.reply.slice ? &*r.reply.slice : nullptr, r.Payload()});
  }
  return TallyPhase1(answers, ctx, slices);
}

}  // namespace

Claimer::Claimer(net::Cluster& cluster, ClaimOptions options)
    : c_(cluster), o_(std::move(options)) {
  std::random_device rd;
  id_ = (uint64_t{rd()} << 32 | rd()) | 1;              // never 0: 0 means "no owner"
  lane_ = ((id_ * 0x9e3779b97f4a7c15) >> 32) % kLanes;  // a hash of the id: walkers spread
}

Claim Claimer::Won(const std::string& queue, const std::string& key, const wire::Ballot& ballot,
                   uint32_t attempts, SlicesByPillar& slices) {
  if (o_.mode == wire::ClaimMode::kConsume && won_keys_.insert(key).second) {
    won_order_.push_back(key);
    if (won_order_.size() > kMaxWonKeys) {
      won_keys_.erase(won_order_.front());
      won_order_.pop_front();
    }
  }
  Claim out;
  out.queue = queue;
  out.key = key;
  out.ballot = ballot;
  out.mode = o_.mode;
  out.lease_ms = o_.lease_ms;
  out.attempts = attempts;
  for (auto& [idx, slice] : slices) out.slices.push_back(std::move(slice));
  return out;
}

Result<Claimer::Outcome> Claimer::TryKey(const std::string& queue, const wire::ListEntry& entry,
                                         Claim& out, KeyProgress progress, bool skip_finished) {
  const std::string& key = entry.name;
  const size_t n = c_.size();
  std::vector<size_t> all(n);
  for (size_t u = 0; u < n; ++u) all[u] = u;
  std::mt19937_64 rng(id_ ^ std::hash<std::string>{}(key));
  // progress.committed_ours: once we sent a commit naming us, we may not walk away
  // (docs/claim.md step 6): it may land after we stopped waiting for it, and a later claimer
  // then decides the function for us.
  for (int round = 0; round < 64; ++round) {
    uint64_t& seen = seen_[key];
    const Round r{.key = key,
                  .all = all,
                  .ballot = {seen + 1, id_},
                  .q = Quorum(entry.manifest.k, n),
                  .number = round};
    seen = r.ballot.n;
    ++stats_.rounds;

    // Phase 1: lock-read-delete to all n units; stop once q promised or q is out of reach.
    if (o_.step)
      o_.step("phase 1: lock_read_delete " + key + " ballot " + std::to_string(r.ballot.n));
    const TallyContext ctx{.key = key,
                           .rev = entry.manifest.rev,
                           .k = entry.manifest.k,
                           .q = r.q,
                           .mode = o_.mode,
                           .us = id_,
                           .committed_ours = progress.committed_ours,
                           .may_leave = skip_finished && !left_unsettled_.count(key)};
    std::vector<size_t> unreachable;
    const auto replies = LockReadDelete(all, ctx, r.ballot, unreachable);
    const Phase1 t = TallyReplies(replies, ctx, progress.slices);
    seen = std::max(seen, t.highest);

    // Consumed or done on a unit: the key was decided, almost surely for the claimer that took
    // it a moment ago (the listing we walk is a round old). Outbidding the stale promises and
    // committing that owner only teaches units that missed the decision, which cost a durable
    // round or two each, so a walker's first try moves on instead. No commit of ours was sent,
    // so walking away is safe (step 6 does not apply); a unit that missed the decision keeps
    // listing the key; met again, it gets the full rounds (left_unsettled_).
    if (t.verdict == Verdict::kLeave) {
      left_unsettled_.insert(key);
      ReleaseAll(c_, all, key, r.ballot, o_);
      ++stats_.decided_other;
      return Outcome::kLeft;
    }
    auto settled = ShortOfQuorum(t.verdict)
                       ? FellShort(r, t, replies, unreachable, progress.committed_ours, rng)
                       : Settle(queue, entry, r, t, progress, out);
    if (!settled.ok()) return settled.status();
    if (*settled) return **settled;
    if (!ShortOfQuorum(t.verdict)) Backoff(rng, round);  // not decided yet: learn again, higher
  }
  return Status::Unavailable("claim " + key + ": still undecided after 64 rounds");
}

Status Claimer::TryCollect(const std::string& queue, const wire::ListEntry& entry,
                           KeyProgress progress, bool skip_finished, std::vector<Claim>& won,
                           bool& contended, bool& stop) {
  Claim claim;
  auto outcome = TryKey(queue, entry, claim, std::move(progress), skip_finished);
  if (!outcome.ok()) {
    stop = true;
    // Hand over what was won; the next call meets the error again.
    return won.empty() ? outcome.status() : Status::Ok();
  }
  if (*outcome == Outcome::kWon) won.push_back(std::move(claim));
  if (*outcome == Outcome::kLost) {
    ++stats_.lost;
    contended = true;
  }
  return Status::Ok();
}

// A round short of its quorum: released everywhere; the key's outcome or error, or nullopt for
// another round.
Result<std::optional<Claimer::Outcome>> Claimer::FellShort(
    const Round& r, const Phase1& t, const std::vector<net::Response>& replies,
    const std::vector<size_t>& unreachable, bool committed_ours, std::mt19937_64& rng) {
  // Release everywhere: a unit whose promise arrived after we stopped waiting holds a lock for
  // us too, and release is a no-op where our ballot is not the promised one.
  ReleaseAll(c_, r.all, r.key, r.ballot, o_);
  if (committed_ours) {
    Backoff(rng, r.number);
    return std::optional<Outcome>();  // keep learning until decided
  }
  // Units whose allow-list denies this client the claim will deny every round: say so.
  if (Status refused = Forbidden(r.key, replies, c_.size(), r.q); !refused.ok()) return refused;
  if (Status silent = Unanswered(r.key, replies, unreachable, t.promised.size(), r.q); !silent.ok())
    return silent;
  // Refused only by stale promises or epochs (of claimers gone, or of a finished function that
  // a unit here still lists): go higher, to claim it or to learn and help it finish.
  if (t.verdict == Verdict::kRetry && r.number < 3) return std::optional<Outcome>();
  return std::optional<Outcome>(t.verdict != Verdict::kLost && t.gone_seen ? Outcome::kGone
                                                                           : Outcome::kLost);
}

// A round that q units promised: phase 2 when the tally chose a value to commit. The key's
// outcome, or nullopt when the commit is not decided yet.
Result<std::optional<Claimer::Outcome>> Claimer::Settle(const std::string& queue,
                                                        const wire::ListEntry& entry,
                                                        const Round& r, const Phase1& t,
                                                        KeyProgress& progress, Claim& out) {
  if (t.verdict == Verdict::kNothingToHelp) {
    ReleaseAll(c_, t.promised, r.key, r.ballot, o_);
    return std::optional<Outcome>(Outcome::kGone);
  }
  if (t.verdict == Verdict::kTooFewSlices) {
    ReleaseAll(c_, t.promised, r.key, r.ballot, o_);
    return std::optional<Outcome>(Outcome::kLost);  // too few readable slices among the promises
  }
  // Phase 2: commit to every unit (a unit that did not promise accepts too unless it promised
  // a higher ballot), so that units that missed phase 1 learn the decision now.
  if (o_.step) o_.step("phase 2: commit " + r.key + " ballot " + std::to_string(r.ballot.n));
  // Set on sending, not on an ack: a commit still in flight when Gather stops waiting can be
  // accepted later and decided for us by the next claimer; walking away then would lose the
  // function in consume mode (the spin model's counterexample, docs/claim.md "The model").
  if (t.value == id_) progress.committed_ours = true;
  const auto accepted = Commit(r.all, r.key, r.ballot, t.value, r.q);
  uint64_t& seen = seen_[r.key];
  uint32_t attempts = 0;
  for (const auto& a : accepted) {
    if (!a.reply.claim) continue;
    seen = std::max(seen, a.reply.claim->promised.n);
    attempts = std::max(attempts, a.reply.claim->attempts);
  }
  if (OkCount(accepted) < r.q) return std::optional<Outcome>();
  if (t.verdict == Verdict::kHelpFinish) {
    SendAll(c_, r.all, wire::Op::kFinish, r.key, r.ballot, o_);
    return std::optional<Outcome>(Outcome::kGone);
  }
  if (t.value != id_) {
    ++stats_.decided_other;
    return std::optional<Outcome>(Outcome::kDecidedOther);
  }
  // Our own earlier claim, which a unit had missed and has now been taught: not a new one.
  if (WonBefore(r.key)) return std::optional<Outcome>(Outcome::kGone);
  if (progress.slices.size() < entry.manifest.k)
    return Status::Unavailable("claim " + r.key + ": won without k readable slices");
  out = Won(queue, r.key, r.ballot, attempts, progress.slices);
  return std::optional<Outcome>(Outcome::kWon);
}

// Phase 1 of one round: lock_read_delete to all n units, until q promised or q is out of reach.
std::vector<net::Response> Claimer::LockReadDelete(const std::vector<size_t>& all,
                                                   const TallyContext& ctx,
                                                   const wire::Ballot& ballot,
                                                   std::vector<size_t>& unreachable) {
  wire::Request lrd;
  lrd.op = wire::Op::kLockReadDelete;
  lrd.name = ctx.key;
  lrd.ballot = ballot;
  lrd.lease_ms = o_.lease_ms;
  lrd.mode = o_.mode;
  const size_t q = ctx.q;
  return TracedGather(
      c_, all, lrd,
      [q](const std::vector<net::Response>& got, size_t outstanding) {
        const size_t ok = OkCount(got);
        return ok >= q || ok + outstanding < q;
      },
      o_, &unreachable);
}

// When a round fell short of q with no refusal to explain it: too few units connected, or
// units that did not answer in time, named. Ok when neither is why.
Status Claimer::Unanswered(const std::string& key, const std::vector<net::Response>& replies,
                           const std::vector<size_t>& unreachable, size_t promised,
                           size_t q) const {
  const size_t n = c_.size();
  // Too few units connected to reach a quorum: name those, not the ones not waited for.
  if (n - unreachable.size() < q) {
    std::string cut;
    for (size_t u : unreachable) cut += (cut.empty() ? "" : ", ") + c_.Describe(u);
    return Status::Unavailable("claim " + key + ": only " + std::to_string(n - unreachable.size()) +
                               " of the " + std::to_string(n) +
                               " units are reachable, the claim quorum is q=" + std::to_string(q) +
                               " (not connected: " + cut + "); start or reach those units");
  }
  // No refusal at all means the missing answers are units that did not reply in time.
  if (replies.size() == promised && replies.size() < q) {
    std::vector<bool> answered(n, false);
    for (const auto& r : replies) answered[r.unit] = true;
    std::string silent;
    for (size_t u = 0; u < n; ++u) {
      if (!answered[u]) silent += (silent.empty() ? "" : ", ") + c_.Describe(u);
    }
    return Status::Unavailable("claim " + key + ": only " + std::to_string(replies.size()) +
                               " units answered, the claim quorum is q=" + std::to_string(q) +
                               " (no reply within " + std::to_string(c_.timeout().count()) +
                               " ms from " + silent + "); start or reach those units");
  }
  return Status::Ok();
}

// Phase 2 of one round: commit `value` at `ballot` to all n units, until q accepted or q is out
// of reach.
std::vector<net::Response> Claimer::Commit(const std::vector<size_t>& all, const std::string& key,
                                           const wire::Ballot& ballot, uint64_t value, size_t q) {
  wire::Request commit;
  commit.op = wire::Op::kCommit;
  commit.name = key;
  commit.ballot = ballot;
  commit.owner = value;
  commit.lease_ms = o_.lease_ms;
  commit.mode = o_.mode;
  return TracedGather(
      c_, all, commit,
      [q](const std::vector<net::Response>& got, size_t outstanding) {
        const size_t ok = OkCount(got);
        return ok >= q || ok + outstanding < q;
      },
      o_);
}

void Claimer::TrimKeyMemory() {
  constexpr size_t kMaxKeys = 4096;
  if (seen_.size() > kMaxKeys) seen_.clear();
  if (left_unsettled_.size() > kMaxKeys) left_unsettled_.clear();
}

void Claimer::KeepPlacedHere(std::vector<wire::ListEntry>& entries) {
  const std::vector<std::string> here = client::PlacementIds(c_);
  bool lines_in_order = true;  // this view is node list lines 0..n-1
  for (size_t u = 0; u < c_.size(); ++u) lines_in_order &= c_.NetworkIndex(u) == u;
  const auto before = entries.size();
  std::erase_if(entries, [&](const wire::ListEntry& e) {
    if (e.manifest.n != c_.size()) return true;
    if (!e.manifest.placement.empty() && !here.empty()) return e.manifest.placement != here;
    // Written without ids (pillar i on line i), or ids unknown here: lines decide.
    return !lines_in_order;
  });
  stats_.elsewhere += before - entries.size();
}

}  // namespace dstk::claim
