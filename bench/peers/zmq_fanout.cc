// The fan-out ceiling: what one claim round trip to every unit costs with nothing behind it.
//   zmq_fanout serve PORT                    a ROUTER echo server on 127.0.0.1:PORT
//   zmq_fanout client PORTS CLIENTS SECONDS  CLIENTS threads, each with a DEALER per server,
//                                            send one small request to each, wait for all
//                                            replies, repeat; prints rounds and seconds
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>
#include <zmq.hpp>

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: zmq_fanout serve PORT | client PORTS CLIENTS SECONDS\n");
    return 2;
  }
  const std::string mode = argv[1];
  zmq::context_t ctx(1);
  if (mode == "serve") {
    zmq::socket_t s(ctx, zmq::socket_type::router);
    s.bind(std::string("tcp://127.0.0.1:") + argv[2]);
    std::fprintf(stderr, "listening on %s\n", argv[2]);
    for (;;) {
      std::vector<zmq::message_t> parts;
      zmq::message_t m;
      do {
        if (!s.recv(m)) continue;
        const bool more = m.more();
        parts.push_back(std::move(m));
        if (!more) break;
      } while (true);
      for (size_t i = 0; i < parts.size(); ++i)
        s.send(parts[i], i + 1 < parts.size() ? zmq::send_flags::sndmore : zmq::send_flags::none);
    }
  }
  std::vector<std::string> eps;
  for (const char* c = argv[2]; *c;) {
    eps.push_back(std::string("tcp://127.0.0.1:") + std::to_string(std::atoi(c)));
    while (*c && *c != ',') ++c;
    if (*c == ',') ++c;
  }
  const int clients = std::atoi(argv[3]);
  const double seconds = std::atof(argv[4]);
  std::atomic<long> rounds{0};
  const auto t0 = std::chrono::steady_clock::now();
  const auto end = t0 + std::chrono::duration<double>(seconds);
  std::vector<std::thread> ts;
  for (int c = 0; c < clients; ++c) {
    ts.emplace_back([&] {
      std::vector<zmq::socket_t> socks;
      std::vector<zmq::pollitem_t> items;
      for (const auto& ep : eps) {
        socks.emplace_back(ctx, zmq::socket_type::dealer);
        socks.back().set(zmq::sockopt::linger, 0);
        socks.back().connect(ep);
      }
      for (auto& s : socks) items.push_back({s.handle(), 0, ZMQ_POLLIN, 0});
      const std::string req(64, 'r');  // about a lock_read_delete request's size
      while (std::chrono::steady_clock::now() < end) {
        for (auto& s : socks) s.send(zmq::buffer(req), zmq::send_flags::none);
        size_t got = 0;
        std::vector<char> have(socks.size(), 0);
        while (got < socks.size()) {
          zmq::poll(items.data(), items.size(), std::chrono::milliseconds(1000));
          for (size_t i = 0; i < socks.size(); ++i) {
            if (!have[i] && (items[i].revents & ZMQ_POLLIN)) {
              zmq::message_t m;
              if (socks[i].recv(m, zmq::recv_flags::dontwait)) have[i] = 1, ++got;
            }
          }
        }
        ++rounds;
      }
    });
  }
  for (auto& t : ts) t.join();
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("rounds=%ld seconds=%.6f\n", rounds.load(), secs);
  return 0;
}
