// Limits that bound every byte the toolkit accepts from a network or a pipe. A message past
// any of them is refused without being buffered whole.
#pragma once

#include <cstddef>
#include <cstdint>

#include "codec/slice.h"

namespace dstk::wire {

inline constexpr uint32_t kProtocolVersion = 1;

inline constexpr size_t kMaxNameLength = 200;  // bytes of an object or queue name
// Frame 1, the msgpack map. Large enough for a manifest's slice hashes (kMaxManifestHashes)
// with room for the rest; the payload frame bounds memory per message far more anyway.
inline constexpr size_t kMaxHeaderFrame = 4u << 20;
// A manifest's `hashes`: 32 bytes per slice, so n=8 holds 16,128 segments (63 GiB of 4 MiB
// segments, 1 TiB of 64 MiB ones). A put of more segments fails before it publishes.
inline constexpr size_t kMaxManifestHashes = kMaxHeaderFrame - (64u << 10);
inline constexpr size_t kMaxPayloadFrame = codec::kMaxSegmentSize;  // frame 2: slice bytes
inline constexpr size_t kMaxListPage = 1000;                        // names per list reply
// A lane-filtered list (Request::lanes): at most this many lanes, and a unit examines at most
// kListScanPerLane * lanes names per returned name asked for before it replies.
inline constexpr uint32_t kMaxListLanes = 64;
inline constexpr size_t kListScanPerLane = 4;
// Bytes of entries a unit puts in one list reply: the 64 KiB header frame of earlier versions
// less room for the map around them, so their clients can still list (and walk queues).
inline constexpr size_t kListReplyBudget = (64u << 10) - 1024;
// Keys per batched claim request (dsclaim --batch): 64 results, each a claim view and a slice
// header with a name of up to kMaxNameLength bytes, fit in one reply header frame.
inline constexpr size_t kMaxBatchKeys = 64;
inline constexpr size_t kMaxRecord = kMaxPayloadFrame + kMaxHeaderFrame;  // one stream record

}  // namespace dstk::wire
