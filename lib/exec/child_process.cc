#include "exec/child_process.h"

#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace dstk::exec {
namespace {

int OpenPidfd(pid_t pid) {
#ifdef SYS_pidfd_open
  return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));  // close-on-exec by definition
#else
  (void)pid;
  return -1;
#endif
}

Status Lost(pid_t pid) {
  return Status::IoError("lost track of child " + std::to_string(pid) +
                         ": reaped elsewhere (is SIGCHLD ignored?)");
}

}  // namespace

ChildProcess::ChildProcess(pid_t pid) : pid_(pid), pidfd_(OpenPidfd(pid)) {}

ChildProcess::~ChildProcess() {
  if (reaped_) return;
  SignalGroup(SIGKILL);
  // A destructor has nowhere to report to, and the child is already killed: reaping is only so
  // that no zombie stays. Callers that want the exit status call Reap() themselves.
  (void)Reap();
}

void ChildProcess::SignalGroup(int sig) {
  if (!reaped_) ::kill(-pid_, sig);
}

Result<bool> ChildProcess::HasExited() {
  if (reaped_) return true;
  siginfo_t info;
  std::memset(&info, 0, sizeof info);
  while (::waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOHANG | WNOWAIT) != 0) {
    if (errno == EINTR) continue;
    if (errno == ECHILD) {
      reaped_ = true;
      return Lost(pid_);
    }
    return Status::IoError(std::string("waitid: ") + std::strerror(errno));
  }
  return info.si_pid == pid_;
}

Result<int> ChildProcess::Reap() {
  int wstatus = 0;
  while (!reaped_) {
    if (::waitpid(pid_, &wstatus, 0) == pid_) {
      reaped_ = true;
      return wstatus;
    }
    if (errno == EINTR) continue;
    const bool lost = errno == ECHILD;
    reaped_ = lost;
    if (lost) return Lost(pid_);
    return Status::IoError(std::string("waitpid: ") + std::strerror(errno));
  }
  return Lost(pid_);
}

}  // namespace dstk::exec
