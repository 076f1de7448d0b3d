// The parameters every client operation shares: the thresholds and the segment size.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>

#include "codec/slice.h"
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

// Called with the bytes done so far (and the total when known, else 0) during long work, so a
// front end can draw progress; lib/ itself never prints.
using ProgressSink = std::function<void(uint64_t done, uint64_t total)>;

}  // namespace dstk::client
