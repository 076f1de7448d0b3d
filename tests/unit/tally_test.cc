// The phase-1 tally (lib/claim/tally.h), the rule both claim paths judge a key by: each verdict
// on fabricated answers of 5 units (k=3, q=3), as the units of docs/claim.md would answer.
#include "claim/tally.h"

#include <catch2/catch.hpp>
#include <deque>

namespace {

using dstk::claim::Phase1;
using dstk::claim::ShortOfQuorum;
using dstk::claim::SlicesByPillar;
using dstk::claim::TallyContext;
using dstk::claim::TallyPhase1;
using dstk::claim::UnitAnswer;
using dstk::claim::Verdict;
using dstk::codec::SliceHeader;
using dstk::wire::Ballot;
using dstk::wire::ClaimMode;
using dstk::wire::ClaimPhase;
using dstk::wire::ClaimView;
using dstk::wire::ReplyStatus;

constexpr uint64_t kUs = 0x1001;
constexpr uint64_t kOther = 0x2001;
constexpr uint64_t kThird = 0x3001;

// Answers that own what they point at (a deque: pointers into it stay valid as it grows).
struct Answers {
  std::deque<ClaimView> views;
  std::deque<SliceHeader> headers;
  std::deque<std::vector<uint8_t>> payloads;
  std::vector<UnitAnswer> list;

  // Unit u's answer; with `slice`, a valid slice of pillar u of revision `rev`.
  UnitAnswer& Add(size_t u, ReplyStatus status, ClaimView v = {}, bool slice = false,
                  uint64_t rev = 7) {
    UnitAnswer a;
    a.unit = u;
    a.status = status;
    a.claim = &views.emplace_back(std::move(v));
    if (slice) {
      auto& p = payloads.emplace_back(std::vector<uint8_t>{uint8_t(u), 2, 3});
      SliceHeader h;
      h.name = "q/1";
      h.rev = rev;
      h.seg = 0;
      h.segs = 1;
      h.idx = static_cast<uint32_t>(u);
      h.k = 3;
      h.n = 5;
      h.size = 9;
      h.seglen = 9;
      h.crc = dstk::codec::ComputeSliceCrc(h, p);
      a.slice = &headers.emplace_back(h);
      a.payload = p;
    }
    list.push_back(a);
    return list.back();
  }
};

TallyContext Ctx(ClaimMode mode = ClaimMode::kConsume) {
  TallyContext c;
  c.key = "q/1";
  c.rev = 7;
  c.k = 3;
  c.q = 3;
  c.mode = mode;
  c.us = kUs;
  return c;
}

ClaimView Promised(uint64_t n) {
  ClaimView v;
  v.promised = {n, kUs};
  v.lock_ms_left = 1000;
  return v;
}

ClaimView LiveLock(uint64_t n, uint64_t id) {
  ClaimView v;
  v.promised = {n, id};
  v.lock_ms_left = 500;
  return v;
}

ClaimView Accepted(Ballot b, uint64_t owner, ClaimPhase state = ClaimPhase::kPending) {
  ClaimView v;
  v.promised = b;
  v.has_accepted = true;
  v.accepted = b;
  v.owner = owner;
  v.epoch = b.n;
  v.state = state;
  return v;
}

}  // namespace

TEST_CASE("tally: q fresh promises with k slices commit us", "[claim]") {
  Answers a;
  for (size_t u = 0; u < 3; ++u) a.Add(u, ReplyStatus::kOk, Promised(1), true);
  SlicesByPillar slices;
  const Phase1 t = TallyPhase1(a.list, Ctx(), slices);
  CHECK(t.verdict == Verdict::kCommitOurs);
  CHECK(t.value == kUs);
  CHECK(t.promised == std::vector<size_t>{0, 1, 2});
  CHECK(slices.size() == 3);
  CHECK_FALSE(ShortOfQuorum(t.verdict));
}

