// Keeping SIGPIPE from killing the process while one thread writes to pipes, without touching
// process-wide state (no handler, no SIG_IGN). Internal to lib/exec.
#pragma once

#include <signal.h>

namespace dstk::exec {

// While alive, SIGPIPE is blocked in the calling thread, so a write to a pipe whose reader is
// gone fails with EPIPE instead of killing the process. On destruction the SIGPIPEs those
// writes left pending on the thread are consumed (sigtimedwait with a zero timeout) and the
// thread's mask is restored. A SIGPIPE already pending when it was made is left alone.
// Must be destroyed on the thread that made it.
class SigpipeBlock {
 public:
  SigpipeBlock();
  ~SigpipeBlock();
  SigpipeBlock(const SigpipeBlock&) = delete;
  SigpipeBlock& operator=(const SigpipeBlock&) = delete;

 private:
  bool was_blocked_ = false;
  bool was_pending_ = false;
};

}  // namespace dstk::exec
