#include "claim/walk.h"

#include <algorithm>

#include "claim/claimer.h"

namespace dstk::claim {

LanePick PickLane(const std::vector<wire::ListEntry>& window, size_t n, size_t want, size_t lanes,
                  size_t lane) {
  LanePick out;
  lanes = std::max<size_t>(lanes, 1);
  want = std::max<size_t>(want, 1);
  // Per lane: its free keys, then its keys to teach, each in queue order.
  std::vector<std::vector<size_t>> free(lanes), teach(lanes);
  for (size_t i = 0; i < window.size(); ++i) {
    const auto& e = window[i];
    if (e.locked > 0) {
      ++out.held;
      continue;
    }
    const size_t l = wire::LaneOf(e.name, lanes);
    (e.units >= Claimer::Quorum(e.manifest.k, n) ? free : teach)[l].push_back(i);
  }
  auto size = [&](size_t l) { return free[l].size() + teach[l].size(); };
  out.lane = lane % lanes;
  if (size(out.lane) < (want + 1) / 2) {
    for (size_t step = 1; step < lanes; ++step) {
      const size_t l = (lane + step) % lanes;
      if (size(l) > size(out.lane)) out.lane = l;
    }
  }
  for (const auto* part : {&free[out.lane], &teach[out.lane]}) {
    for (size_t i : *part) {
      if (out.keys.size() == want) break;
      out.keys.push_back(i);
    }
  }
  return out;
}

}  // namespace dstk::claim
