// ProgressSink: how long work in lib/ reports its progress. It lives in util, not with the
// network client, because offline work (dsenc split, lib/stream) reports progress too and must
// not link the network to do so.
#pragma once

#include <cstdint>
#include <functional>

namespace dstk {

// Called with the bytes done so far (and the total when known, else 0) during long work, so a
// front end can draw progress; lib/ itself never prints.
using ProgressSink = std::function<void(uint64_t done, uint64_t total)>;

// `sink`, or one that ignores progress when `sink` is empty, so long work calls it unguarded.
inline ProgressSink OrIgnore(ProgressSink sink) {
  return sink ? sink : [](uint64_t, uint64_t) {};
}

}  // namespace dstk
