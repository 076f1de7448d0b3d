// Reads an input as a sequence of segments of a fixed size, one segment ahead, so that the
// caller knows which segment is the last one while the input is still a pipe of unknown length.
// An empty input yields exactly one empty segment (every object has at least one).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "util/status.h"

namespace dstk {

class SegmentReader {
 public:
  SegmentReader(int fd, size_t segment_size);

  // The next segment (valid until the following call) or an error. After the last segment,
  // `done()` is true and Next must not be called again.
  Result<std::span<const uint8_t>> Next();
  bool done() const { return done_; }

 private:
  int fd_;
  std::vector<uint8_t> cur_, next_;
  size_t next_len_ = 0;
  bool started_ = false;
  bool done_ = false;
};

}  // namespace dstk
