// The unit's side of the claim protocol (docs/claim.md, "Unit operations"): pure functions
// from (claim state, request, now) to (new state, reply). No I/O, so the rules are tested on
// their own and the Promela model (tests/model/claim.pml) mirrors exactly these branches.
#pragma once

#include <cstdint>
#include <string>

#include "store/slice_store.h"
#include "wire/message.h"

namespace dstk::node {

struct ClaimDecision {
  wire::ReplyStatus status = wire::ReplyStatus::kOk;
  std::string error;
  bool save = false;         // the state changed: keep it (durably before replying, unless
                             // `durable` is false)
  bool durable = true;       // false: losing this change in a crash is safe (a release)
  bool drop_slices = false;  // the function is consumed or finished here
  bool send_slice = false;   // attach the function's slice (lock_read_delete of a pending one)
};

// Applies one claim op to `state` (in place) at wall-clock time `now_ms`.
ClaimDecision ApplyClaimOp(store::ClaimState& state, const wire::Request& r, int64_t now_ms);

// Whether a live lock (a promise's or an owner's lease) holds the function at `now_ms`.
bool LockLive(const store::ClaimState& state, int64_t now_ms);

// What the reply reports of `state` at `now_ms`.
wire::ClaimView ViewOf(const store::ClaimState& state, int64_t now_ms);

}  // namespace dstk::node
