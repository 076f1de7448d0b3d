#include "util/segment_reader.h"

#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "util/fd_io.h"

namespace dstk {

SegmentReader::SegmentReader(int fd, size_t segment_size) : fd_(fd), segment_size_(segment_size) {
  struct stat sb {};
  const long page = ::sysconf(_SC_PAGESIZE);
  const off_t at = ::lseek(fd, 0, SEEK_CUR);
  mapped_ = page > 0 && segment_size > 0 && segment_size % static_cast<size_t>(page) == 0 &&
            ::fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) && at >= 0 && at % page == 0 &&
            at <= sb.st_size;
  if (mapped_) {
    start_ = pos_ = static_cast<uint64_t>(at);
    end_ = static_cast<uint64_t>(sb.st_size);
  } else {
    cur_.resize(segment_size);
    next_.resize(segment_size);
  }
}

SegmentReader::~SegmentReader() {
  Unmap();
}

void SegmentReader::Unmap() {
  if (map_ != nullptr) ::munmap(map_, map_len_);
  map_ = nullptr;
  map_len_ = 0;
}

Result<std::span<const uint8_t>> SegmentReader::NextMapped() {
  Unmap();
  const size_t len = static_cast<size_t>(std::min<uint64_t>(segment_size_, end_ - pos_));
  started_ = true;
  if (len > 0) {
    // MAP_POPULATE: map the whole segment in one call instead of a fault per page.
    void* p =
        ::mmap(nullptr, len, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd_, static_cast<off_t>(pos_));
    if (p == MAP_FAILED) return Status::IoError(std::string("mmap: ") + std::strerror(errno));
    map_ = p;
    map_len_ = len;
  }
  pos_ += len;
  done_ = pos_ >= end_;
  // Keep the descriptor's offset where reading would have left it.
  (void)::lseek(fd_, static_cast<off_t>(pos_), SEEK_SET);
  return std::span<const uint8_t>(static_cast<const uint8_t*>(map_), len);
}

Result<std::span<const uint8_t>> SegmentReader::Next() {
  if (mapped_) return NextMapped();
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
