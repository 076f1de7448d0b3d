// How a client tells a refused key from an outage. A unit whose allow-list does not grant the
// client's key the right for an op answers `forbidden` (node/rights.h). When such refusals
// alone put a threshold (k, w or q) out of reach, the operation failed because of the key,
// not because units were down: its error is kForbidden (exit 7), so that scripts and
// operators do not retry what will never be allowed.
#pragma once

#include <algorithm>
#include <cstddef>
#include <string>

#include "util/status.h"

namespace dstk::client {

// True when `forbidden` of `units` refused as forbidden, and the `needed` answers could not
// be reached even had every other unit agreed.
inline bool ForbiddenDecides(size_t forbidden, size_t units, size_t needed) {
  return forbidden > 0 && units - std::min(forbidden, units) < needed;
}

// `failure` as kForbidden when the forbidden refusals decided it (ForbiddenDecides), else as
// it is.
inline Status Decided(const Status& failure, size_t forbidden, size_t units, size_t needed) {
  if (failure.ok() || !ForbiddenDecides(forbidden, units, needed)) return failure;
  return Status::Forbidden(failure.message());
}

}  // namespace dstk::client
