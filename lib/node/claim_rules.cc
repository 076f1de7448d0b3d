#include "node/claim_rules.h"

namespace dstk::node {
bool LockLive(const store::ClaimState& s, int64_t now) {
  return now < s.lock_until_ms;
}

namespace {

using Phase = store::ClaimState::Phase;

ClaimDecision Refuse(wire::ReplyStatus st, std::string why) {
  ClaimDecision d;
  d.status = st;
  d.error = std::move(why);
  return d;
}

std::string Show(const wire::Ballot& b) {
  return std::to_string(b.n) + "/" + std::to_string(b.id);
}

ClaimDecision LockReadDelete(store::ClaimState& s, const wire::Request& r, int64_t now) {
  if (s.promised > r.ballot) {
    return Refuse(wire::ReplyStatus::kLocked, "promised to a higher ballot " + Show(s.promised));
  }
  if (LockLive(s, now) && s.promised != r.ballot) {
    return Refuse(wire::ReplyStatus::kLocked, "locked by ballot " + Show(s.promised));
  }
  // A new owner's token must exceed every token accepted here, or fencing could not tell a
  // deposed owner from its successor.
  if (s.has_accepted && r.ballot.n <= s.epoch && r.ballot != s.accepted) {
    return Refuse(wire::ReplyStatus::kLocked,
                  "stale ballot: epoch here is " + std::to_string(s.epoch));
  }
  s.promised = r.ballot;
  s.lock_until_ms = now + r.lease_ms;
  ClaimDecision d;
  d.save = true;
  d.send_slice = s.phase == Phase::kPending;
  return d;
}

ClaimDecision Commit(store::ClaimState& s, const wire::Request& r, int64_t now) {
  if (s.promised > r.ballot) {
    return Refuse(wire::ReplyStatus::kConflict, "promised to a higher ballot " + Show(s.promised));
  }
  if (s.phase != Phase::kPending && s.has_accepted && s.owner != r.owner) {
    return Refuse(wire::ReplyStatus::kConflict, "already decided for another owner");
  }
  const bool pending = s.phase == Phase::kPending;
  // One more run started; a commit that only teaches a finished function its owner starts none.
  if (pending && (!s.has_accepted || s.accepted != r.ballot)) ++s.attempts;
  s.promised = r.ballot;
  s.has_accepted = true;
  s.accepted = r.ballot;
  s.owner = r.owner;
  s.epoch = std::max(s.epoch, r.ballot.n);
  // A finished function needs no lease: a lock here would only turn later walkers away.
  s.lock_until_ms = pending ? now + r.lease_ms : 0;
  ClaimDecision d;
  d.save = true;
  if (r.mode == wire::ClaimMode::kConsume) {
    // Consumed: nobody will run it again, so no lease to keep; later claimers learn the owner.
    s.lock_until_ms = 0;
    if (s.phase == Phase::kPending) {
      s.phase = Phase::kConsumed;
      d.drop_slices = true;
    }
  }
  return d;
}

ClaimDecision Release(store::ClaimState& s, const wire::Request& r) {
  if (s.promised != r.ballot)
    return Refuse(wire::ReplyStatus::kConflict, "not locked by this ballot");
  if (s.lock_until_ms == 0) return {};
  s.lock_until_ms = 0;
  ClaimDecision d;
  d.save = true;
  // Not written to disk: the promise it keeps is already durable, and a release lost in a crash
  // only brings back a lock that expires by itself. Saves an fsync per losing claimer and unit.
  d.durable = false;
  return d;
}

ClaimDecision Renew(store::ClaimState& s, const wire::Request& r, int64_t now) {
  if (!s.has_accepted || s.accepted != r.ballot || s.promised != r.ballot ||
      s.phase != Phase::kPending) {
    return Refuse(wire::ReplyStatus::kConflict,
                  "the lease of ballot " + Show(r.ballot) + " is not held here");
  }
  s.lock_until_ms = now + r.lease_ms;
  ClaimDecision d;
  d.save = true;
  return d;
}

ClaimDecision Finish(store::ClaimState& s, const wire::Request& r) {
  if (!s.has_accepted || s.accepted != r.ballot) {
    return Refuse(wire::ReplyStatus::kConflict,
                  "ballot " + Show(r.ballot) + " is not the accepted owner here");
  }
  if (s.phase == Phase::kDone) return {};
  s.phase = Phase::kDone;
  s.lock_until_ms = 0;
  ClaimDecision d;
  d.save = true;
  d.drop_slices = true;
  return d;
}

}  // namespace

ClaimDecision ApplyClaimOp(store::ClaimState& s, const wire::Request& r, int64_t now_ms) {
  switch (r.op) {
    case wire::Op::kLockReadDelete:
      return LockReadDelete(s, r, now_ms);
    case wire::Op::kCommit:
      return Commit(s, r, now_ms);
    case wire::Op::kRelease:
      return Release(s, r);
    case wire::Op::kRenew:
      return Renew(s, r, now_ms);
    case wire::Op::kFinish:
      return Finish(s, r);
    default:
      return Refuse(wire::ReplyStatus::kBadRequest, "not a claim op");
  }
}

wire::ClaimView ViewOf(const store::ClaimState& s, int64_t now_ms) {
  wire::ClaimView v;
  v.promised = s.promised;
  v.lock_ms_left = LockLive(s, now_ms) ? static_cast<uint64_t>(s.lock_until_ms - now_ms) : 0;
  v.has_accepted = s.has_accepted;
  v.accepted = s.accepted;
  v.owner = s.owner;
  v.lease_live = s.has_accepted && s.promised == s.accepted && LockLive(s, now_ms) &&
                 s.phase == Phase::kPending;
  v.epoch = s.epoch;
  v.attempts = s.attempts;
  v.state = s.phase == Phase::kPending    ? wire::ClaimPhase::kPending
            : s.phase == Phase::kConsumed ? wire::ClaimPhase::kConsumed
                                          : wire::ClaimPhase::kDone;
  return v;
}

}  // namespace dstk::node
