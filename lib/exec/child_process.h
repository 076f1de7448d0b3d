// A started command, leader of its own process group, until it is reaped. Internal to lib/exec.
//
// The leader is reaped only at the very end: while it is a zombie its pid stays reserved, so
// signalling the group by that id can never reach an unrelated process that reused it.
#pragma once

#include <sys/types.h>

#include "util/status.h"
#include "util/unique_fd.h"

namespace dstk::exec {

class ChildProcess {
 public:
  // Takes charge of `pid`, a process group leader. Opens a pidfd when the kernel has them.
  explicit ChildProcess(pid_t pid);
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  // Unless reaped: SIGKILL to the group, then reaps the leader.
  ~ChildProcess();

  pid_t pid() const { return pid_; }
  // Readable once the leader has exited; -1 when pidfds are unavailable (then poll HasExited).
  int pidfd() const { return pidfd_.get(); }

  // Sends `sig` to every process in the group. Does nothing once the leader was reaped.
  void SignalGroup(int sig);

  // Whether the leader has exited. It is left a zombie (not reaped). kIoError if it vanished:
  // someone else reaped it (SIGCHLD ignored, or a waitpid(-1) elsewhere in the process).
  Result<bool> HasExited();

  // Waits for the leader to exit and reaps it; its wait status.
  Result<int> Reap();

 private:
  pid_t pid_;
  UniqueFd pidfd_;
  bool reaped_ = false;
};

}  // namespace dstk::exec
