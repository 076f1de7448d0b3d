#include "util/segment_reader.h"

#include <unistd.h>

#include <algorithm>

#include "util/fd_io.h"

namespace dstk {

SegmentReader::SegmentReader(int fd, size_t segment_size)
    : fd_(fd), segment_size_(segment_size), range_(FindMappableRange(fd, segment_size)) {
  if (range_) {
    pos_ = range_->start;
  } else {
    cur_.resize(segment_size);
    next_.resize(segment_size);
  }
}

Result<std::span<const uint8_t>> SegmentReader::NextMapped() {
  map_ = MappedRegion();  // the previous segment goes before the next is mapped
  const size_t len = static_cast<size_t>(std::min<uint64_t>(segment_size_, range_->end - pos_));
  started_ = true;
  auto region = MappedRegion::Map(fd_, pos_, len);
  if (!region.ok()) return region.status();
  map_ = std::move(*region);
  pos_ += len;
  done_ = pos_ >= range_->end;
  // Keep the descriptor's offset where reading would have left it. Unchecked: the fd is a
  // regular file (it was just mapped) and the offset is within it, so lseek cannot fail.
  (void)::lseek(fd_, static_cast<off_t>(pos_), SEEK_SET);
  return map_.bytes();
}

Result<std::span<const uint8_t>> SegmentReader::Next() {
  if (range_) return NextMapped();
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
