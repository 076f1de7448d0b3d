// Reads an input as a sequence of segments of a fixed size, one segment ahead, so that the
// caller knows which segment is the last one while the input is still a pipe of unknown length.
// An empty input yields exactly one empty segment (every object has at least one).
//
// A regular file whose segments fall on page boundaries is mapped a segment at a time instead
// of read: the segment is then the page cache itself, not a copy of it (reading copied every
// byte once, half of `dsenc split`'s time on a cached file; bench/README.md). Only the current
// segment is mapped, so memory stays one segment whatever the file's size. The file's length
// is taken when the reader is made. If the file shrinks under the mapping, touching the lost
// pages raises SIGBUS: tools that read user files install a handler that says so and exits
// (tools/common/sigbus.h) rather than dying silently.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "util/status.h"

namespace dstk {

class SegmentReader {
 public:
  SegmentReader(int fd, size_t segment_size);
  ~SegmentReader();
  SegmentReader(const SegmentReader&) = delete;
  SegmentReader& operator=(const SegmentReader&) = delete;

  // The next segment (valid until the following call) or an error. After the last segment,
  // `done()` is true and Next must not be called again.
  Result<std::span<const uint8_t>> Next();
  bool done() const { return done_; }

 private:
  Result<std::span<const uint8_t>> NextMapped();
  void Unmap();

  int fd_;
  size_t segment_size_;
  std::vector<uint8_t> cur_, next_;  // read mode only
  size_t next_len_ = 0;
  bool started_ = false;
  bool done_ = false;
  // Map mode: the file's bytes [start_, end_) at the reader's creation; pos_ is the next.
  bool mapped_ = false;
  uint64_t start_ = 0, end_ = 0, pos_ = 0;
  void* map_ = nullptr;
  size_t map_len_ = 0;
};

}  // namespace dstk
