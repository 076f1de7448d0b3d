// The on-disk form of one slice: "DSS1", a little-endian u32 header length, the slice header
// as a msgpack map (the same map the wire uses), then the payload. Self-describing: a slice
// file alone says which object, revision, segment and pillar it is, and its CRC covers both
// header fields and payload.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "codec/slice.h"
#include "util/status.h"

namespace dstk::store {

// The bytes before the payload.
std::string EncodeSliceFilePrefix(const codec::SliceHeader& h);

// Parses a whole slice file and verifies its CRC; kCorruption when anything is off (truncated,
// flipped bits, a foreign file). `payload` views into `file`.
Status DecodeSliceFile(std::span<const uint8_t> file, codec::SliceHeader& h,
                       std::span<const uint8_t>& payload);

}  // namespace dstk::store
