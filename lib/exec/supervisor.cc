#include "exec/supervisor.h"

#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "util/fd_io.h"

namespace dstk::exec {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// How often `cancel` is asked, and how often the leader is checked without a pidfd.
constexpr milliseconds kTick{50};
// The least time given to drain the pipes after the leader exited.
constexpr milliseconds kMinDrain{200};
constexpr size_t kChunk = size_t{64} * 1024;

Status Errno(const char* what) {
  return Status::IoError(std::string(what) + ": " + std::strerror(errno));
}

class Supervisor {
 public:
  Supervisor(ChildProcess& child, ChildPipes pipes, StdinRelay* relay, const Limits& limits,
             int stdout_fd, const CancelCheck& cancel, RunResult& result)
      : child_(child),
        in_(std::move(pipes.stdin_w)),
        out_(std::move(pipes.stdout_r)),
        err_(std::move(pipes.stderr_r)),
        relay_(relay),
        limits_(limits),
        stdout_fd_(stdout_fd),
        cancel_(cancel),
        result_(result),
        buf_(kChunk) {}

  Status Run() {
    const Clock::time_point start = Clock::now();
    if (limits_.timeout.count() > 0) timeout_at_ = start + limits_.timeout;
    next_cancel_check_ = start;
    for (;;) {
      const Clock::time_point now = Clock::now();
      DSTK_RETURN_IF_ERROR(Advance(now));
      if (exited_ && ((!out_.valid() && !err_.valid()) || now >= drain_until_)) break;
      DSTK_RETURN_IF_ERROR(PollOnce(now));
    }
    if (result_.stderr_tail.size() > kStderrTailBytes) {
      result_.stderr_tail.erase(0, result_.stderr_tail.size() - kStderrTailBytes);
    }
    return Status::Ok();
  }

 private:
  // Notices the leader's exit, and acts on deadlines and on `cancel`.
  Status Advance(Clock::time_point now) {
    if (exited_) return Status::Ok();
    Result<bool> exited = child_.HasExited();
    if (!exited.ok()) return exited.status();
    if (*exited) {
      exited_ = true;
      child_.SignalGroup(SIGKILL);  // whatever it left behind in its group
      drain_until_ = now + std::max(limits_.kill_grace, kMinDrain);
      CloseStdin();
      return Status::Ok();
    }
    if (timeout_at_ && now >= *timeout_at_ && !result_.timed_out) {
      result_.timed_out = true;
      Stop(now);
    }
    if (cancel_ && now >= next_cancel_check_) {
      next_cancel_check_ = now + kTick;
      if (!result_.cancelled && cancel_()) {
        result_.cancelled = true;
        Stop(now);
      }
    }
    if (kill_at_ && now >= *kill_at_) {
      child_.SignalGroup(SIGKILL);
      kill_at_.reset();
    }
    return Status::Ok();
  }

  // SIGTERM now (SIGCONT too, so a stopped process gets it), SIGKILL after the grace.
  void Stop(Clock::time_point now) {
    if (exited_ || stopping_) return;
    stopping_ = true;
    child_.SignalGroup(SIGTERM);
    child_.SignalGroup(SIGCONT);
    kill_at_ = now + limits_.kill_grace;
  }

  void CloseStdin() {
    in_.reset();
    pending_.clear();
    if (relay_ != nullptr) relay_->Abandon();
  }

  int PollTimeoutMs(Clock::time_point now) const {
    std::optional<Clock::time_point> wake;
    auto consider = [&wake](Clock::time_point t) { wake = wake ? std::min(*wake, t) : t; };
    if (exited_) {
      consider(drain_until_);
    } else {
      if (timeout_at_ && !result_.timed_out) consider(*timeout_at_);
      if (kill_at_) consider(*kill_at_);
      if (cancel_) consider(next_cancel_check_);
      if (child_.pidfd() < 0) consider(now + kTick);
    }
    if (!wake) return -1;
    const auto ms = std::chrono::ceil<milliseconds>(*wake - now).count();
    return static_cast<int>(std::clamp<decltype(ms)>(ms, 0, INT_MAX));
  }

  Status PollOnce(Clock::time_point now) {
    pollfd fds[5];
    nfds_t n = 0;
    auto add = [&](int fd, short events) -> pollfd* {
      if (fd < 0) return nullptr;
      fds[n] = pollfd{fd, events, 0};
      return &fds[n++];
    };
    const bool want_relay = relay_ != nullptr && in_.valid() && pending_.empty();
    pollfd* out = add(out_.get(), POLLIN);
    pollfd* err = add(err_.get(), POLLIN);
    pollfd* relay = add(want_relay ? relay_->read_fd() : -1, POLLIN);
    pollfd* in = add(pending_.empty() ? -1 : in_.get(), POLLOUT);
    add(exited_ ? -1 : child_.pidfd(), POLLIN);  // readable on exit: Advance() looks next

    if (::poll(fds, n, PollTimeoutMs(now)) < 0) {
      return errno == EINTR ? Status::Ok() : Errno("poll");
    }
    if (out != nullptr && out->revents != 0) DSTK_RETURN_IF_ERROR(ReadStdout(now));
    if (err != nullptr && err->revents != 0) DSTK_RETURN_IF_ERROR(ReadStderr());
    if (relay != nullptr && relay->revents != 0) DSTK_RETURN_IF_ERROR(ReadRelay());
    if (in != nullptr && in->revents != 0) WriteStdin();
    return Status::Ok();
  }

