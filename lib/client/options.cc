#include "client/options.h"

#include <string>

namespace dstk::client {

Result<Thresholds> ResolveThresholds(uint32_t n, std::optional<uint32_t> k,
                                     std::optional<uint32_t> w) {
  Thresholds t;
  t.n = n;
  t.k = k ? *k : (n > 2 ? n - 2 : 1);
  t.w = w ? *w : (t.k < n ? t.k + 1 : n);
  if (t.k < 1 || t.k > n) {
    return Status::Invalid("-k " + std::to_string(t.k) + " is out of range: need 1 <= k <= n = " +
                           std::to_string(n) + " (the number of units)");
  }
  if (t.w < t.k || t.w > n) {
    return Status::Invalid("-w " + std::to_string(t.w) + " is out of range: need k = " +
                           std::to_string(t.k) + " <= w <= n = " + std::to_string(n));
  }
  return t;
}

}  // namespace dstk::client
