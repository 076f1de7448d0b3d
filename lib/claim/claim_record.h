// The claim record: what `dsclaim` prints and `dsrun` reads, one msgpack map per claim:
//   {type:"claim", queue, key, token, ballot_id, mode, lease_ms, attempts, slices:[slice...]}
// where each slice is a slice record's fields with its payload under `data`. The record holds
// at least k slices of the function, so dsrun decodes it without asking the units again.
#pragma once

#include <msgpack.hpp>
#include <string>

#include "claim/claimer.h"
#include "claim/function.h"
#include "util/status.h"

namespace dstk::claim {

std::string EncodeClaimRecord(const Claim& c);
Result<Claim> DecodeClaimRecord(const msgpack::object& record);

// Decodes the function a claim carries (its slices are one segment of one object).
Result<Function> FunctionOf(const Claim& c);

}  // namespace dstk::claim
