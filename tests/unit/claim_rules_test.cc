// The unit's side of the claim protocol (lib/node/claim_rules.h), branch by branch: promises,
// lock expiry, release, the stale-ballot rule behind fencing, commit, renew and finish.
#include "node/claim_rules.h"

#include <catch2/catch.hpp>

namespace {

using dstk::node::ApplyClaimOp;
using dstk::store::ClaimState;
using dstk::wire::Ballot;
using dstk::wire::ClaimMode;
using dstk::wire::Op;
using dstk::wire::ReplyStatus;
using dstk::wire::Request;

Request Make(Op op, Ballot b, uint32_t lease_ms = 1000, ClaimMode mode = ClaimMode::kConsume) {
  Request r;
  r.op = op;
  r.name = "q/1";
  r.ballot = b;
  r.owner = b.id;
  r.lease_ms = lease_ms;
  r.mode = mode;
  return r;
}

}  // namespace

TEST_CASE("a live lock refuses other ballots and a stale lock expires", "[claim]") {
  ClaimState s;
  auto d = ApplyClaimOp(s, Make(Op::kLockReadDelete, {1, 10}, 50), 1000);
  REQUIRE(d.status == ReplyStatus::kOk);
  CHECK(d.save);
  CHECK(d.send_slice);
  // Another claimer, even with a higher ballot, is refused while the lock lives...
  CHECK(ApplyClaimOp(s, Make(Op::kLockReadDelete, {2, 20}), 1020).status == ReplyStatus::kLocked);
  // ...and a lower ballot always.
  CHECK(ApplyClaimOp(s, Make(Op::kLockReadDelete, {1, 5}), 2000).status == ReplyStatus::kLocked);
  // After the lease (50 ms) the lock is stale: a higher ballot gets it.
  CHECK(ApplyClaimOp(s, Make(Op::kLockReadDelete, {2, 20}), 1051).status == ReplyStatus::kOk);
  CHECK(s.promised == Ballot{2, 20});
}

TEST_CASE("release frees the lock only for the ballot that holds it", "[claim]") {
  ClaimState s;
  REQUIRE(ApplyClaimOp(s, Make(Op::kLockReadDelete, {1, 10}), 0).status == ReplyStatus::kOk);
  CHECK(ApplyClaimOp(s, Make(Op::kRelease, {1, 99}), 1).status == ReplyStatus::kConflict);
  CHECK(s.lock_until_ms > 1);
  CHECK(ApplyClaimOp(s, Make(Op::kRelease, {1, 10}), 1).status == ReplyStatus::kOk);
  CHECK(s.lock_until_ms == 0);
  // The loser's released unit can be locked by the next claimer at once.
  CHECK(ApplyClaimOp(s, Make(Op::kLockReadDelete, {2, 20}), 2).status == ReplyStatus::kOk);
}

TEST_CASE("commit honours promises and consume mode consumes", "[claim]") {
  ClaimState s;
  REQUIRE(ApplyClaimOp(s, Make(Op::kLockReadDelete, {3, 10}), 0).status == ReplyStatus::kOk);
  CHECK(ApplyClaimOp(s, Make(Op::kCommit, {2, 20}), 1).status == ReplyStatus::kConflict);
  auto d = ApplyClaimOp(s, Make(Op::kCommit, {3, 10}), 1);
  REQUIRE(d.status == ReplyStatus::kOk);
  CHECK(d.drop_slices);
  CHECK(s.phase == ClaimState::Phase::kConsumed);
  CHECK(s.epoch == 3);
  CHECK(s.lock_until_ms == 0);
  // A consumed unit still promises (and reports the owner) but sends no slice.
  auto later = ApplyClaimOp(s, Make(Op::kLockReadDelete, {4, 30}), 2);
  CHECK(later.status == ReplyStatus::kOk);
  CHECK_FALSE(later.send_slice);
  CHECK(dstk::node::ViewOf(s, 2).owner == 10);
  // It never accepts a different owner.
  CHECK(ApplyClaimOp(s, Make(Op::kCommit, {4, 30}), 3).status == ReplyStatus::kConflict);
}

TEST_CASE("a new owner's token exceeds the epoch: stale ballots are refused", "[claim]") {
  ClaimState s;
  REQUIRE(ApplyClaimOp(s, Make(Op::kLockReadDelete, {5, 10}, 100, ClaimMode::kLease), 0).status ==
          ReplyStatus::kOk);
  REQUIRE(ApplyClaimOp(s, Make(Op::kCommit, {5, 10}, 100, ClaimMode::kLease), 0).status ==
          ReplyStatus::kOk);
  // The owner's lease lapses; a claimer that starts at ballot 5 with a larger id is refused,
  // because its token would equal the old owner's.
  auto d = ApplyClaimOp(s, Make(Op::kLockReadDelete, {5, 99}, 100, ClaimMode::kLease), 500);
  CHECK(d.status == ReplyStatus::kLocked);
  CHECK(dstk::node::ViewOf(s, 500).epoch == 5);
  CHECK(ApplyClaimOp(s, Make(Op::kLockReadDelete, {6, 99}, 100, ClaimMode::kLease), 500).status ==
        ReplyStatus::kOk);
}

