// The slice: one pillar's share of one segment of one revision of an object, and the header
// that makes it self-describing. A slice found anywhere (on a unit's disk, in a pipe) tells
// which object, revision, segment and pillar it is, how to decode it, and whether it is intact.
#pragma once

#include <cstdint>
#include <limits>
#include <span>
#include <string>

#include "util/status.h"

namespace dstk::codec {

// Written when the producer does not know yet how long the object is (put or split from a
// pipe). The definitive figures then come from the revision's manifest (wire::Manifest) or,
// in a record stream, from the trailing `object` record.
inline constexpr uint32_t kUnknownCount = std::numeric_limits<uint32_t>::max();
inline constexpr uint64_t kUnknownSize = std::numeric_limits<uint64_t>::max();

inline constexpr uint32_t kDefaultSegmentSize = 4u << 20;  // 4 MiB
inline constexpr uint32_t kMaxSegmentSize = 64u << 20;     // bounds every frame we accept

struct SliceHeader {
  std::string name;                        // object name
  uint64_t rev = 0;                        // revision: larger is newer
  uint32_t seg = 0;                        // segment number, from 0
  uint32_t segs = kUnknownCount;           // segment count of the revision
  uint32_t idx = 0;                        // pillar index, < n
  uint32_t k = 0;                          // decode threshold
  uint32_t n = 0;                          // pillar width
  uint64_t size = kUnknownSize;            // object length in bytes
  uint32_t seglen = 0;                     // bytes of this segment before padding
  uint32_t segsize = kDefaultSegmentSize;  // nominal segment size of the revision
  uint32_t crc = 0;                        // CRC32C over every field above, then the payload

  // Payload bytes this header implies: ceil(seglen / k).
  size_t PayloadLength() const { return k == 0 ? 0 : (size_t{seglen} + k - 1) / k; }
};

// CRC32C over a fixed little-endian encoding of every header field but `crc`, then the payload,
// so that a flipped bit in the header is caught as surely as one in the data.
uint32_t ComputeSliceCrc(const SliceHeader& h, std::span<const uint8_t> payload);

// Checks that the header is self-consistent (1 <= k <= n, idx < n, seg < segs, seglen <=
// segsize, payload length) and that the CRC matches. kCorruption when not.
Status VerifySlice(const SliceHeader& h, std::span<const uint8_t> payload);

// Checks only the fields (no CRC): what a unit checks before accepting a header.
Status CheckSliceFields(const SliceHeader& h, size_t payload_len);

}  // namespace dstk::codec
