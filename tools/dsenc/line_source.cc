#include "line_source.h"

#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace dstk::tools::dsenc {

Result<std::optional<std::string>> LineSource::Next(bool wait) {
  for (;;) {
    if (const size_t nl = buf_.find('\n', pos_); nl != std::string::npos) {
      std::string line = buf_.substr(pos_, nl - pos_);
      pos_ = nl + 1;
      return std::optional<std::string>(std::move(line));
    }
    if (eof_) {
      if (pos_ == buf_.size()) return std::optional<std::string>();
      std::string last = buf_.substr(pos_);
      pos_ = buf_.size();
      return std::optional<std::string>(std::move(last));
    }
    if (!wait) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 0) <= 0) return std::optional<std::string>();
    }
    buf_.erase(0, pos_);
    pos_ = 0;
    char chunk[65536];
    const ssize_t n = ::read(fd_, chunk, sizeof chunk);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::IoError(std::string("read: ") + std::strerror(errno));
    }
    if (n == 0) eof_ = true;
    buf_.append(chunk, static_cast<size_t>(n));
  }
}

}  // namespace dstk::tools::dsenc
