// Unit tests of lib/exec: running a command with stdin/stdout wiring, a clean environment, a
// scratch directory, limits, timeouts and cancellation. Only sh and coreutils are used.
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "exec/runner.h"
#include "exec/scratch_dir.h"
#include "util/fd_io.h"

namespace fs = std::filesystem;
using dstk::Code;
using dstk::Status;
using namespace dstk::exec;
using namespace std::chrono_literals;

namespace {

// A temp directory for the test, removed afterwards.
struct TempDir {
  std::string path;
  TempDir() {
    std::string tmpl = fs::temp_directory_path().string() + "/dstk-exec-test.XXXXXX";
    REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
    path = tmpl;
  }
  ~TempDir() { (void)RemoveTree(path); }
  bool Empty() const { return fs::is_empty(path); }
};

// An in-memory file to collect a command's stdout.
struct Output {
  int fd = ::memfd_create("exec-test-out", MFD_CLOEXEC);
  Output() { REQUIRE(fd >= 0); }
  ~Output() { ::close(fd); }
  std::string Text() const {
    std::string s;
    char buf[65536];
    for (off_t off = 0;;) {
      const ssize_t n = ::pread(fd, buf, sizeof buf, off);
      REQUIRE(n >= 0);
      if (n == 0) break;
      s.append(buf, static_cast<size_t>(n));
      off += n;
    }
    return s;
  }
};

RunSpec Spec(const TempDir& dir, std::vector<std::string> argv) {
  RunSpec spec;
  spec.argv = std::move(argv);
  spec.env = CleanEnv();
  spec.scratch_parent = dir.path;
  spec.limits.kill_grace = 500ms;
  return spec;
}

RunSpec Sh(const TempDir& dir, const std::string& script) {
  return Spec(dir, {"sh", "-c", script});
}

StdinFeeder Feed(const std::string& data) {
  return [data](int fd) {
    return dstk::WriteAll(fd, {reinterpret_cast<const uint8_t*>(data.data()), data.size()});
  };
}

// True once `pid` is gone or a zombie (whoever reaps orphans may be slow or absent).
bool Gone(pid_t pid) {
  for (int i = 0; i < 200; ++i) {
    if (::kill(pid, 0) != 0 && errno == ESRCH) return true;
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    std::getline(stat, line);
    const size_t paren = line.rfind(')');
    if (paren != std::string::npos && paren + 2 < line.size() && line[paren + 2] == 'Z') {
      return true;
    }
    std::this_thread::sleep_for(10ms);
  }
  return false;
}

size_t OpenFds() {
  size_t n = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator("/proc/self/fd")) ++n;
  return n;
}

}  // namespace

TEST_CASE("cat round trip: stdin in, stdout out, byte for byte", "[exec]") {
  TempDir dir;
  Output out;
  std::string input(3 * 1024 * 1024 + 17, '\0');
  std::mt19937 rng(7);
  for (char& c : input) c = static_cast<char>(rng());
  auto r = Run(Spec(dir, {"cat"}), Feed(input), out.fd);
  REQUIRE(r.ok());
  CHECK(r->ok());
  CHECK(r->exit_code == 0);
  CHECK(r->stdout_bytes == input.size());
  CHECK(out.Text() == input);
  CHECK(dir.Empty());
}

TEST_CASE("exit status is passed through", "[exec]") {
  TempDir dir;
  auto r = Run(Sh(dir, "echo oops >&2; exit 3"), {}, -1);
  REQUIRE(r.ok());
  CHECK_FALSE(r->ok());
  CHECK(r->exit_code == 3);
  CHECK(r->signal == 0);
  CHECK(r->stderr_tail == "oops\n");
  CHECK(r->Describe() == "exited with status 3");
}

TEST_CASE("death by signal is reported", "[exec]") {
  TempDir dir;
  auto r = Run(Sh(dir, "kill -KILL $$"), {}, -1);
  REQUIRE(r.ok());
  CHECK_FALSE(r->ok());
  CHECK(r->signal == SIGKILL);
  CHECK(r->exit_code == -1);
  CHECK(r->Describe() == "killed by SIGKILL");
}

TEST_CASE("timeout kills the whole process group, grandchildren included", "[exec]") {
  TempDir dir;
  Output out;
  RunSpec spec = Sh(dir, "sleep 30 & echo $!; wait");
  spec.limits.timeout = 300ms;
  auto r = Run(spec, {}, out.fd);
  REQUIRE(r.ok());
  CHECK(r->timed_out);
  CHECK_FALSE(r->ok());
  CHECK(r->signal == SIGTERM);
  CHECK(r->elapsed >= 300ms);
  CHECK(r->elapsed < 3s);
  CHECK(r->Describe() == "timed out (killed by SIGTERM)");
  const pid_t grandchild = static_cast<pid_t>(std::stol(out.Text()));
  CHECK(Gone(grandchild));
  CHECK(dir.Empty());
}

