// The pipes the runner wires a child with. Internal to lib/exec.
#pragma once

#include "util/status.h"
#include "util/unique_fd.h"

namespace dstk::exec {

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
