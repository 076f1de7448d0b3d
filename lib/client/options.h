// The parameters every client operation shares: the thresholds and the segment size. The
// progress callback they take is util/progress.h's ProgressSink.
#pragma once

#include <cstdint>
#include <optional>

#include "codec/slice.h"
#include "util/progress.h"
#include "util/status.h"

namespace dstk::client {

struct Thresholds {
  uint32_t n = 0;  // pillar width: the number of units
  uint32_t k = 0;  // decode threshold: any k slices rebuild a segment
  uint32_t w = 0;  // write threshold: a put succeeds when w units stored every slice
};

// Fills in the defaults (k = max(1, n-2); w = k+1 when k < n, else n) and checks
// 1 <= k <= w <= n.
Result<Thresholds> ResolveThresholds(uint32_t n, std::optional<uint32_t> k,
                                     std::optional<uint32_t> w);

}  // namespace dstk::client
