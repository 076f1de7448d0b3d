#include "exec/spawn.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "exec/pipe.h"
#include "util/name_table.h"

namespace dstk::exec {
namespace {

// What the child reports through the close-on-exec pipe when a step fails.
enum class Step : int { kSetpgid = 1, kDup, kChdir, kRlimit, kReportFd, kExec };

constexpr NameTable<Step, 6> kSteps = {{{Step::kSetpgid, "setpgid"},
                                        {Step::kDup, "dup2"},
                                        {Step::kChdir, "chdir"},
                                        {Step::kRlimit, "setrlimit"},
                                        {Step::kReportFd, "dup3"},
                                        {Step::kExec, "execve"}}};

const char* StepName(Step step) {
  return NameIn(kSteps, step, "?");
}

struct Report {
  Step step;
  int err;
};

struct Rlimit {
  int resource;
  rlimit value;
};

// Everything the child needs, computed before fork: between fork and exec the child of a
// multi-threaded process may only make async-signal-safe calls (no allocation).
struct Prepared {
  std::vector<char*> argv;
  std::vector<char*> envp;
  std::vector<Rlimit> limits;
  int max_fd = 0;  // for closing fds one by one when close_range is unavailable
};

// The limit {soft, hard}, lowered to what the current hard limit allows.
rlimit Capped(int resource, rlim_t soft, rlim_t hard) {
  rlimit cur{};
  if (::getrlimit(resource, &cur) == 0 && cur.rlim_max != RLIM_INFINITY) {
    soft = std::min(soft, cur.rlim_max);
    hard = std::min(hard, cur.rlim_max);
  }
  return {soft, hard};
}

Prepared Prepare(const ChildPlan& plan) {
  Prepared p;
  for (const std::string& a : plan.argv) p.argv.push_back(const_cast<char*>(a.c_str()));
  p.argv.push_back(nullptr);
  for (const std::string& e : plan.env) p.envp.push_back(const_cast<char*>(e.c_str()));
  p.envp.push_back(nullptr);
  if (plan.cpu_seconds > 0) {
    const rlim_t s = static_cast<rlim_t>(plan.cpu_seconds);
    const rlim_t hard = s < RLIM_INFINITY ? s + 1 : s;  // SIGXCPU at soft, SIGKILL at hard
    p.limits.push_back({RLIMIT_CPU, Capped(RLIMIT_CPU, s, hard)});
  }
  if (plan.memory_bytes > 0) {
    const rlim_t m = static_cast<rlim_t>(plan.memory_bytes);
    p.limits.push_back({RLIMIT_AS, Capped(RLIMIT_AS, m, m)});
  }
  p.limits.push_back({RLIMIT_CORE, {0, 0}});
  rlimit nofile{};
  p.max_fd = 65536;
  if (::getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur != RLIM_INFINITY) {
    p.max_fd = static_cast<int>(std::min<rlim_t>(nofile.rlim_cur, 1 << 20));
  }
  return p;
}

[[noreturn]] void Fail(int report_fd, Step step) {
  const Report r{step, errno};
  ssize_t n;
  do {
    n = ::write(report_fd, &r, sizeof r);
  } while (n < 0 && errno == EINTR);
  ::_exit(127);
}

// The child between fork and exec. Async-signal-safe calls only.
[[noreturn]] void ChildMain(const ChildPlan& plan, const Prepared& p, int report_fd) {
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  sigemptyset(&dfl.sa_mask);
  for (int sig = 1; sig < NSIG; ++sig) ::sigaction(sig, &dfl, nullptr);  // some fail: fine
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);

