// Starting the command: a child that shares our memory until it execs (vfork-style clone, as
// posix_spawn; sanitizer builds fork), set up, exec. Internal to lib/exec.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "exec/runner.h"

namespace dstk::exec {

struct ChildPlan {
  std::string path;               // what to exec (already resolved)
  std::vector<std::string> argv;  // argv[0] as given by the user
  std::vector<std::string> env;
  std::string cwd;
  uint64_t cpu_seconds = 0;   // 0 = leave as is
  uint64_t memory_bytes = 0;  // 0 = leave as is
  int stdin_fd = -1;          // the child's ends of its three pipes
  int stdout_fd = -1;
  int stderr_fd = -1;
};

struct Spawned {
  pid_t pid = -1;      // the running command, leader of process group `pid`; -1 if exec failed
  int exec_errno = 0;  // why execve failed (the child has been reaped)
};

// Starts a child that: resets every signal to its default disposition and unblocks all;
// becomes leader of a new process group; puts the three fds on 0, 1 and 2; closes every other
// fd; enters `cwd`; sets RLIMIT_CPU, RLIMIT_AS and RLIMIT_CORE (0); and execs `path`. Returns
// once the exec happened or failed (a close-on-exec pipe reports the child's errno). A failure
// of execve is the command's (Spawned::exec_errno); a failure of any earlier step, or of the
// clone, is a kIoError. posix_spawn is not used because it cannot set resource limits.
Result<Spawned> Spawn(const ChildPlan& plan);

}  // namespace dstk::exec