TEST_CASE("what the command leaves running in its group is killed when it exits", "[exec]") {
  TempDir dir;
  Output out;
  // The background sleep keeps stdout open: without the group kill Run would wait for it.
  auto r = Run(Sh(dir, "sleep 30 & echo $!"), {}, out.fd);
  REQUIRE(r.ok());
  CHECK(r->ok());
  CHECK(r->elapsed < 2s);
  const pid_t grandchild = static_cast<pid_t>(std::stol(out.Text()));
  CHECK(Gone(grandchild));
  CHECK(dir.Empty());
}

TEST_CASE("a group that ignores SIGTERM gets SIGKILL after the grace", "[exec]") {
  TempDir dir;
  RunSpec spec = Sh(dir, "trap '' TERM; sleep 30; true");
  spec.limits.timeout = 200ms;
  spec.limits.kill_grace = 200ms;
  auto r = Run(spec, {}, -1);
  REQUIRE(r.ok());
  CHECK(r->timed_out);
  CHECK(r->signal == SIGKILL);
  CHECK(r->elapsed >= 400ms);
  CHECK(r->elapsed < 3s);
}

TEST_CASE("memory limit makes a big allocation fail", "[exec]") {
  TempDir dir;
  // sort must hold one 100 MB line in memory.
  const std::string script = "head -c 100000000 /dev/zero | tr '\\0' x | sort >/dev/null";
  RunSpec spec = Sh(dir, script);
  spec.limits.memory_bytes = 50'000'000;
  auto limited = Run(spec, {}, -1);
  REQUIRE(limited.ok());
  CHECK_FALSE(limited->ok());
  CHECK(limited->exit_code != 0);
  CHECK(limited->stderr_tail.find("memory exhausted") != std::string::npos);

  spec.limits.memory_bytes = 0;
  auto unlimited = Run(spec, {}, -1);
  REQUIRE(unlimited.ok());
  CHECK(unlimited->ok());
}

TEST_CASE("CPU limit stops a busy loop", "[exec]") {
  TempDir dir;
  RunSpec spec = Sh(dir, "while :; do :; done");
  spec.limits.cpu_seconds = 1;
  spec.limits.timeout = 10s;  // only a safety net
  auto r = Run(spec, {}, -1);
  REQUIRE(r.ok());
  CHECK_FALSE(r->timed_out);
  CHECK((r->signal == SIGXCPU || r->signal == SIGKILL));
  CHECK(r->elapsed < 5s);
}

TEST_CASE("the environment is exactly the one given", "[exec]") {
  TempDir dir;
  Output out;
  ::setenv("DSTK_EXEC_TEST_LEAK", "1", 1);
  RunSpec spec = Spec(dir, {"env"});
  spec.env = {"PATH=/usr/bin:/bin", "ONLY=this"};
  auto r = Run(spec, {}, out.fd);
  ::unsetenv("DSTK_EXEC_TEST_LEAK");
  REQUIRE(r.ok());
  CHECK(r->ok());
  CHECK(out.Text() == "PATH=/usr/bin:/bin\nONLY=this\n");
}

TEST_CASE("CleanEnv: HOME and TMPDIR are the scratch dir, which is the cwd", "[exec]") {
  TempDir dir;
  Output out;
  auto r = Run(Sh(dir, "printf '%s|%s|%s|%s' \"$HOME\" \"$TMPDIR\" \"$(pwd -P)\" \"$LANG\""), {},
               out.fd);
  REQUIRE(r.ok());
  CHECK(r->ok());
  const std::string scratch = fs::canonical(dir.path).string() + "/dstk-run.";
  const std::string text = out.Text();
  const size_t bar = text.find('|');
  REQUIRE(bar != std::string::npos);
  const std::string home = text.substr(0, bar);
  CHECK(fs::weakly_canonical(home).string().starts_with(scratch));
  CHECK(text == home + "|" + home + "|" + fs::weakly_canonical(home).string() + "|C.UTF-8");
}

