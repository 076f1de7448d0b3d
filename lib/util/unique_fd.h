// UniqueFd: the one owner of an open file descriptor, so that no return path can leak it.
//
// The descriptors lib/ and the tools open are held in one of these from the line that opens
// them. (lib/exec keeps three raw close() calls on purpose: in a forked child before exec,
// where no destructor may run; beside fdopendir, which takes the fd over only if it works;
// and in the stdin relay's thread, whose close of the pipe is the child's end of input.)
// The destructor closes and ignores close(2)'s result, which is right for descriptors only
// read from or already synced. Where a close error means lost data (a write whose durability
// is being reported), call Close() and check it instead.
#pragma once

#include <string>

#include "util/status.h"

namespace dstk {

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
  // Gives the descriptor up without closing it; the caller owns it now.
  int release() {
    const int fd = fd_;
    fd_ = -1;
    return fd;
  }
  // Closes the descriptor held (if any), ignoring close(2)'s result, and holds `fd` instead.
  void reset(int fd = -1);

  // Closes now and reports close(2)'s error, naming `path`: kLimit for ENOSPC and EDQUOT (NFS
  // and some quotas report them only here), else kIoError. The descriptor is gone either way
  // (Linux frees it even when close fails), so the caller must not retry. Ok when none is held.
  Status Close(const std::string& path);

 private:
  int fd_ = -1;
};

}  // namespace dstk
