#include "util/fd_io.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <string>
#include <vector>

#include "util/unique_fd.h"

namespace dstk {
namespace {

Status WriteError() {
  // EFAULT: the bytes to write were a mapped input file's pages that are gone: the file was
  // cut shorter while being read (util/segment_reader.h maps regular files).
  if (errno == EFAULT)
    return Status::IoError("write: the input file was cut shorter while being read");
  return Status::IoError(std::string("write: ") + std::strerror(errno));
}

}  // namespace

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
      return WriteError();
    }
    data = data.subspan(static_cast<size_t>(n));
  }
  return Status::Ok();
}

Status WriteAllGathered(int fd, std::span<const std::span<const uint8_t>> parts) {
  std::vector<iovec> iov;
  iov.reserve(parts.size());
  for (const auto& p : parts) {
    if (!p.empty()) iov.push_back({const_cast<uint8_t*>(p.data()), p.size()});
  }
  size_t first = 0;
  while (first < iov.size()) {
    const int count = static_cast<int>(std::min<size_t>(iov.size() - first, IOV_MAX));
    const ssize_t n = ::writev(fd, iov.data() + first, count);
    if (n < 0) {
      if (errno == EINTR) continue;
      return WriteError();
    }
    // Skip what was written: whole buffers, then the front of a partly written one.
    auto left = static_cast<size_t>(n);
    while (first < iov.size() && left >= iov[first].iov_len) left -= iov[first++].iov_len;
    if (left > 0) {
      iov[first].iov_base = static_cast<uint8_t*>(iov[first].iov_base) + left;
      iov[first].iov_len -= left;
    }
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

Status WriteNewFile(const std::string& path, const std::string& body, mode_t mode) {
  const UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode));
  if (!fd.valid()) return Status::IoError("cannot create " + path + ": " + std::strerror(errno));
  Status st = WriteAll(fd.get(), {reinterpret_cast<const uint8_t*>(body.data()), body.size()});
  if (st.ok() && ::fsync(fd.get()) != 0) st = Status::IoError("fsync " + path);
  return st;  // close unchecked, as before: fsync above already reported any write error
}

}  // namespace dstk
