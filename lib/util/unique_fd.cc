#include "util/unique_fd.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace dstk {

void UniqueFd::reset(int fd) {
  if (fd_ >= 0) ::close(fd_);  // Linux closes the fd even when close() reports EINTR: no retry.
  fd_ = fd;
}

Status UniqueFd::Close(const std::string& path) {
  const int fd = release();
  if (fd < 0 || ::close(fd) == 0) return Status::Ok();
  const int e = errno;
  std::string msg = "close " + path + ": " + std::strerror(e);
  if (e == ENOSPC || e == EDQUOT) return Status::Limit(std::move(msg));
  return Status::IoError(std::move(msg));
}

}  // namespace dstk