TEST_CASE("tally: fewer than q promises", "[claim]") {
  Answers a;
  a.Add(0, ReplyStatus::kOk, Promised(4), true);
  a.Add(1, ReplyStatus::kOk, Promised(4), true);
  SlicesByPillar slices;

  SECTION("another claimer's live lock: lost") {
    a.Add(2, ReplyStatus::kLocked, LiveLock(5, kOther));
    a.Add(3, ReplyStatus::kLocked, LiveLock(5, kOther));
    const Phase1 t = TallyPhase1(a.list, Ctx(), slices);
    CHECK(t.verdict == Verdict::kLost);
    CHECK(t.live_lock_seen);
    CHECK(t.highest == 5);  // the next ballot goes above the lock's
    CHECK(ShortOfQuorum(t.verdict));
    CHECK(slices.empty());  // nothing is read from a lost round
    // Once a commit naming us was sent, no loss lets us walk away: keep learning.
    auto ctx = Ctx();
    ctx.committed_ours = true;
    CHECK(TallyPhase1(a.list, ctx, slices).verdict == Verdict::kRetry);
  }
  SECTION("a stale promise, nobody's live lock: retry higher") {
    ClaimView stale = LiveLock(9, kOther);
    stale.lock_ms_left = 0;
    a.Add(2, ReplyStatus::kLocked, stale);
    const Phase1 t = TallyPhase1(a.list, Ctx(), slices);
    CHECK(t.verdict == Verdict::kRetry);
    CHECK(t.stale_seen);
    CHECK(t.highest == 9);
  }
  SECTION("units that did not answer: retry (the caller explains when it is unavailability)") {
    CHECK(TallyPhase1(a.list, Ctx(), slices).verdict == Verdict::kRetry);
  }
  SECTION("not found where seen, nobody holds it: gone") {
    a.Add(2, ReplyStatus::kNotFound);
    a.Add(3, ReplyStatus::kNotFound);
    const Phase1 t = TallyPhase1(a.list, Ctx(), slices);
    CHECK(t.verdict == Verdict::kGone);
    CHECK(t.gone_seen);
  }
}

TEST_CASE("tally: the highest accepted ballot among the promises is the value", "[claim]") {
  Answers a;
  a.Add(0, ReplyStatus::kOk, Accepted({2, kOther}, kOther), true);
  a.Add(1, ReplyStatus::kOk, Accepted({3, kThird}, kThird), true);
  a.Add(2, ReplyStatus::kOk, Promised(4), true);
  SlicesByPillar slices;
  const Phase1 t = TallyPhase1(a.list, Ctx(), slices);
  CHECK(t.verdict == Verdict::kCommitOther);
  CHECK(t.value == kThird);
  CHECK(t.highest == 4);
  // An accepted value of ours at the highest ballot is ours again (a learning round).
  Answers b;
  b.Add(0, ReplyStatus::kOk, Accepted({2, kOther}, kOther), true);
  b.Add(1, ReplyStatus::kOk, Accepted({5, kUs}, kUs), true);
  b.Add(2, ReplyStatus::kOk, Promised(6), true);
  const Phase1 u = TallyPhase1(b.list, Ctx(), slices);
  CHECK(u.verdict == Verdict::kCommitOurs);
  CHECK(u.value == kUs);
}

