// notify_listen SOCKET PORT SECONDS: plays systemd's side of sd_notify(3) for the readiness
// test. Binds an AF_UNIX datagram socket at SOCKET ('@name' = abstract), prints "bound", then
// prints every line of every datagram it receives. Right after a datagram holding READY=1 it
// connects to 127.0.0.1:PORT and prints "listening=yes" or "listening=no", so the test can
// tell whether the unit really was listening when it said it was ready. Exits 0 after
// STOPPING=1, 1 after SECONDS without it, 2 on a usage or socket error.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <sstream>
#include <string>

namespace {

bool PortAccepts(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool ok = connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  close(fd);
  return ok;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: notify_listen SOCKET PORT SECONDS\n");
    return 2;
  }
  const std::string path = argv[1];
  const int port = std::atoi(argv[2]);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(std::atoi(argv[3]));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof(addr.sun_path)) {
    std::fprintf(stderr, "notify_listen: bad socket name\n");
    return 2;
  }
  std::memcpy(addr.sun_path, path.data(), path.size());
  if (path[0] == '@') addr.sun_path[0] = '\0';
  const int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&addr),
                     static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size())) != 0) {
    std::perror("notify_listen: bind");
    return 2;
  }
  std::printf("bound\n");
  std::fflush(stdout);
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      std::printf("timeout\n");
      return 1;
    }
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
    char buf[4096];
    const ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n < 0) continue;
    const std::string msg(buf, static_cast<size_t>(n));
    bool ready = false, stopping = false;
    std::istringstream lines(msg);
    for (std::string line; std::getline(lines, line);) {
      ready = ready || line == "READY=1";
      stopping = stopping || line == "STOPPING=1";
    }
    // Check first, print after: printing must not delay the probe.
    const bool listening = ready && PortAccepts(port);
    std::printf("%s\n", msg.c_str());
    if (ready) std::printf("listening=%s\n", listening ? "yes" : "no");
    std::fflush(stdout);
    if (stopping) return 0;
  }
}
