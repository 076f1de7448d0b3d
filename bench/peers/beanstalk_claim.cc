// beanstalkd as the work queue, over its text protocol on 127.0.0.1 (one TCP connection per
// worker thread): put N small jobs, then WORKERS threads each loop reserve-with-timeout 0 +
// delete until the queue is empty.
//   beanstalk_claim PORT N WORKERS     prints put and claim rates
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

namespace {

class Conn {
 public:
  explicit Conn(int port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
      std::perror("connect beanstalkd");
      std::exit(6);
    }
    int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  ~Conn() { ::close(fd_); }
  void Send(const std::string& s) {
    size_t off = 0;
    while (off < s.size()) {
      ssize_t w = ::write(fd_, s.data() + off, s.size() - off);
      if (w <= 0) {
        std::perror("write");
        std::exit(6);
      }
      off += static_cast<size_t>(w);
    }
  }
  // One "\r\n"-terminated line.
  std::string Line() {
    for (;;) {
      auto p = buf_.find("\r\n");
      if (p != std::string::npos) {
        std::string l = buf_.substr(0, p);
        buf_.erase(0, p + 2);
        return l;
      }
      Fill();
    }
  }
  void Skip(size_t n) {  // body bytes plus "\r\n"
    while (buf_.size() < n) Fill();
    buf_.erase(0, n);
  }

 private:
  void Fill() {
    char b[65536];
    ssize_t r = ::read(fd_, b, sizeof b);
    if (r <= 0) {
      std::fprintf(stderr, "beanstalkd closed the connection\n");
      std::exit(6);
    }
    buf_.append(b, static_cast<size_t>(r));
  }
  int fd_;
  std::string buf_;
};

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: beanstalk_claim PORT N WORKERS\n");
    return 2;
  }
  const int port = std::atoi(argv[1]);
  const long n = std::atol(argv[2]);
  const int workers = std::atoi(argv[3]);
  const std::string body = "{\"argv\":[\"true\"]}";
  using Clock = std::chrono::steady_clock;
  const auto p0 = Clock::now();
  {
    Conn c(port);
    for (long i = 0; i < n; ++i) {
      c.Send("put 0 0 60 " + std::to_string(body.size()) + "\r\n" + body + "\r\n");
      const std::string l = c.Line();
      if (l.rfind("INSERTED", 0) != 0) {
        std::fprintf(stderr, "put: %s\n", l.c_str());
        return 6;
      }
    }
  }
  const double put_secs = std::chrono::duration<double>(Clock::now() - p0).count();
  std::atomic<long> claimed{0};
  const auto t0 = Clock::now();
  std::vector<std::thread> ts;
  for (int w = 0; w < workers; ++w) {
    ts.emplace_back([&] {
      Conn c(port);
      for (;;) {
        c.Send("reserve-with-timeout 0\r\n");
        const std::string l = c.Line();
        if (l == "TIMED_OUT") return;
        unsigned long long id = 0;
        size_t bytes = 0;
        if (std::sscanf(l.c_str(), "RESERVED %llu %zu", &id, &bytes) != 2) {
          std::fprintf(stderr, "reserve: %s\n", l.c_str());
          std::exit(6);
        }
        c.Skip(bytes + 2);
        c.Send("delete " + std::to_string(id) + "\r\n");
        if (c.Line() != "DELETED") {
          std::fprintf(stderr, "delete failed\n");
          std::exit(6);
        }
        ++claimed;
      }
    });
  }
  for (auto& t : ts) t.join();
  const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  std::printf("claims=%ld seconds=%.6f put_seconds=%.6f\n", claimed.load(), secs, put_secs);
  return claimed.load() == n ? 0 : 4;
}
