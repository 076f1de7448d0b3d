// Limits that bound every byte the toolkit accepts from a network or a pipe. A message past
// any of them is refused without being buffered whole.
#pragma once

#include <cstddef>
#include <cstdint>

#include "codec/slice.h"

namespace dstk::wire {

inline constexpr uint32_t kProtocolVersion = 1;

inline constexpr size_t kMaxNameLength = 200;         // bytes of an object or queue name
inline constexpr size_t kMaxHeaderFrame = 64u << 10;  // frame 1: the msgpack map
inline constexpr size_t kMaxPayloadFrame = codec::kMaxSegmentSize;  // frame 2: slice bytes
inline constexpr size_t kMaxListPage = 1000;                        // names per list reply
// Keys per batched claim request (dsclaim --batch): 64 results, each a claim view and a slice
// header with a name of up to kMaxNameLength bytes, fit in one reply header frame.
inline constexpr size_t kMaxBatchKeys = 64;
inline constexpr size_t kMaxRecord = kMaxPayloadFrame + kMaxHeaderFrame;  // one stream record

}  // namespace dstk::wire