  // One read of up to kChunk bytes into buf_: the count, 0 at end of file (fd closed), or
  // nothing to do now (-1).
  Result<ssize_t> ReadSome(UniqueFd& fd, const char* what) {
    const ssize_t got = ::read(fd.get(), buf_.data(), buf_.size());
    if (got < 0) {
      if (errno == EAGAIN || errno == EINTR) return ssize_t{-1};
      return Errno(what);
    }
    if (got == 0) fd.reset();
    return got;
  }

  Status ReadStdout(Clock::time_point now) {
    Result<ssize_t> got = ReadSome(out_, "reading the command's stdout");
    if (!got.ok()) return got.status();
    if (*got <= 0) return Status::Ok();
    uint64_t keep = static_cast<uint64_t>(*got);
    if (limits_.max_output_bytes > 0) {
      const uint64_t room = limits_.max_output_bytes - result_.stdout_bytes;
      if (keep > room) {
        keep = room;
        result_.output_too_large = true;
        Stop(now);
      }
    }
    if (keep > 0 && stdout_fd_ >= 0) {
      Status st = WriteAll(stdout_fd_, std::span<const uint8_t>(buf_.data(), keep));
      if (!st.ok()) return st.With("passing on the command's stdout");
    }
    result_.stdout_bytes += keep;
    return Status::Ok();
  }

  Status ReadStderr() {
    Result<ssize_t> got = ReadSome(err_, "reading the command's stderr");
    if (!got.ok()) return got.status();
    if (*got <= 0) return Status::Ok();
    std::string& tail = result_.stderr_tail;
    tail.append(reinterpret_cast<const char*>(buf_.data()), static_cast<size_t>(*got));
    if (tail.size() > 2 * kStderrTailBytes) tail.erase(0, tail.size() - kStderrTailBytes);
    result_.stderr_bytes += static_cast<uint64_t>(*got);
    return Status::Ok();
  }

  // Moves what the feeder wrote into pending_. At end of file the feeder has returned: its
  // error voids the run (the command must not see end of file on a truncated input).
  Status ReadRelay() {
    const ssize_t got = ::read(relay_->read_fd(), buf_.data(), buf_.size());
    if (got < 0) {
      if (errno == EAGAIN || errno == EINTR) return Status::Ok();
      return Errno("reading the stdin relay");
    }
    if (got > 0) {
      pending_.assign(buf_.begin(), buf_.begin() + got);
      pending_off_ = 0;
      return Status::Ok();
    }
    Status fed = relay_->Join();
    if (!fed.ok()) return fed.With("feeding the command's stdin");
    relay_ = nullptr;
    in_.reset();  // pending_ is empty: the relay is read only then
    return Status::Ok();
  }

  // Writes what it can of pending_. A command that stopped reading gets no more: its stdin is
  // closed and the feeder abandoned.
  void WriteStdin() {
    const ssize_t put =
        ::write(in_.get(), pending_.data() + pending_off_, pending_.size() - pending_off_);
    if (put < 0) {
      if (errno == EAGAIN || errno == EINTR) return;
      CloseStdin();  // EPIPE (SIGPIPE is blocked) or worse: either way it reads no more
      return;
    }
    pending_off_ += static_cast<size_t>(put);
    if (pending_off_ == pending_.size()) pending_.clear();
  }

  ChildProcess& child_;
  UniqueFd in_, out_, err_;
  StdinRelay* relay_;
  const Limits& limits_;
  int stdout_fd_;
  const CancelCheck& cancel_;
  RunResult& result_;

  std::vector<uint8_t> buf_;
  std::vector<uint8_t> pending_;  // read from the relay, not yet written to the command
  size_t pending_off_ = 0;
  bool exited_ = false;
  bool stopping_ = false;
  std::optional<Clock::time_point> timeout_at_;
  std::optional<Clock::time_point> kill_at_;
  Clock::time_point next_cancel_check_;
  Clock::time_point drain_until_;
};

}  // namespace

Status Supervise(ChildProcess& child, ChildPipes pipes, StdinRelay* relay, const Limits& limits,
                 int stdout_fd, const CancelCheck& cancel, RunResult& result) {
  return Supervisor(child, std::move(pipes), relay, limits, stdout_fd, cancel, result).Run();
}

}  // namespace dstk::exec
