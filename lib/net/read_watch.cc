#include "net/read_watch.h"

#include <zmq.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdint>
#include <cstring>
#include <string>

namespace dstk::net {

ReadWatch::ReadWatch(void* socket) : socket_(socket) {
  int fd = -1;
  size_t len = sizeof fd;
  if (zmq_getsockopt(socket_, ZMQ_FD, &fd, &len) == 0) fd_ = fd;
}

bool ReadWatch::Readable() {
  if (state_ == State::kUnknown) {
    int events = 0;
    size_t len = sizeof events;
    if (zmq_getsockopt(socket_, ZMQ_EVENTS, &events, &len) != 0) return true;
    state_ = (events & ZMQ_POLLIN) != 0 ? State::kReadable : State::kEmpty;
  }
  return state_ == State::kReadable;
}

Status WaitReadable(std::span<pollfd> fds, std::chrono::milliseconds timeout) {
  for (auto& p : fds) {
    p.events = POLLIN;
    p.revents = 0;
  }
  const int ms =
      timeout.count() < 0 ? -1 : static_cast<int>(std::min<int64_t>(timeout.count(), INT_MAX));
  if (::poll(fds.data(), fds.size(), ms) < 0 && errno != EINTR) {
    return Status::IoError(std::string("poll: ") + std::strerror(errno));
  }
  return Status::Ok();
}

}  // namespace dstk::net