  if (::setpgid(0, 0) != 0) Fail(report_fd, Step::kSetpgid);
  if (::dup2(plan.stdin_fd, 0) < 0 || ::dup2(plan.stdout_fd, 1) < 0 ||
      ::dup2(plan.stderr_fd, 2) < 0) {
    Fail(report_fd, Step::kDup);
  }
  if (::chdir(plan.cwd.c_str()) != 0) Fail(report_fd, Step::kChdir);
  for (const Rlimit& l : p.limits) {
    if (::setrlimit(l.resource, &l.value) != 0) Fail(report_fd, Step::kRlimit);
  }
  // Keep only 0, 1, 2 and the report pipe (moved to 3; close-on-exec, so exec closes it).
  if (report_fd != 3) {
    if (::dup3(report_fd, 3, O_CLOEXEC) < 0) Fail(report_fd, Step::kReportFd);
    report_fd = 3;
  }
  if (::close_range(4, ~0U, 0) != 0) {
    for (int fd = 4; fd < p.max_fd; ++fd) ::close(fd);
  }
  ::execve(plan.path.c_str(), p.argv.data(), p.envp.data());
  Fail(report_fd, Step::kExec);
}

// Sanitizer runtimes intercept the child's calls and install signal handlers that must not run
// on memory the child shares with its parent: those builds fork.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr bool kSanitized = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || \
    __has_feature(memory_sanitizer)
constexpr bool kSanitized = true;
#else
constexpr bool kSanitized = false;
#endif
#else
constexpr bool kSanitized = false;
#endif

struct ChildArgs {
  const ChildPlan* plan;
  const Prepared* prepared;
  int report_fd;
};

int ChildEntry(void* arg) {
  const auto* a = static_cast<const ChildArgs*>(arg);
  ChildMain(*a->plan, *a->prepared, a->report_fd);
}

// Starts the child; its pid, or -1 with errno. The child shares the parent's memory until it
// execs, and the calling thread waits until then (clone with CLONE_VM | CLONE_VFORK, as
// posix_spawn does): no copy of the page tables, which made fork the largest kernel cost of a
// worker running many small functions. Every signal stays blocked across the clone, so that no
// handler of the parent's runs in the child on shared memory; the child resets them all to
// their defaults before it unblocks (ChildMain).
pid_t StartChild(const ChildPlan& plan, const Prepared& prepared, int report_fd) {
  if constexpr (kSanitized) {
    const pid_t pid = ::fork();
    if (pid == 0) ChildMain(plan, prepared, report_fd);
    return pid;
  }
  constexpr size_t kStackBytes = size_t{64} * 1024;  // ChildMain's frames, and libc's
  void* stack = ::mmap(nullptr, kStackBytes, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
  if (stack == MAP_FAILED) return -1;
  sigset_t all;
  sigset_t before;
  sigfillset(&all);
  ::pthread_sigmask(SIG_SETMASK, &all, &before);
  ChildArgs args{&plan, &prepared, report_fd};
  const pid_t pid = ::clone(ChildEntry, static_cast<char*>(stack) + kStackBytes,
                            CLONE_VM | CLONE_VFORK | SIGCHLD, &args);
  const int clone_errno = errno;
  ::pthread_sigmask(SIG_SETMASK, &before, nullptr);
  ::munmap(stack, kStackBytes);  // the child has exec'd or exited: its stack is free
  errno = clone_errno;
  return pid;
}

}  // namespace

Result<Spawned> Spawn(const ChildPlan& plan) {
  const Prepared prepared = Prepare(plan);
  Result<Pipe> report = MakePipe();
  if (!report.ok()) return report.status();

  const pid_t pid = StartChild(plan, prepared, report->write.get());
  if (pid < 0) return Status::IoError(std::string("starting a process: ") + std::strerror(errno));

  report->write.reset();
  Report r{};
  ssize_t n;
  do {
    n = ::read(report->read.get(), &r, sizeof r);
  } while (n < 0 && errno == EINTR);
  if (n == 0) return Spawned{pid, 0};  // end of file: the exec closed the pipe

  const int read_errno = errno;
  int wstatus = 0;
  while (::waitpid(pid, &wstatus, 0) < 0 && errno == EINTR) {
  }
  if (n != static_cast<ssize_t>(sizeof r)) {
    return Status::IoError(std::string("reading the child's start report: ") +
                           (n < 0 ? std::strerror(read_errno) : "short read"));
  }
  if (r.step == Step::kExec) return Spawned{-1, r.err};
  return Status::IoError(std::string("starting the command: ") + StepName(r.step) + ": " +
                         std::strerror(r.err));
}

}  // namespace dstk::exec
