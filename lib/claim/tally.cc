#include "claim/tally.h"

#include <algorithm>

#include "util/name_table.h"

namespace dstk::claim {
using wire::ReplyStatus;

namespace {

// What every answer says, promising or not: the highest ballot seen and why units refused.
// Returns the promising answers.
std::vector<const UnitAnswer*> ScanAnswers(const std::vector<UnitAnswer>& answers, Phase1& t) {
  std::vector<const UnitAnswer*> promising;
  for (const auto& a : answers) {
    if (a.claim != nullptr) {
      t.highest = std::max({t.highest, a.claim->promised.n, a.claim->epoch, a.claim->accepted.n});
      if (a.claim->state != wire::ClaimPhase::kPending) t.gone_seen = t.finished_seen = true;
    }
    if (a.status == ReplyStatus::kOk) {
      promising.push_back(&a);
      t.promised.push_back(a.unit);
    } else if (a.status == ReplyStatus::kLocked && a.claim != nullptr &&
               a.claim->lock_ms_left > 0) {
      t.live_lock_seen = true;
    } else if (a.status == ReplyStatus::kLocked) {
      t.stale_seen = true;  // a promise or an epoch above our ballot, nobody's live lock
    } else if (a.status == ReplyStatus::kNotFound) {
      t.gone_seen = true;
    }
  }
  return promising;
}

// Step 4: the value is the owner of the highest accepted ballot among the promises, else us.
// Sets `finished` when a promising unit reports the function consumed or done.
uint64_t ValueToCommit(const std::vector<const UnitAnswer*>& promising, const TallyContext& ctx,
                       bool& finished) {
  uint64_t value = ctx.us;
  wire::Ballot best{0, 0};
  finished = false;
  for (const auto* a : promising) {
    if (a->claim == nullptr) continue;
    const auto& v = *a->claim;
    if (v.state != wire::ClaimPhase::kPending) finished = true;
    if (!v.has_accepted) continue;
    // Lease mode: a unit that promised us had no live lease, so an accepted owner seen here
    // has lapsed; it is replaced unless the function is already consumed or done.
    if (ctx.mode == wire::ClaimMode::kLease && v.state == wire::ClaimPhase::kPending) continue;
    if (best < v.accepted) best = v.accepted, value = v.owner;
  }
  return value;
}

// Adds the promising units' verified slices of the listed revision to `slices`.
void KeepSlices(const std::vector<const UnitAnswer*>& promising, const TallyContext& ctx,
                SlicesByPillar& slices) {
  for (const auto* a : promising) {
    if (a->slice == nullptr || a->payload.empty() ||
        !codec::VerifySlice(*a->slice, a->payload).ok())
      continue;
    const auto& h = *a->slice;
    if (h.name != ctx.key || h.rev != ctx.rev || slices.count(h.idx)) continue;
    slices.emplace(h.idx,
                   std::make_pair(h, std::vector<uint8_t>(a->payload.begin(), a->payload.end())));
  }
}

}  // namespace

Phase1 TallyPhase1(const std::vector<UnitAnswer>& answers, const TallyContext& ctx,
                   SlicesByPillar& slices) {
  Phase1 t;
  const std::vector<const UnitAnswer*> promising = ScanAnswers(answers, t);

  // Consumed or done on a unit: decided, almost surely for the claimer that took it a moment
  // ago (the caller's listing is a round old). No commit of ours was sent, so leaving is the
  // phase-1 loss of step 3 with promises in hand.
  if (ctx.may_leave && t.finished_seen && !ctx.committed_ours) {
    t.verdict = Verdict::kLeave;
    return t;
  }

  // Step 3: fewer than q promises.
  if (promising.size() < ctx.q) {
    if (ctx.committed_ours || (!t.live_lock_seen && (t.stale_seen || !t.gone_seen)))
      t.verdict = Verdict::kRetry;
    else if (t.live_lock_seen)
      t.verdict = Verdict::kLost;
    else
      t.verdict = Verdict::kGone;
    return t;
  }

  bool finished = false;
  t.value = ValueToCommit(promising, ctx, finished);
  // Lease mode, finished somewhere: its owner ran it and sent finish, but a unit that missed the
  // owner's commit would keep the function listed for ever. Helping means committing that owner
  // (any ballot may carry a chosen value) and finishing it everywhere.
  const bool help_finish = ctx.mode == wire::ClaimMode::kLease && finished;
  if (help_finish && t.value == ctx.us) {
    t.verdict = Verdict::kNothingToHelp;
    return t;
  }
  KeepSlices(promising, ctx, slices);
  if (help_finish) {
    t.verdict = Verdict::kHelpFinish;
  } else if (t.value != ctx.us) {
    t.verdict = Verdict::kCommitOther;
  } else if (slices.size() < ctx.k && !ctx.committed_ours) {
    t.verdict = Verdict::kTooFewSlices;  // an owner that cannot decode must not be chosen
  } else {
    t.verdict = Verdict::kCommitOurs;
  }
  return t;
}

bool ShortOfQuorum(Verdict v) {
  return v == Verdict::kRetry || v == Verdict::kLost || v == Verdict::kGone;
}

constexpr NameTable<Verdict, 9> kVerdicts = {{
    {Verdict::kLeave, "leave"},
    {Verdict::kRetry, "retry"},
    {Verdict::kLost, "lost"},
    {Verdict::kGone, "gone"},
    {Verdict::kTooFewSlices, "too_few_slices"},
    {Verdict::kCommitOurs, "commit_ours"},
    {Verdict::kCommitOther, "commit_other"},
    {Verdict::kHelpFinish, "help_finish"},
    {Verdict::kNothingToHelp, "nothing_to_help"},
}};

const char* VerdictName(Verdict v) {
  return NameIn(kVerdicts, v, "?");
}

}  // namespace dstk::claim
