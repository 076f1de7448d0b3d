// net/read_watch.h: waiting for ZeroMQ messages with poll(2) on ZMQ_FD. The danger of ZMQ_FD is
// a missed wake-up (it signals changes, not messages), which shows as a wait that never ends:
// every wait here is bounded, and the messages must all arrive well before the bound.
#include "net/read_watch.h"

#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <string>
#include <thread>
#include <vector>
#include <zmq.hpp>

namespace {

using Clock = std::chrono::steady_clock;
using dstk::net::ReadWatch;
using dstk::net::WaitReadable;

// Receives until `want` messages came or 5 s passed, the way Cluster::Receive and the unit's
// loop do: ask Readable(), receive while it says so, else block on the fd.
std::vector<std::string> ReceiveAll(zmq::socket_t& rx, ReadWatch& watch, size_t want) {
  std::vector<std::string> got;
  const auto deadline = Clock::now() + std::chrono::seconds(5);
  while (got.size() < want && Clock::now() < deadline) {
    if (watch.Readable()) {
      zmq::message_t m;
      if (rx.recv(m, zmq::recv_flags::dontwait)) {
        got.push_back(m.to_string());
        watch.Touch();
      } else {
        watch.Emptied();
      }
      continue;
    }
    std::vector<pollfd> fds = {{watch.fd(), POLLIN, 0}};
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    REQUIRE(WaitReadable(fds, std::max(left, std::chrono::milliseconds(1))).ok());
    if (fds[0].revents != 0) watch.Touch();
  }
  return got;
}

// Two PAIR sockets joined over inproc: `tx` sends, `rx` is watched.
struct Pair {
  explicit Pair(const std::string& endpoint) {
    rx.bind(endpoint);
    tx.connect(endpoint);
  }
  zmq::context_t ctx{1};
  zmq::socket_t rx{ctx, zmq::socket_type::pair};
  zmq::socket_t tx{ctx, zmq::socket_type::pair};
};

}  // namespace

TEST_CASE("read watch: messages sent while the receiver blocks on its fd all arrive", "[net]") {
  Pair p("inproc://read-watch");
  zmq::socket_t& rx = p.rx;
  zmq::socket_t& tx = p.tx;
  ReadWatch watch(rx.handle());
  REQUIRE(watch.fd() >= 0);
  CHECK_FALSE(watch.Readable());  // nothing sent yet

  // The sender starts after the receiver is blocked, then sends in two bursts.
  std::thread sender([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    tx.send(zmq::str_buffer("one"), zmq::send_flags::none);
    tx.send(zmq::str_buffer("two"), zmq::send_flags::none);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    tx.send(zmq::str_buffer("three"), zmq::send_flags::none);
  });
  const auto t0 = Clock::now();
  const auto got = ReceiveAll(rx, watch, 3);
  sender.join();
  CHECK(got == std::vector<std::string>{"one", "two", "three"});
  CHECK(Clock::now() - t0 < std::chrono::seconds(2));  // woken, not timed out
  CHECK_FALSE(watch.Readable());
}

TEST_CASE("read watch: after the socket is used, Readable asks again", "[net]") {
  Pair p("inproc://read-watch-used");
  zmq::socket_t& rx = p.rx;
  zmq::socket_t& tx = p.tx;
  ReadWatch watch(rx.handle());
  CHECK_FALSE(watch.Readable());
  tx.send(zmq::str_buffer("late"), zmq::send_flags::none);
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  // A send on the receiving socket may take the command that says a message came, and then
  // the fd never signals it: the caller touches the watch after every send.
  rx.send(zmq::str_buffer("ping"), zmq::send_flags::none);
  watch.Touch();
  CHECK(watch.Readable());
  zmq::message_t m;
  REQUIRE(rx.recv(m, zmq::recv_flags::dontwait));
  CHECK(m.to_string() == "late");
}

TEST_CASE("read watch: WaitReadable waits out its timeout when nothing is ready", "[net]") {
  int p[2];
  REQUIRE(::pipe(p) == 0);
  std::vector<pollfd> fds = {{p[0], POLLIN, 0}};
  const auto t0 = Clock::now();
  REQUIRE(WaitReadable(fds, std::chrono::milliseconds(30)).ok());
  CHECK(fds[0].revents == 0);
  CHECK(Clock::now() - t0 >= std::chrono::milliseconds(25));
  REQUIRE(::write(p[1], "x", 1) == 1);
  REQUIRE(WaitReadable(fds, std::chrono::milliseconds(-1)).ok());  // no limit: ready at once
  CHECK((fds[0].revents & POLLIN) != 0);
  ::close(p[0]);
  ::close(p[1]);
}
