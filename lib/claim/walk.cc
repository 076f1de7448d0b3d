#include "claim/walk.h"

#include <algorithm>
#include <optional>

#include "claim/claimer.h"

namespace dstk::claim {

LanePick PickLane(const std::vector<wire::ListEntry>& window, size_t n, size_t want, size_t lanes,
                  size_t lane) {
  LanePick out;
  lanes = std::max<size_t>(lanes, 1);
  want = std::max<size_t>(want, 1);
  // Per lane: its free keys, then its keys to teach, each in queue order.
  std::vector<std::vector<size_t>> free(lanes), teach(lanes);
  std::vector<size_t> held(lanes, 0);
  for (size_t i = 0; i < window.size(); ++i) {
    const auto& e = window[i];
    const size_t l = wire::LaneOf(e.name, lanes);
    if (e.locked > 0) {
      ++out.held;
      ++held[l];
      continue;
    }
    (e.units >= Claimer::Quorum(e.manifest.k, n) ? free : teach)[l].push_back(i);
  }
  auto size = [&](size_t l) { return free[l].size() + teach[l].size(); };
  out.lane = lane % lanes;
  if (size(out.lane) < (want + 1) / 2 || held[out.lane] > 0) {
    // A thin lane, or one another walker holds keys of, gives way to the fullest lane that
    // nobody holds keys of (most likely a lane no walker serves: the one falling behind); to a
    // lane another walker works in only when its own has nothing left, since sharing a lane
    // costs both walkers lost rounds.
    const size_t own = out.lane;
    std::optional<size_t> idle, busy;
    for (size_t step = 1; step < lanes; ++step) {
      const size_t l = (own + step) % lanes;
      if (size(l) <= size(own)) continue;
      auto& best = held[l] == 0 ? idle : busy;
      if (!best || size(l) > size(*best)) best = l;
    }
    if (idle) {
      out.lane = *idle;
    } else if (busy && size(own) == 0) {
      out.lane = *busy;
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
