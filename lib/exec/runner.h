// Running one function: a command exec'd directly from its argv (never through a shell unless
// the argv itself is {"sh", "-c", ...}), in a clean environment, in a fresh scratch directory,
// in its own process group, under resource limits and a wall-clock timeout.
//
//   exec::RunSpec spec;
//   spec.argv = {"sort", "-u"};
//   spec.env = exec::CleanEnv();
//   spec.scratch_parent = "/var/tmp";
//   spec.limits.timeout = std::chrono::seconds(60);
//   auto r = exec::Run(spec, [&](int fd) { return WriteAll(fd, input); }, out_fd);
//   if (!r.ok()) ...            // the runner itself failed (fork, pipes, scratch dir, stdout_fd)
//   if (!r->ok()) ...           // the function failed: r->Describe(), r->stderr_tail
//
// What a run looks like from the inside:
//   - argv[0] without a '/' is looked up in the PATH of `env` (absolute entries only; the
//     caller's own PATH plays no part). It is not found: the run does not start and the
//     result says "command not found: X" with exit code 127 (126 when it cannot be executed).
//   - The environment is exactly `env`; "{scratch}" in a value is replaced by the scratch dir.
//   - The working directory is a new, private (0700) directory made under `scratch_parent`.
//     It is removed with everything in it when the run ends, however it ends.
//   - stdin, stdout and stderr are pipes; no other descriptor of this process is open in it.
//   - Signal dispositions and the signal mask are the defaults; core dumps are off.
//   - The command is the leader of a new process group. When it exits, whatever it left
//     running in its group is killed, and so is the whole group on timeout, cancel or too
//     much output. (A process that leaves the group with setsid escapes; contain untrusted
//     code with a cgroup or a container around the runner.)
//
// Run blocks the calling thread until the command and its group are gone. It installs no
// signal handler and changes no process-wide state: SIGPIPE is blocked only in the threads
// that write to pipes, for the duration of the run, and any SIGPIPE those writes raised is
// consumed. The process must not ignore SIGCHLD nor reap children it did not start (a
// waitpid(-1) elsewhere), or the runner loses track of its child. Many runs may proceed at
// once on different threads.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "util/status.h"

namespace dstk::exec {

struct Limits {
  // Wall clock from the start; 0 = none. On expiry the process group gets SIGTERM (and SIGCONT,
  // so a stopped process sees it), then SIGKILL if anything is still alive after `kill_grace`.
  std::chrono::milliseconds timeout{0};
  // How long a process group has between SIGTERM and SIGKILL, whatever the reason for stopping.
  std::chrono::milliseconds kill_grace{2000};
  // RLIMIT_CPU of each process: SIGXCPU after this many seconds of CPU time, SIGKILL one
  // second later. 0 = none.
  uint64_t cpu_seconds = 0;
  // RLIMIT_AS of each process (address space, so allocations beyond it fail). 0 = none.
  uint64_t memory_bytes = 0;
  // Stdout bytes passed on to `stdout_fd`; 0 = unlimited. A command that writes more is
  // stopped as on timeout, exactly this many bytes were passed on, and output_too_large is set.
  uint64_t max_output_bytes = 0;
};

// The token that a value in RunSpec::env may contain to name the run's scratch directory.
inline constexpr std::string_view kScratchToken = "{scratch}";

// PATH=/usr/local/bin:/usr/bin:/bin, HOME={scratch}, TMPDIR={scratch}, LANG=C.UTF-8.
std::vector<std::string> CleanEnv();

struct RunSpec {
  std::vector<std::string> argv;  // at least argv[0]; no string may contain a NUL byte
  std::vector<std::string> env;   // "KEY=VALUE" each: the whole environment of the command
  std::string scratch_parent;     // an existing directory to make the scratch directory in
  Limits limits;
};

// Bytes of stderr kept (the last ones).
inline constexpr size_t kStderrTailBytes = size_t{64} * 1024;

struct RunResult {
  int exit_code = -1;             // the exit status when the command exited, else -1
  int signal = 0;                 // the signal that killed it, else 0
  bool timed_out = false;         // the timeout expired and the group was stopped
  bool cancelled = false;         // `cancel` returned true and the group was stopped
  bool output_too_large = false;  // stdout exceeded max_output_bytes and the group was stopped
  std::string start_error;        // set when the command never ran: "command not found: X"
  std::string stderr_tail;        // the last kStderrTailBytes of stderr
  uint64_t stderr_bytes = 0;      // all of stderr, of which stderr_tail is the end
  uint64_t stdout_bytes = 0;      // written to stdout_fd
  std::chrono::milliseconds elapsed{0};
  std::string cleanup_error;  // set when the scratch directory could not be removed whole

  // Exited with status 0 and was not stopped for any reason.
  bool ok() const;
  // One line for a diagnostic: "exited with status 3", "timed out (killed by SIGKILL)", ...
  std::string Describe() const;
};

// Writes the command's input into `stdin_fd` (a blocking pipe) and returns. It runs on a thread
// of its own, with SIGPIPE blocked; the runner closes the fd after it returns (it must not).
// When the command stops reading (exits, or closes its stdin), writes fail with EPIPE; the
// error it then returns is not an error of the run. Any other error it returns voids the run:
// the group is killed and Run returns that Status, since the command saw truncated input.
using StdinFeeder = std::function<Status(int stdin_fd)>;

// Polled about every 50 ms from the calling thread; true stops the run (e.g. a lost lease).
using CancelCheck = std::function<bool()>;

// Runs `spec`. `feed_stdin` may be empty (the command reads end of file at once); it is not
// called when the command does not start. Stdout is written to `stdout_fd` as it arrives
// (blocking writes; -1 discards it); stderr is kept in the result. Returns a RunResult for
// every run that was attempted, successful or not; a non-ok Status only when the runner could
// not do its part (kInvalidArgument for a bad spec, kIoError for a system call, a write to
// stdout_fd, or the feeder's own error).
Result<RunResult> Run(const RunSpec& spec, const StdinFeeder& feed_stdin, int stdout_fd,
                      const CancelCheck& cancel = {});

}  // namespace dstk::exec
