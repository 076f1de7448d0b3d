// Watching a started command until it is over: copying its stdin from the feeder's relay,
// passing its stdout on, keeping its stderr tail, and stopping its process group on timeout,
// cancel or too much output. One poll loop on the calling thread. Internal to lib/exec.
#pragma once

#include "exec/child_process.h"
#include "exec/runner.h"
#include "exec/stdin_relay.h"
#include "util/unique_fd.h"

namespace dstk::exec {

// The parent's ends of the command's pipes, all nonblocking. stdin_w is invalid (closed)
// when there is no feeder.
struct ChildPipes {
  UniqueFd stdin_w;
  UniqueFd stdout_r;
  UniqueFd stderr_r;
};

// Returns once the leader has exited, the rest of its group has been sent SIGKILL, and its
// stdout and stderr reached end of file (or, if something outside the group holds them open,
// a grace period passed). Sets the flags, stderr and stdout fields of `result`; the caller
// reaps the leader. A non-ok Status (stdout_fd unwritable, the feeder failed, a system call
// failed) leaves the command running for the caller to kill. The caller has SIGPIPE blocked.
Status Supervise(ChildProcess& child, ChildPipes pipes, StdinRelay* relay, const Limits& limits,
                 int stdout_fd, const CancelCheck& cancel, RunResult& result);

}  // namespace dstk::exec
