#include "handoff.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

#include <algorithm>
#include <thread>

#include "claim/lease.h"
#include "util/fd_io.h"

namespace dstk::tools {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// The longest wait between two looks at the pipe: a fallback for when poll() cannot tell that
// the reader took something (a pipe larger than one page).
constexpr milliseconds kLookEvery{50};

milliseconds RenewPeriod(const claim::Claim& c) {
  return milliseconds(std::max<uint32_t>(c.lease_ms / 3, 50));
}

}  // namespace

Handoff::Handoff(int fd, net::Cluster& cluster, Encoder encode, Notice notice)
    : fd_(fd), cluster_(cluster), encode_(std::move(encode)), notice_(std::move(notice)) {
  struct stat st {};
  paced_ = ::fstat(fd, &st) == 0 && S_ISFIFO(st.st_mode);
  // One page: poll() then reports the pipe writable only once the reader has emptied it, so
  // dsclaim wakes as soon as its claim was taken. Shrinking a pipe needs no privilege.
  if (paced_) (void)::fcntl(fd, F_SETPIPE_SZ, 4096);
}

Result<uint64_t> Handoff::Unread() {
  int unread = 0;
  if (::ioctl(fd_, FIONREAD, &unread) != 0) return Status::IoError("cannot query stdout's pipe");
  const uint64_t taken = written_ - static_cast<uint64_t>(unread);
  std::erase_if(held_, [taken](const Held& h) { return h.end != 0 && h.end <= taken; });
  return static_cast<uint64_t>(unread);
}

milliseconds Handoff::RenewDue() {
  milliseconds next = kLookEvery;
  const auto now = Clock::now();
  for (auto it = held_.begin(); it != held_.end();) {
    if (it->claim.mode != wire::ClaimMode::kLease) {
      ++it;
      continue;
    }
    const milliseconds period = RenewPeriod(it->claim);
    if (now - it->renewed >= period) {
      if (Status st = claim::Renew(cluster_, it->claim); !st.ok()) {
        // Lost while waiting for the reader: another walker may own it now. One not handed on
        // yet is never handed on; one in the pipe is left to the reader, whose renewal at the
        // start fails, so it does not run it.
        notice_("lease of " + it->claim.key +
                " lost while waiting for the reader: " + st.message());
        it = held_.erase(it);
        continue;
      }
      it->renewed = Clock::now();
    }
    next = std::min(next, std::chrono::duration_cast<milliseconds>(it->renewed + period - now));
    ++it;
  }
  return std::max(next, milliseconds(1));
}

Status Handoff::WaitUntilTaken() {
  if (!paced_) {
    held_.clear();
    return Status::Ok();
  }
  bool writable_yet_unread = false;
  for (;;) {
    auto unread = Unread();
    if (!unread.ok()) return Fail(unread.status());
    if (*unread == 0) {
      // Taken; but a reader that took its last claim and left (`| head -1`) should not cost
      // the next function: look before a claim is made for nobody. (A reader that leaves just
      // after this look still does, in consume mode: dsclaim(1), BUGS.)
      pollfd p{fd_, POLLOUT, 0};
      if (::poll(&p, 1, 0) > 0 && (p.revents & (POLLERR | POLLHUP)) != 0)
        return Fail(Status::IoError("the reader of stdout went away"));
      return Status::Ok();
    }
    // poll() said writable but the reader has not emptied the pipe: do not spin on it.
    if (writable_yet_unread) std::this_thread::sleep_for(milliseconds(1));
    const milliseconds wait = RenewDue();
    pollfd p{fd_, POLLOUT, 0};
    const int n = ::poll(&p, 1, static_cast<int>(wait.count()));
    if (n > 0 && (p.revents & (POLLERR | POLLHUP)) != 0)
      return Fail(Status::IoError("the reader of stdout went away"));
    writable_yet_unread = n > 0;
  }
}

Status Handoff::Write(Held& h) {
  const std::string rec = encode_(h.claim);
  Status st = WriteAll(fd_, {reinterpret_cast<const uint8_t*>(rec.data()), rec.size()});
  if (!st.ok()) return Fail(st.With("claim " + h.claim.key + " could not be handed on"));
  written_ += rec.size();
  h.end = written_;
  return Status::Ok();
}

Status Handoff::HandOn(std::vector<claim::Claim> claims) {
  for (auto& c : claims) held_.push_back(Held{std::move(c), 0, Clock::now()});
  if (!paced_) {
    for (Held& h : held_) DSTK_RETURN_IF_ERROR(Write(h));
    held_.clear();
    return Status::Ok();
  }
  for (;;) {
    DSTK_RETURN_IF_ERROR(WaitUntilTaken());
    auto next = std::find_if(held_.begin(), held_.end(), [](const Held& h) { return h.end == 0; });
    if (next == held_.end()) break;
    DSTK_RETURN_IF_ERROR(Write(*next));
  }
  return Status::Ok();
}

Status Handoff::Fail(Status why) {
  for (const Held& h : held_)
    if (h.claim.mode == wire::ClaimMode::kLease) claim::Release(cluster_, h.claim);
  held_.clear();
  return why;
}

}  // namespace dstk::tools
