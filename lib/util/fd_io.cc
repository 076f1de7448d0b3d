#include "util/fd_io.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace dstk {

Result<size_t> ReadFull(int fd, std::span<uint8_t> buf) {
  size_t have = 0;
  while (have < buf.size()) {
    const ssize_t n = ::read(fd, buf.data() + have, buf.size() - have);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::IoError(std::string("read: ") + std::strerror(errno));
    }
    if (n == 0) break;
    have += static_cast<size_t>(n);
  }
  return have;
}

Status WriteAll(int fd, std::span<const uint8_t> data) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::IoError(std::string("write: ") + std::strerror(errno));
    }
    data = data.subspan(static_cast<size_t>(n));
  }
  return Status::Ok();
}

uint64_t KnownLength(int fd) {
  struct stat sb {};
  if (::fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) || ::lseek(fd, 0, SEEK_CUR) != 0) {
    return kUnknownLength;
  }
  return static_cast<uint64_t>(sb.st_size);
}

}  // namespace dstk