TEST_CASE("tally: lease mode replaces a lapsed owner and helps a finished one", "[claim]") {
  SlicesByPillar slices;
  SECTION("a pending owner whose unit promised us has lapsed: we replace it") {
    Answers a;
    for (size_t u = 0; u < 3; ++u) a.Add(u, ReplyStatus::kOk, Accepted({2, kOther}, kOther), true);
    const Phase1 t = TallyPhase1(a.list, Ctx(ClaimMode::kLease), slices);
    CHECK(t.verdict == Verdict::kCommitOurs);
    CHECK(t.value == kUs);
    // The same answers in consume mode keep the accepted owner.
    CHECK(TallyPhase1(a.list, Ctx(), slices).verdict == Verdict::kCommitOther);
  }
  SECTION("done on a promising unit: commit its owner and finish it") {
    Answers a;
    a.Add(0, ReplyStatus::kOk, Accepted({2, kOther}, kOther, ClaimPhase::kDone));
    a.Add(1, ReplyStatus::kOk, Promised(3), true);
    a.Add(2, ReplyStatus::kOk, Promised(3), true);
    const Phase1 t = TallyPhase1(a.list, Ctx(ClaimMode::kLease), slices);
    CHECK(t.verdict == Verdict::kHelpFinish);
    CHECK(t.value == kOther);
    CHECK(t.finished_seen);
  }
  SECTION("done, but no promising unit names an owner: nothing to help") {
    Answers a;
    ClaimView done = Promised(3);
    done.state = ClaimPhase::kDone;
    a.Add(0, ReplyStatus::kOk, done);
    a.Add(1, ReplyStatus::kOk, Promised(3), true);
    a.Add(2, ReplyStatus::kOk, Promised(3), true);
    CHECK(TallyPhase1(a.list, Ctx(ClaimMode::kLease), slices).verdict == Verdict::kNothingToHelp);
  }
}

TEST_CASE("tally: a first try leaves a key seen consumed", "[claim]") {
  Answers a;
  a.Add(0, ReplyStatus::kOk, Accepted({2, kOther}, kOther, ClaimPhase::kConsumed));
  a.Add(1, ReplyStatus::kOk, Promised(3), true);
  a.Add(2, ReplyStatus::kOk, Promised(3), true);
  SlicesByPillar slices;
  auto ctx = Ctx();
  ctx.may_leave = true;
  CHECK(TallyPhase1(a.list, ctx, slices).verdict == Verdict::kLeave);
  CHECK(slices.empty());
  // Without leave (an end-of-pass try), the full rounds teach the owner found.
  const Phase1 t = TallyPhase1(a.list, Ctx(), slices);
  CHECK(t.verdict == Verdict::kCommitOther);
  CHECK(t.value == kOther);
  // With a commit of ours sent, never leave.
  ctx.committed_ours = true;
  CHECK(TallyPhase1(a.list, ctx, slices).verdict == Verdict::kCommitOther);
  // Seen consumed by a refusing unit counts too.
  Answers b;
  b.Add(0, ReplyStatus::kLocked, Accepted({2, kOther}, kOther, ClaimPhase::kConsumed));
  ctx.committed_ours = false;
  CHECK(TallyPhase1(b.list, ctx, slices).verdict == Verdict::kLeave);
}

TEST_CASE("tally: us with fewer than k readable slices is not chosen", "[claim]") {
  Answers a;
  a.Add(0, ReplyStatus::kOk, Promised(1), true);
  a.Add(1, ReplyStatus::kOk, Promised(1), true, /*rev=*/6);    // another revision: not read
  a.Add(2, ReplyStatus::kOk, Promised(1), true).payload = {};  // a short frame: not read
  SlicesByPillar slices;
  CHECK(TallyPhase1(a.list, Ctx(), slices).verdict == Verdict::kTooFewSlices);
  CHECK(slices.size() == 1);
  // Slices kept from an earlier round count (a unit that consumed has dropped its own).
  Answers more;
  more.Add(3, ReplyStatus::kOk, Promised(2), true);
  more.Add(4, ReplyStatus::kOk, Promised(2), true);
  more.Add(2, ReplyStatus::kOk, Promised(2));
  CHECK(TallyPhase1(more.list, Ctx(), slices).verdict == Verdict::kCommitOurs);
  CHECK(slices.size() == 3);
  // After a commit naming us, learning goes on without them.
  SlicesByPillar none;
  auto ctx = Ctx();
  ctx.committed_ours = true;
  CHECK(TallyPhase1(a.list, ctx, none).verdict == Verdict::kCommitOurs);
}
