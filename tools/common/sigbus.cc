#include "sigbus.h"

#include <signal.h>
#include <unistd.h>

#include "util/exit_code.h"

namespace dstk::tools {
namespace {

void OnSigbus(int /*sig*/) {
  // Only async-signal-safe calls here: write(2) and _exit(2).
  static constexpr char kMessage[] =
      "dstk: an input file was cut shorter while it was being read (SIGBUS); stopped, nothing "
      "was published from it\n";
  (void)!::write(STDERR_FILENO, kMessage, sizeof kMessage - 1);
  ::_exit(kExitSystem);
}

}  // namespace

void ExitOnSigbus() {
  struct sigaction sa {};
  sa.sa_handler = OnSigbus;
  sigemptyset(&sa.sa_mask);
  ::sigaction(SIGBUS, &sa, nullptr);
}

}  // namespace dstk::tools
