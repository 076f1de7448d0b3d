#include "exec/pipe.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace dstk::exec {
namespace {

Status Errno(const char* what) {
  return Status::IoError(std::string(what) + ": " + std::strerror(errno));
}

// Moves `fd` to a number >= 3, keeping close-on-exec.
Status LiftAboveStdio(UniqueFd& fd) {
  if (fd.get() >= 3) return Status::Ok();
  const int lifted = ::fcntl(fd.get(), F_DUPFD_CLOEXEC, 3);
  if (lifted < 0) return Errno("fcntl(F_DUPFD_CLOEXEC)");
  fd.reset(lifted);
  return Status::Ok();
}

}  // namespace

Result<Pipe> MakePipe() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return Errno("pipe2");
  Pipe p{UniqueFd(fds[0]), UniqueFd(fds[1])};
  DSTK_RETURN_IF_ERROR(LiftAboveStdio(p.read));
  DSTK_RETURN_IF_ERROR(LiftAboveStdio(p.write));
  return p;
}

Status SetNonBlocking(int fd) {
  const int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0 || ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0) return Errno("fcntl(O_NONBLOCK)");
  return Status::Ok();
}

}  // namespace dstk::exec
