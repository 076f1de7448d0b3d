// RunResult's verdict and its one-line description.
#include <string.h>  // sigabbrev_np

#include <string>

#include "exec/runner.h"

namespace dstk::exec {
namespace {

std::string SignalName(int sig) {
  const char* abbrev = ::sigabbrev_np(sig);
  return abbrev != nullptr ? std::string("SIG") + abbrev : "signal " + std::to_string(sig);
}

}  // namespace

bool RunResult::ok() const {
  return exit_code == 0 && signal == 0 && !timed_out && !cancelled && !output_too_large &&
         start_error.empty();
}

std::string RunResult::Describe() const {
  if (!start_error.empty()) return start_error;
  std::string how;
  if (signal != 0) {
    how = "killed by " + SignalName(signal);
  } else if (exit_code >= 0) {
    how = "exited with status " + std::to_string(exit_code);
  } else {
    how = "did not finish";
  }
  if (timed_out) return "timed out (" + how + ")";
  if (cancelled) return "cancelled (" + how + ")";
  if (output_too_large) return "stdout over the limit (" + how + ")";
  return how;
}

}  // namespace dstk::exec