TEST_CASE("the scratch dir is removed afterwards, however the command left it", "[exec]") {
  TempDir dir;
  TempDir outside;
  const std::string keep = outside.path + "/keep";
  std::ofstream(keep) << "x";
  Output out;
  const std::string script =
      "pwd; echo hi > file; mkdir -p a/b/c; touch a/b/c/f; chmod 000 a/b a; "
      "ln -s '" +
      outside.path +
      "' link; "
      "i=0; while [ $i -lt 40 ]; do mkdir d; cd d || exit 1; i=$((i+1)); done; touch deep";
  auto r = Run(Sh(dir, script), {}, out.fd);
  REQUIRE(r.ok());
  CHECK(r->ok());
  CHECK(r->cleanup_error.empty());
  std::string scratch = out.Text();
  REQUIRE(!scratch.empty());
  scratch.pop_back();  // newline
  CHECK(scratch.starts_with(fs::canonical(dir.path).string() + "/dstk-run."));
  CHECK_FALSE(fs::exists(scratch));
  CHECK(dir.Empty());
  CHECK(fs::exists(keep));  // the symlink was removed, not followed
}

TEST_CASE("a command that is not found is reported as such", "[exec]") {
  TempDir dir;
  bool fed = false;
  auto r = Run(
      Spec(dir, {"dstk-no-such-command"}),
      [&](int) {
        fed = true;
        return Status::Ok();
      },
      -1);
  REQUIRE(r.ok());
  CHECK_FALSE(r->ok());
  CHECK(r->exit_code == 127);
  CHECK(r->start_error == "command not found: dstk-no-such-command");
  CHECK(r->Describe() == "command not found: dstk-no-such-command");
  CHECK_FALSE(fed);
  CHECK(dir.Empty());

  // A path that does not exist fails at exec, reported the same way.
  auto abs = Run(Spec(dir, {"/nonexistent/dstk-cmd"}), {}, -1);
  REQUIRE(abs.ok());
  CHECK(abs->exit_code == 127);
  CHECK(abs->start_error == "command not found: /nonexistent/dstk-cmd");
}

TEST_CASE("a file that cannot be executed is reported", "[exec]") {
  TempDir dir;
  TempDir bin;
  const std::string plain = bin.path + "/plain";
  std::ofstream(plain) << "echo hi\n";
  ::chmod(plain.c_str(), 0644);
  RunSpec spec = Spec(dir, {"plain"});
  spec.env = {"PATH=" + bin.path};
  auto denied = Run(spec, {}, -1);
  REQUIRE(denied.ok());
  CHECK(denied->exit_code == 126);
  CHECK(denied->start_error == "permission denied: plain");

  const std::string garbage = bin.path + "/garbage";
  std::ofstream(garbage) << std::string(
      "\x7f"
      "ELF\x01\x02junk",
      10);
  ::chmod(garbage.c_str(), 0755);
  auto bad = Run(Spec(dir, {garbage}), {}, -1);
  REQUIRE(bad.ok());
  CHECK(bad->exit_code == 126);
  CHECK(bad->start_error.starts_with("cannot execute " + garbage + ": "));
  CHECK(dir.Empty());
}

TEST_CASE("stderr keeps its last 64 KiB", "[exec]") {
  TempDir dir;
  auto r = Run(Sh(dir, "head -c 200000 /dev/zero | tr '\\0' a >&2; printf END >&2"), {}, -1);
  REQUIRE(r.ok());
  CHECK(r->ok());
  CHECK(r->stderr_bytes == 200003);
  REQUIRE(r->stderr_tail.size() == kStderrTailBytes);
  CHECK(r->stderr_tail == std::string(kStderrTailBytes - 3, 'a') + "END");
}

TEST_CASE("a command that never reads its stdin neither hangs nor kills us", "[exec]") {
  TempDir dir;
  const std::string ten_mb(10 * 1024 * 1024, 'z');
  for (const char* script : {"exit 0", "sleep 0.2", "exec 0<&-; sleep 0.2"}) {
    INFO(script);
    Status fed;
    bool returned = false;
    auto feeder = [&](int fd) {
      fed = dstk::WriteAll(fd, {reinterpret_cast<const uint8_t*>(ten_mb.data()), ten_mb.size()});
      returned = true;
      return fed;
    };
    auto r = Run(Sh(dir, script), feeder, -1);
    REQUIRE(r.ok());
    CHECK(r->ok());
    CHECK(returned);
    CHECK_FALSE(fed.ok());  // EPIPE: the command stopped reading
    CHECK(r->elapsed < 3s);
  }
}

TEST_CASE("a feeder that fails voids the run", "[exec]") {
  TempDir dir;
  Output out;
  auto feeder = [](int fd) {
    (void)dstk::WriteAll(fd, {reinterpret_cast<const uint8_t*>("abc"), 3});
    return Status::IoError("input object lost");
  };
  auto r = Run(Spec(dir, {"cat"}), feeder, out.fd);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().message().find("input object lost") != std::string::npos);
  CHECK(dir.Empty());
}

