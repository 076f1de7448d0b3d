#include "util/segment_reader.h"

#include "util/fd_io.h"

namespace dstk {

SegmentReader::SegmentReader(int fd, size_t segment_size)
    : fd_(fd), cur_(segment_size), next_(segment_size) {}

Result<std::span<const uint8_t>> SegmentReader::Next() {
  size_t cur_len;
  if (!started_) {
    started_ = true;
    auto got = ReadFull(fd_, cur_);
    if (!got.ok()) return got.status();
    cur_len = *got;
  } else {
    std::swap(cur_, next_);
    cur_len = next_len_;
  }
  // Read one segment ahead: a full segment may be followed by more; a short one never is.
  next_len_ = 0;
  if (cur_len == cur_.size()) {
    auto got = ReadFull(fd_, next_);
    if (!got.ok()) return got.status();
    next_len_ = *got;
  }
  done_ = next_len_ == 0;
  return std::span<const uint8_t>(cur_.data(), cur_len);
}

}  // namespace dstk
