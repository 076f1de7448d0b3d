// An owned file descriptor, and the pipes the runner wires a child with. Internal to lib/exec.
#pragma once

#include "util/status.h"

namespace dstk::exec {

// Closes its descriptor when destroyed or reset. Move-only; -1 means none.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) reset(other.release());
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { reset(); }

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  int release() {
    const int fd = fd_;
    fd_ = -1;
    return fd;
  }
  void reset(int fd = -1);

 private:
  int fd_ = -1;
};

struct Pipe {
  UniqueFd read;
  UniqueFd write;
};

// A pipe with both ends close-on-exec (so a child forked meanwhile by another thread never
// inherits them) and numbered 3 or above (so wiring them onto 0, 1 and 2 in a child never
// overwrites one with another, even in a process started with its standard fds closed).
Result<Pipe> MakePipe();

// Sets O_NONBLOCK.
Status SetNonBlocking(int fd);

}  // namespace dstk::exec
