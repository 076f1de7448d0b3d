#include "sd_notify.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdlib>
#include <cstring>

#include "util/unique_fd.h"

namespace dstk::tools {

std::string NotifySystemd(const std::string& state) {
  const char* path = std::getenv("NOTIFY_SOCKET");
  if (path == nullptr || path[0] == '\0') return "";
  const size_t len = std::strlen(path);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if ((path[0] != '/' && path[0] != '@') || len >= sizeof(addr.sun_path)) {
    return std::string("NOTIFY_SOCKET is not an absolute path or @abstract name: ") + path;
  }
  std::memcpy(addr.sun_path, path, len);
  if (path[0] == '@') addr.sun_path[0] = '\0';  // abstract namespace: no trailing NUL counted
  const auto addr_len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + len);

  const dstk::UniqueFd sock(socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!sock.valid()) return std::string("socket: ") + std::strerror(errno);
  ssize_t sent;
  do {
    sent = sendto(sock.get(), state.data(), state.size(), MSG_NOSIGNAL,
                  reinterpret_cast<sockaddr*>(&addr), addr_len);
  } while (sent < 0 && errno == EINTR);
  const int err = errno;
  if (sent < 0) return std::string("sendto ") + path + ": " + std::strerror(err);
  if (static_cast<size_t>(sent) != state.size()) return std::string("short send to ") + path;
  return "";
}

}  // namespace dstk::tools
