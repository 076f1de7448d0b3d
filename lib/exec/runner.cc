// Run(): the scratch directory, the pipes, the child, the feeder, the supervisor, in the
// order that lets each be undone whatever fails (destructors run in reverse: the feeder is
// stopped, the group killed and reaped, then the scratch directory removed).
#include "exec/runner.h"

#include <signal.h>
#include <sys/wait.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <utility>

#include "exec/child_process.h"
#include "exec/command.h"
#include "exec/pipe.h"
#include "exec/scratch_dir.h"
#include "exec/sigpipe_block.h"
#include "exec/spawn.h"
#include "exec/stdin_relay.h"
#include "exec/supervisor.h"

namespace dstk::exec {
namespace {

using Clock = std::chrono::steady_clock;

std::chrono::milliseconds Since(Clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
}

// A command that never ran, shell style: 127 not found, 126 found but not executable.
void NeverRan(RunResult& result, std::string why, bool not_found) {
  result.start_error = std::move(why);
  result.exit_code = not_found ? 127 : 126;
}

Status CheckLimits(const Limits& limits) {
  if (limits.timeout.count() < 0) return Status::Invalid("negative timeout");
  if (limits.kill_grace.count() < 0) return Status::Invalid("negative kill grace");
  return Status::Ok();
}

}  // namespace

Result<RunResult> Run(const RunSpec& spec, const StdinFeeder& feed_stdin, int stdout_fd,
                      const CancelCheck& cancel) {
  DSTK_RETURN_IF_ERROR(CheckArgv(spec.argv));
  DSTK_RETURN_IF_ERROR(CheckLimits(spec.limits));
  const Clock::time_point start = Clock::now();
  RunResult result;

  Result<ScratchDir> scratch = ScratchDir::Create(spec.scratch_parent);
  if (!scratch.ok()) return scratch.status().With("scratch directory");
  Result<std::vector<std::string>> env = PrepareEnv(spec.env, scratch->path());
  if (!env.ok()) return env.status();

  Result<std::string> path = ResolveCommand(spec.argv[0], *env);
  if (!path.ok()) {
    NeverRan(result, path.status().message(), path.status().code() == Code::kNotFound);
  } else {
    // Blocked for the whole run on this thread: it writes to the command's stdin and to
    // stdout_fd, either of which may be a pipe whose reader is gone.
    SigpipeBlock sigpipe_block;
    Result<Pipe> in = MakePipe();
    if (!in.ok()) return in.status();
    Result<Pipe> out = MakePipe();
    if (!out.ok()) return out.status();
    Result<Pipe> err = MakePipe();
    if (!err.ok()) return err.status();

    ChildPlan plan{*path,
                   spec.argv,
                   std::move(*env),
                   scratch->path(),
                   spec.limits.cpu_seconds,
                   spec.limits.memory_bytes,
                   in->read.get(),
                   out->write.get(),
                   err->write.get()};
    Result<Spawned> spawned = Spawn(plan);
    in->read.reset();
    out->write.reset();
    err->write.reset();
    if (!spawned.ok()) return spawned.status();

    if (spawned->pid < 0) {
      const int e = spawned->exec_errno;
      NeverRan(result,
               e == ENOENT ? "command not found: " + spec.argv[0]
                           : "cannot execute " + spec.argv[0] + ": " + std::strerror(e),
               e == ENOENT);
    } else {
      ChildProcess child(spawned->pid);
      for (int fd : {in->write.get(), out->read.get(), err->read.get()}) {
        DSTK_RETURN_IF_ERROR(SetNonBlocking(fd));
      }
      std::unique_ptr<StdinRelay> relay;
      if (feed_stdin) {
        Result<std::unique_ptr<StdinRelay>> started = StdinRelay::Start(feed_stdin);
        if (!started.ok()) return started.status();
        relay = std::move(*started);
      } else {
        in->write.reset();  // end of file at once
      }
      DSTK_RETURN_IF_ERROR(
          Supervise(child, {std::move(in->write), std::move(out->read), std::move(err->read)},
                    relay.get(), spec.limits, stdout_fd, cancel, result));
      relay.reset();  // the supervisor joined it, or abandoned it when the command exited

      Result<int> wstatus = child.Reap();
      if (!wstatus.ok()) return wstatus.status();
      if (WIFEXITED(*wstatus)) result.exit_code = WEXITSTATUS(*wstatus);
      if (WIFSIGNALED(*wstatus)) result.signal = WTERMSIG(*wstatus);
    }
  }

  result.elapsed = Since(start);
  Status removed = scratch->Remove();
  if (!removed.ok()) result.cleanup_error = removed.message();
  return result;
}

}  // namespace dstk::exec