TEST_CASE("cancel stops the run", "[exec]") {
  TempDir dir;
  // Cancelled at the third poll, not after a time: counting polls by the clock failed on a
  // loaded machine, where fewer polls fit in a fixed time.
  int polls = 0;
  auto cancel = [&] { return ++polls >= 3; };
  auto r = Run(Spec(dir, {"sleep", "30"}), {}, -1, cancel);
  REQUIRE(r.ok());
  CHECK(r->cancelled);
  CHECK_FALSE(r->timed_out);
  CHECK_FALSE(r->ok());
  CHECK(r->signal == SIGTERM);
  CHECK(r->elapsed < 2s);
  CHECK(polls == 3);  // polled again and again while the command ran, and no more once cancelled
  CHECK(r->Describe() == "cancelled (killed by SIGTERM)");
}

TEST_CASE("max_output_bytes keeps exactly that much and stops the run", "[exec]") {
  TempDir dir;
  Output out;
  RunSpec spec = Spec(dir, {"yes"});
  spec.limits.max_output_bytes = 100000;
  auto r = Run(spec, {}, out.fd);
  REQUIRE(r.ok());
  CHECK(r->output_too_large);
  CHECK_FALSE(r->ok());
  CHECK(r->stdout_bytes == 100000);
  const std::string text = out.Text();
  CHECK(text.size() == 100000);
  CHECK(text.substr(0, 4) == "y\ny\n");
  CHECK(r->elapsed < 3s);

  // Under the limit nothing happens.
  Output small;
  spec = Sh(dir, "echo hello");
  spec.limits.max_output_bytes = 6;
  auto fits = Run(spec, {}, small.fd);
  REQUIRE(fits.ok());
  CHECK(fits->ok());
  CHECK(small.Text() == "hello\n");
}

TEST_CASE("stdout to a closed pipe is an error of the runner, not a crash", "[exec]") {
  TempDir dir;
  int fds[2];
  REQUIRE(::pipe2(fds, O_CLOEXEC) == 0);
  ::close(fds[0]);
  auto r = Run(Spec(dir, {"yes"}), {}, fds[1]);
  ::close(fds[1]);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == Code::kIoError);
  CHECK(r.status().message().find("Broken pipe") != std::string::npos);
  CHECK(dir.Empty());
}

TEST_CASE("the command sees only fds 0, 1, 2 and we leak none", "[exec]") {
  TempDir dir;
  Output out;
  const size_t before = OpenFds();
  auto r = Run(Sh(dir, "ls /proc/$$/fd"), Feed("x"), out.fd);
  REQUIRE(r.ok());
  CHECK(r->ok());
  CHECK(out.Text() == "0\n1\n2\n");
  CHECK(OpenFds() == before);
}

TEST_CASE("concurrent runs do not hold each other's pipes open", "[exec]") {
  TempDir dir;
  std::atomic<bool> a_done{false};
  dstk::Result<RunResult> b = Status::IoError("not run");
  std::thread other([&] {
    b = Run(Spec(dir, {"sleep", "30"}), {}, -1, [&] { return a_done.load(); });
  });
  std::this_thread::sleep_for(50ms);  // let the other child start first
  Output out;
  // If the other child had inherited this run's stdin write end, cat would wait for it.
  auto a = Run(Spec(dir, {"cat"}), Feed("ping\n"), out.fd);
  a_done = true;
  other.join();
  REQUIRE(a.ok());
  CHECK(a->ok());
  CHECK(a->elapsed < 1s);
  CHECK(out.Text() == "ping\n");
  REQUIRE(b.ok());
  CHECK(b->cancelled);
}

TEST_CASE("a bad spec is refused before anything runs", "[exec]") {
  TempDir dir;
  auto empty = Run(Spec(dir, {}), {}, -1);
  REQUIRE_FALSE(empty.ok());
  CHECK(empty.status().code() == Code::kInvalidArgument);

  RunSpec spec = Spec(dir, {"true"});
  spec.env.push_back("NOEQUALS");
  auto bad_env = Run(spec, {}, -1);
  REQUIRE_FALSE(bad_env.ok());
  CHECK(bad_env.status().code() == Code::kInvalidArgument);
  CHECK(dir.Empty());

  spec = Spec(dir, {"true"});
  spec.scratch_parent = dir.path + "/missing";
  auto no_parent = Run(spec, {}, -1);
  REQUIRE_FALSE(no_parent.ok());
  CHECK(no_parent.status().code() == Code::kIoError);
}
