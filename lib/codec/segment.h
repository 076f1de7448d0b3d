// Encoding one segment into n slice payloads, and decoding it back from any k of them.
//
// The encoder avoids copies: full data slices are views into the caller's segment buffer, so
// only the zero-padded last data slice and the parity slices live in the encoder's own memory.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "codec/erasure.h"
#include "util/status.h"

namespace dstk::codec {

class SegmentEncoder {
 public:
  explicit SegmentEncoder(std::shared_ptr<const ErasureCoder> coder);

  // Returns n payload views for `segment`; they stay valid until the next call or until the
  // caller's buffer changes.
  const std::vector<std::span<const uint8_t>>& Encode(std::span<const uint8_t> segment);

 private:
  std::shared_ptr<const ErasureCoder> coder_;
  std::vector<uint8_t> scratch_;  // padded last data slice, then the parity slices
  std::vector<std::span<const uint8_t>> views_;
};

// Rebuilds `seglen` bytes of a segment into `out` from k payloads (`indices[j]` names the
// pillar of `payloads[j]`; each payload ceil(seglen/k) bytes). `out` is resized to seglen.
Status DecodeSegment(const ErasureCoder& coder, size_t seglen, const std::vector<int>& indices,
                     const std::vector<std::span<const uint8_t>>& payloads,
                     std::vector<uint8_t>& out);

}  // namespace dstk::codec
