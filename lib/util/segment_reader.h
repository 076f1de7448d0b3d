// Reads an input as a sequence of segments of a fixed size, one segment ahead, so that the
// caller knows which segment is the last one while the input is still a pipe of unknown length.
// An empty input yields exactly one empty segment (every object has at least one).
//
// A regular file whose segments fall on page boundaries is mapped a segment at a time instead
// of read (util/file_map.h): the segment is then the page cache itself, not a copy of it
// (reading copied every byte once, half of `dsenc split`'s time on a cached file;
// bench/README.md). Only the current segment is mapped, so memory stays one segment whatever
// the file's size. The file's length is taken when the reader is made.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "util/file_map.h"
#include "util/status.h"

namespace dstk {

class SegmentReader {
 public:
  SegmentReader(int fd, size_t segment_size);
  SegmentReader(const SegmentReader&) = delete;
  SegmentReader& operator=(const SegmentReader&) = delete;

  // The next segment (valid until the following call) or an error. After the last segment,
  // `done()` is true and Next must not be called again.
  Result<std::span<const uint8_t>> Next();
  bool done() const { return done_; }

 private:
  Result<std::span<const uint8_t>> NextMapped();

  int fd_;
  size_t segment_size_;
  std::vector<uint8_t> cur_, next_;  // read mode only
  size_t next_len_ = 0;
  bool started_ = false;
  bool done_ = false;
  // Map mode: the file's bytes [range_.start, range_.end) at the reader's creation; pos_ is
  // the next byte to map.
  std::optional<MappableRange> range_;
  uint64_t pos_ = 0;
  MappedRegion map_;
};

}  // namespace dstk
