#include "exec/sigpipe_block.h"

#include <pthread.h>

#include <cerrno>
#include <ctime>

namespace dstk::exec {
namespace {

sigset_t PipeSet() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGPIPE);
  return set;
}

}  // namespace

SigpipeBlock::SigpipeBlock() {
  const sigset_t set = PipeSet();
  sigset_t old;
  sigemptyset(&old);
  pthread_sigmask(SIG_BLOCK, &set, &old);
  was_blocked_ = sigismember(&old, SIGPIPE) == 1;
  sigset_t pending;
  sigemptyset(&pending);
  was_pending_ = sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE) == 1;
}

SigpipeBlock::~SigpipeBlock() {
  const int saved_errno = errno;
  const sigset_t set = PipeSet();
  if (!was_pending_) {
    const timespec zero{};
    for (;;) {
      const int sig = sigtimedwait(&set, nullptr, &zero);
      if (sig == SIGPIPE) continue;
      if (sig < 0 && errno == EINTR) continue;
      break;
    }
  }
  if (!was_blocked_) pthread_sigmask(SIG_UNBLOCK, &set, nullptr);
  errno = saved_errno;
}

}  // namespace dstk::exec