TEST_CASE("lease mode: renew keeps the lease, finish ends it, attempts count runs", "[claim]") {
  ClaimState s;
  const ClaimMode L = ClaimMode::kLease;
  REQUIRE(ApplyClaimOp(s, Make(Op::kLockReadDelete, {1, 10}, 100, L), 0).status ==
          ReplyStatus::kOk);
  REQUIRE(ApplyClaimOp(s, Make(Op::kCommit, {1, 10}, 100, L), 0).status == ReplyStatus::kOk);
  CHECK(s.phase == ClaimState::Phase::kPending);
  CHECK(dstk::node::ViewOf(s, 50).lease_live);
  CHECK(ApplyClaimOp(s, Make(Op::kRenew, {1, 10}, 100, L), 90).status == ReplyStatus::kOk);
  CHECK(ApplyClaimOp(s, Make(Op::kLockReadDelete, {2, 20}, 100, L), 150).status ==
        ReplyStatus::kLocked);
  CHECK(ApplyClaimOp(s, Make(Op::kRenew, {1, 99}, 100, L), 150).status == ReplyStatus::kConflict);
  // The same worker re-claiming after a failed run counts as another attempt.
  REQUIRE(ApplyClaimOp(s, Make(Op::kRelease, {1, 10}), 160).status == ReplyStatus::kOk);
  REQUIRE(ApplyClaimOp(s, Make(Op::kLockReadDelete, {2, 10}, 100, L), 170).status ==
          ReplyStatus::kOk);
  REQUIRE(ApplyClaimOp(s, Make(Op::kCommit, {2, 10}, 100, L), 170).status == ReplyStatus::kOk);
  CHECK(s.attempts == 2);
  CHECK(ApplyClaimOp(s, Make(Op::kFinish, {1, 10}), 180).status == ReplyStatus::kConflict);
  auto d = ApplyClaimOp(s, Make(Op::kFinish, {2, 10}), 180);
  CHECK(d.status == ReplyStatus::kOk);
  CHECK(d.drop_slices);
  CHECK(s.phase == ClaimState::Phase::kDone);
}

TEST_CASE("lease mode: a unit that missed the owner's commit is helped to finish", "[claim]") {
  // Units A and B accepted and finished owner 10's ballot 1; unit C had promised a higher
  // ballot of a claimer that lost, so it refused that commit and still holds the slice.
  ClaimState a, c;
  const auto lease = ClaimMode::kLease;
  REQUIRE(ApplyClaimOp(a, Make(Op::kLockReadDelete, {1, 10}, 1000, lease), 0).status ==
          ReplyStatus::kOk);
  REQUIRE(ApplyClaimOp(a, Make(Op::kCommit, {1, 10}, 1000, lease), 1).status == ReplyStatus::kOk);
  REQUIRE(ApplyClaimOp(a, Make(Op::kFinish, {1, 10}, 1000, lease), 2).drop_slices);
  REQUIRE(ApplyClaimOp(c, Make(Op::kLockReadDelete, {2, 20}, 1000, lease), 0).status ==
          ReplyStatus::kOk);
  REQUIRE(ApplyClaimOp(c, Make(Op::kRelease, {2, 20}), 1).status == ReplyStatus::kOk);
  CHECK(ApplyClaimOp(c, Make(Op::kCommit, {1, 10}, 1000, lease), 1).status ==
        ReplyStatus::kConflict);
  CHECK(ApplyClaimOp(c, Make(Op::kFinish, {1, 10}, 1000, lease), 2).status ==
        ReplyStatus::kConflict);
  // A later walker (ballot 3, id 30) learns owner 10 from A and commits it at its own ballot.
  Request learn = Make(Op::kCommit, {3, 30}, 1000, lease);
  learn.owner = 10;
  for (ClaimState* s : {&a, &c}) {
    REQUIRE(ApplyClaimOp(*s, Make(Op::kLockReadDelete, {3, 30}, 1000, lease), 5).status ==
            ReplyStatus::kOk);
    REQUIRE(ApplyClaimOp(*s, learn, 6).status == ReplyStatus::kOk);
  }
  // On A, already done: no lease (no lock to turn walkers away) and no attempt counted.
  CHECK(a.lock_until_ms == 0);
  CHECK(a.attempts == 1);
  CHECK(a.owner == 10);
  CHECK(dstk::node::ViewOf(a, 7).state == dstk::wire::ClaimPhase::kDone);
  // On C, the finish at the walker's ballot drops the slice.
  auto d = ApplyClaimOp(c, Make(Op::kFinish, {3, 30}, 1000, lease), 7);
  CHECK(d.status == ReplyStatus::kOk);
  CHECK(d.drop_slices);
  CHECK(dstk::node::ViewOf(c, 8).state == dstk::wire::ClaimPhase::kDone);
  CHECK(c.owner == 10);
}
