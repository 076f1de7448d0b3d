#include "util/file_map.h"

#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>
#include <utility>

namespace dstk {

MappedRegion::~MappedRegion() {
  Reset();
}

MappedRegion::MappedRegion(MappedRegion&& other) noexcept
    : addr_(std::exchange(other.addr_, nullptr)), len_(std::exchange(other.len_, 0)) {}

MappedRegion& MappedRegion::operator=(MappedRegion&& other) noexcept {
  if (this != &other) {
    Reset();
    addr_ = std::exchange(other.addr_, nullptr);
    len_ = std::exchange(other.len_, 0);
  }
  return *this;
}

void MappedRegion::Reset() {
  if (addr_ != nullptr) ::munmap(addr_, len_);
  addr_ = nullptr;
  len_ = 0;
}

Result<MappedRegion> MappedRegion::Map(int fd, uint64_t offset, size_t len, bool populate) {
  MappedRegion region;
  if (len == 0) return region;
  void* p = ::mmap(nullptr, len, PROT_READ, MAP_PRIVATE | (populate ? MAP_POPULATE : 0), fd,
                   static_cast<off_t>(offset));
  if (p == MAP_FAILED) return Status::IoError(std::string("mmap: ") + std::strerror(errno));
  region.addr_ = p;
  region.len_ = len;
  return region;
}

void MappedRegion::Populate(size_t offset, size_t len) const {
  if (offset >= len_ || len == 0) return;
  const long page = ::sysconf(_SC_PAGESIZE);
  const size_t start = offset / static_cast<size_t>(page) * static_cast<size_t>(page);
  const size_t end = std::min(len_, offset + len);
#ifdef MADV_POPULATE_READ
  // Advice, not a promise: where it fails (an old kernel) the pages come on first touch.
  (void)::madvise(static_cast<uint8_t*>(addr_) + start, end - start, MADV_POPULATE_READ);
#else
  (void)start;
  (void)end;  // built against headers older than Linux 5.14: pages come on first touch
#endif
}

void MappedRegion::Release(size_t offset, size_t len) const {
  if (offset >= len_ || len == 0) return;
  const size_t end = std::min(len_, offset + len);
  (void)::madvise(static_cast<uint8_t*>(addr_) + offset, end - offset, MADV_DONTNEED);
}

std::optional<MappableRange> FindMappableRange(int fd, size_t segment_size) {
  struct stat sb {};
  const long page = ::sysconf(_SC_PAGESIZE);
  const off_t at = ::lseek(fd, 0, SEEK_CUR);
  if (page <= 0 || segment_size == 0 || segment_size % static_cast<size_t>(page) != 0 ||
      ::fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) || at < 0 || at % page != 0 ||
      at > sb.st_size) {
    return std::nullopt;
  }
  return MappableRange{static_cast<uint64_t>(at), static_cast<uint64_t>(sb.st_size)};
}

}  // namespace dstk
