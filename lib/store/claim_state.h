// A function's claim state on one unit: the acceptor's state of the claim protocol
// (docs/claim.md, "Unit operations"), kept durably in <name>/lease.claim (store/claim_file.h).
#pragma once

#include <cstdint>

#include "wire/message.h"

namespace dstk::store {

// A function's claim state on this unit (docs/claim.md), durable in <name>/lease.claim.
struct ClaimState {
  enum class Phase { kPending, kConsumed, kDone };
  wire::Ballot promised;
  int64_t lock_until_ms = 0;  // wall-clock ms (so it survives a restart); 0: no lock
  bool has_accepted = false;
  wire::Ballot accepted;
  uint64_t owner = 0;
  uint64_t epoch = 0;
  uint32_t attempts = 0;
  Phase phase = Phase::kPending;
};

}  // namespace dstk::store
