// The phase-1 tally of one key (internal to lib/claim): what a claimer does next with a key,
// judged from the units' answers to one lock_read_delete round (docs/claim.md steps 3 and 4).
//
// Both claim paths judge with it: the one-key rounds (Claimer::TryKey, which
// tests/model/claim.pml mirrors round by round) and the batched first round (Claimer::TryBatch,
// one key of a batched reply at a time). So a batch decides each key by the very rule the spin
// model checks; it differs only in what it sends afterwards (one message for many keys) and in
// handing every verdict but the plain commits to TryKey.
//
// The tally is a pure function of the answers and of what the claimer already holds for the key
// (its slices and whether it sent a commit naming itself), so tests/unit/tally_test.cc checks
// each verdict on fabricated answers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "codec/slice.h"
#include "wire/message.h"

namespace dstk::claim {

// Slices of one function read so far, by pillar index; k distinct ones decode it.
using SlicesByPillar = std::map<uint32_t, std::pair<codec::SliceHeader, std::vector<uint8_t>>>;

// One unit's answer for one key: a one-key reply, or one result of a batched reply. The
// pointers and the payload view the reply, which must outlive the answer.
struct UnitAnswer {
  size_t unit = 0;
  wire::ReplyStatus status = wire::ReplyStatus::kOk;
  const wire::ClaimView* claim = nullptr;     // the unit's claim state, when it reported one
  const codec::SliceHeader* slice = nullptr;  // the slice it read for us, if any
  std::span<const uint8_t> payload;           // that slice's bytes
};

// The key, and the claimer's position on it.
struct TallyContext {
  std::string key;
  uint64_t rev = 0;  // the listed revision: a slice of another revision is not read
  uint32_t k = 0;    // slices needed to decode
  size_t q = 0;      // claim quorum
  wire::ClaimMode mode = wire::ClaimMode::kConsume;
  uint64_t us = 0;  // this claimer's id
  // A commit naming us was sent in an earlier round: we may not walk away (step 6), so no
  // verdict below lets the key go.
  bool committed_ours = false;
  // The caller would leave a key seen consumed or done without settling it (a walker's first
  // try, docs/claim.md "Walking the queue").
  bool may_leave = false;
};

enum class Verdict {
  // Seen consumed or done by some unit and `may_leave`: release, move on, settle it later.
  kLeave,
  // Fewer than q promises and no live lock among the refusals: stale promises or epochs to
  // outbid, or units that did not answer. A claimer with `committed_ours` always gets this one
  // (keep learning).
  kRetry,
  // Fewer than q promises, and another claimer's live lock refused us: lost in phase 1.
  kLost,
  // Fewer than q promises; consumed, done or not found where seen, and nobody holds it.
  kGone,
  // q promises, the value is us, but fewer than k readable slices so far: release, try later.
  kTooFewSlices,
  // q promises, no value to adopt: commit us (step 5).
  kCommitOurs,
  // q promises reporting another owner's accepted value: commit that owner at our ballot.
  kCommitOther,
  // Lease mode: done on a promising unit; commit its owner at our ballot, then finish it.
  kHelpFinish,
  // Lease mode: done on a promising unit, but none of them names an owner to help.
  kNothingToHelp,
};

struct Phase1 {
  Verdict verdict = Verdict::kRetry;
  uint64_t value = 0;            // the owner to commit (kCommitOurs, kCommitOther, kHelpFinish)
  std::vector<size_t> promised;  // units whose answer was ok
  // Highest ballot number, promise or epoch any answer reported: the next ballot goes above it.
  uint64_t highest = 0;
  bool live_lock_seen = false;  // a refusal for another claimer's live lock or lease
  bool stale_seen = false;      // a refusal for a higher promise or epoch, no live lock
  bool gone_seen = false;       // consumed, done or not_found on some unit
  bool finished_seen = false;   // consumed or done on some unit, promising or refusing
};

// Judges one phase-1 round of `ctx.key`. Verified slices of the listed revision from promising
// units are added to `slices` whenever q promised (kept across rounds: a unit that accepted our
// commit in consume mode has dropped its slice).
Phase1 TallyPhase1(const std::vector<UnitAnswer>& answers, const TallyContext& ctx,
                   SlicesByPillar& slices);

// True for the verdicts of fewer than q promises (kRetry, kLost, kGone): nothing was accepted
// from this ballot, so the claimer releases every unit.
bool ShortOfQuorum(Verdict v);

const char* VerdictName(Verdict v);

}  // namespace dstk::claim
