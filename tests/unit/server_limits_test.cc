// Unit tests of the unit server's limits: requests in flight per client (answered `busy` past
// the limit), the global caps, and round-robin serving between clients, first on the queue
// alone, then on a live ROUTER with a raw DEALER flooding it while a normal client is served;
// and that a request refused as malformed is answered with its id whenever the id is readable.
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>
#include <zmq.hpp>

#include "node/inflight.h"
#include "node/server.h"
#include "node/service.h"
#include "store/slice_store.h"
#include "wire/limits.h"
#include "wire/message.h"

namespace fs = std::filesystem;
using dstk::node::InflightLimits;
using dstk::node::InflightQueue;
using Clock = std::chrono::steady_clock;

TEST_CASE("inflight: a client past its limit is refused, others are not", "[server]") {
  InflightQueue<int> q(InflightLimits{3, 100, 1u << 20});
  for (int i = 0; i < 3; ++i) REQUIRE(q.Admit("flood", std::move(i), 10));
  int fourth = 4;
  REQUIRE_FALSE(q.Admit("flood", std::move(fourth), 10));
  CHECK(fourth == 4);  // a refused item stays with the caller, to be answered busy
  CHECK(q.HeldFor("flood") == 3);
  REQUIRE(q.Admit("calm", 100, 10));
  CHECK(q.size() == 4);
  CHECK(q.bytes() == 40);
  // Serving one frees one place for that client.
  CHECK(q.Next() == 0);
  REQUIRE(q.Admit("flood", 5, 10));
}

TEST_CASE("inflight: clients are served round-robin, each in its own order", "[server]") {
  InflightQueue<std::string> q(InflightLimits{64, 1000, 1u << 20});
  for (int i = 0; i < 5; ++i) {
    std::string item = "a";
    item.append(std::to_string(i));
    REQUIRE(q.Admit("a", std::move(item), 1));
  }
  REQUIRE(q.Admit("b", "b0", 1));
  REQUIRE(q.Admit("b", "b1", 1));
  REQUIRE(q.Admit("c", "c0", 1));
  std::vector<std::string> order;
  while (auto item = q.Next()) order.push_back(*item);
  // A client that arrived behind five of a's requests waits for one of them, not five.
  CHECK(order == std::vector<std::string>{"a0", "b0", "c0", "a1", "b1", "a2", "a3", "a4"});
  CHECK(q.empty());
  CHECK(q.bytes() == 0);
}

TEST_CASE("inflight: the global caps stop reading, but one request always fits", "[server]") {
  InflightQueue<int> by_count(InflightLimits{10, 4, 1u << 30});
  for (int i = 0; i < 4; ++i) {
    REQUIRE(by_count.Room());
    REQUIRE(by_count.Admit(std::string("c").append(std::to_string(i)), std::move(i), 1));
  }
  CHECK_FALSE(by_count.Room());
  by_count.Next();
  CHECK(by_count.Room());

  InflightQueue<int> by_bytes(InflightLimits{10, 100, 1000});
  CHECK(by_bytes.Room());
  REQUIRE(by_bytes.Admit("big", 1, 5000));  // larger than the cap alone: still served
  CHECK_FALSE(by_bytes.Room());
  by_bytes.Next();
  CHECK(by_bytes.Room());
}

namespace {

std::string StatRequest(uint64_t id) {
  dstk::wire::Request r;
  r.op = dstk::wire::Op::kStat;
  r.id = id;
  return dstk::wire::EncodeRequest(r);
}

dstk::wire::Reply DecodeOrFail(const zmq::message_t& m) {
  auto r = dstk::wire::DecodeReply({static_cast<const uint8_t*>(m.data()), m.size()});
  REQUIRE(r.ok());
  return *r;
}

// Reads every frame of one message; the reply header is the first.
bool RecvReply(zmq::socket_t& s, zmq::message_t& header, std::chrono::milliseconds wait) {
  zmq::pollitem_t item{s.handle(), 0, ZMQ_POLLIN, 0};
  if (zmq::poll(&item, 1, wait) == 0) return false;
  if (!s.recv(header, zmq::recv_flags::dontwait)) return false;
  while (header.more()) {
    zmq::message_t rest;
    (void)s.recv(rest);
    if (!rest.more()) break;
  }
  return true;
}

// A unit served on its own thread over an ipc socket in a temp dir: its store and service,
// the pipe that stops it, and the status Serve returned.
class InProcessUnit {
 public:
  explicit InProcessUnit(const std::string& tag)
      : dir_(fs::temp_directory_path() / ("dstk-server-" + tag + "-" + std::to_string(getpid()))) {
    fs::remove_all(dir_);
    auto store = dstk::store::SliceStore::Open((dir_ / "unit").string());
    REQUIRE(store.ok());
    store_ = std::move(store).value();
    service_ = std::make_unique<dstk::node::Service>(*store_, quiet_, "test");
    REQUIRE(pipe(stop_) == 0);
    options_.listen = "ipc://" + (dir_ / "sock").string();
    options_.stop_fd = stop_[0];
  }
  ~InProcessUnit() {
    if (server_.joinable()) (void)Stop();
  }
  dstk::node::Service& service() { return *service_; }
  dstk::node::ServerOptions& options() { return options_; }
  // Serves the service itself, or `handle` in front of it.
  void Start() {
    server_ = std::thread([this] { served_ = dstk::node::Serve(*service_, options_, quiet_); });
  }
  void Start(dstk::node::Handler handle) {
    server_ = std::thread(
        [this, h = std::move(handle)] { served_ = dstk::node::Serve(h, options_, quiet_); });
  }
  // Stops the server, removes the directory; what Serve returned.
  dstk::Status Stop() {
    REQUIRE(write(stop_[1], "x", 1) == 1);
    server_.join();
    close(stop_[0]);
    close(stop_[1]);
    fs::remove_all(dir_);
    return served_;
  }

 private:
  fs::path dir_;
  const dstk::node::LogSink quiet_ = [](dstk::node::LogLevel, const std::string&) {};
  std::unique_ptr<dstk::store::SliceStore> store_;
  std::unique_ptr<dstk::node::Service> service_;
  int stop_[2] = {-1, -1};
  dstk::node::ServerOptions options_;
  dstk::Status served_;
  std::thread server_;
};

}  // namespace

TEST_CASE("server: a flooding client gets busy, a normal client is served in time", "[server]") {
  InProcessUnit unit("limits");
  dstk::node::Service& service = unit.service();
  // Each request costs 40 ms, standing in for the fsyncs of a put on a slow disk: were the
  // flooder's 64 held requests served before the normal client's (one queue, in order), that
  // client would wait 64 x 40 ms = 2.6 s, past the 2 s deadline clients use by default.
  constexpr auto kCost = std::chrono::milliseconds(40);
  constexpr auto kDeadline = std::chrono::milliseconds(2000);
  std::atomic<int> handled = 0;
  const dstk::node::Handler slow = [&](std::span<const uint8_t> h, std::span<const uint8_t> p,
                                       bool has, const dstk::node::Caller& caller) {
    std::this_thread::sleep_for(kCost);
    ++handled;
    return service.Handle(h, p, has, caller);
  };
  const dstk::node::ServerOptions& opts = unit.options();
  unit.options().limits.per_client = 64;
  unit.Start(slow);

  zmq::context_t ctx(1);
  zmq::socket_t flooder(ctx, zmq::socket_type::dealer);
  flooder.set(zmq::sockopt::sndhwm, 0);  // unbounded both ways: nothing is dropped at our end
  flooder.set(zmq::sockopt::rcvhwm, 0);
  flooder.set(zmq::sockopt::linger, 0);
  flooder.connect(opts.listen);
  zmq::socket_t calm(ctx, zmq::socket_type::dealer);
  calm.set(zmq::sockopt::linger, 0);
  calm.connect(opts.listen);

  // The flooder sends 5000 requests and reads no reply until the normal client is done.
  constexpr uint64_t kFlood = 5000;
  std::set<uint64_t> flood_ids;
  for (uint64_t id = 1; id <= kFlood; ++id) {
    flooder.send(zmq::buffer(StatRequest(id)), zmq::send_flags::none);
    flood_ids.insert(id);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // let the flood arrive first

  std::vector<double> waits_ms;
  for (uint64_t id = 1'000'000; id < 1'000'015; ++id) {
    const auto t0 = Clock::now();
    calm.send(zmq::buffer(StatRequest(id)), zmq::send_flags::none);
    zmq::message_t header;
    REQUIRE(RecvReply(calm, header, kDeadline));
    const auto reply = DecodeOrFail(header);
    CHECK(reply.id == id);
    CHECK(reply.ok());
    waits_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
  }

  // Now the flooder reads what it was sent: busy refusals for most, answers for what was held.
  size_t ok = 0, busy = 0, other = 0;
  zmq::message_t header;
  while (RecvReply(flooder, header, std::chrono::milliseconds(4000))) {
    const auto reply = DecodeOrFail(header);
    CHECK(flood_ids.erase(reply.id) == 1);  // every refusal names the request it refuses
    if (reply.ok()) {
      ++ok;
    } else if (reply.status == dstk::wire::ReplyStatus::kBusy) {
      ++busy;
      CHECK(reply.error.find("busy") != std::string::npos);
    } else {
      ++other;
    }
    if (flood_ids.empty()) break;
  }
  // Once its backlog is answered the flooder is an ordinary client again.
  flooder.send(zmq::buffer(StatRequest(kFlood + 1)), zmq::send_flags::none);
  REQUIRE(RecvReply(flooder, header, kDeadline));
  CHECK(DecodeOrFail(header).ok());
  CHECK(unit.Stop().ok());

  std::sort(waits_ms.begin(), waits_ms.end());
  std::printf(
      "server limits: normal client waited median %.0f ms, max %.0f ms (cost %d ms a "
      "request); flooder: %zu ok, %zu busy, %zu unanswered of %llu; %d requests handled\n",
      waits_ms[waits_ms.size() / 2], waits_ms.back(), static_cast<int>(kCost.count()), ok, busy,
      flood_ids.size(), static_cast<unsigned long long>(kFlood), handled.load());
  // A reply to a client that does not read can be dropped by ZeroMQ (ROUTER drops what does
  // not fit the peer's queue), so not every refusal need arrive; every answer served must.
  CHECK(other == 0);
  CHECK(busy > 0);
  // The unit held at most 64 of them at a time; it served those and a few that came in as
  // places freed, but far fewer than it refused.
  CHECK(ok >= 64);
  CHECK(busy > ok);
  CHECK(waits_ms.back() < 1000.0);
}

TEST_CASE("server: a failed flush answers the group with an error and stops the unit", "[server]") {
  const fs::path dir =
      fs::temp_directory_path() / ("dstk-server-flush-" + std::to_string(getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const dstk::node::LogSink quiet = [](dstk::node::LogLevel, const std::string&) {};
  // Every reply waits for the group's flush, and the flush fails as a dying disk's would.
  const dstk::node::Handler held = [](std::span<const uint8_t> h, std::span<const uint8_t>, bool,
                                      const dstk::node::Caller&) {
    dstk::node::Outgoing out;
    out.id = dstk::wire::DecodeRequest(h).value().id;
    dstk::wire::Reply ok;
    ok.id = out.id;
    out.header = dstk::wire::EncodeReply(ok);
    out.after_sync = true;
    return out;
  };
  std::atomic<int> syncs = 0;
  const dstk::node::Syncer failing = [&] {
    ++syncs;
    return dstk::Status::IoError("fdatasync x: Input/output error (a failed flush)");
  };
  int stop[2];
  REQUIRE(pipe(stop) == 0);
  dstk::node::ServerOptions opts;
  opts.listen = "ipc://" + (dir / "sock").string();
  opts.stop_fd = stop[0];
  dstk::Status served;
  std::thread server([&] { served = dstk::node::Serve(held, opts, quiet, failing); });

  zmq::context_t ctx(1);
  zmq::socket_t client(ctx, zmq::socket_type::dealer);
  client.set(zmq::sockopt::linger, 0);
  client.connect(opts.listen);
  client.send(zmq::buffer(StatRequest(7)), zmq::send_flags::none);
  zmq::message_t header;
  REQUIRE(RecvReply(client, header, std::chrono::milliseconds(5000)));
  const auto reply = DecodeOrFail(header);
  CHECK(reply.id == 7);
  CHECK_FALSE(reply.ok());  // never "ok" for a write whose flush failed
  CHECK(reply.error.find("failed flush") != std::string::npos);
  server.join();  // stopped by itself: no stop_fd written
  CHECK(served.code() == dstk::Code::kIoError);
  CHECK(syncs == 1);
  // A second request finds nobody serving.
  client.send(zmq::buffer(StatRequest(8)), zmq::send_flags::none);
  CHECK_FALSE(RecvReply(client, header, std::chrono::milliseconds(300)));
  ::close(stop[0]);
  ::close(stop[1]);
  fs::remove_all(dir);
}

// A log that buffers its lines (dsnode's) is written out by flush_log after the group's flush
// and before the replies: what a reply's request logged is out before the client hears back.
TEST_CASE("server: buffered log lines are flushed before the group's replies go out", "[server]") {
  const fs::path dir = fs::temp_directory_path() / ("dstk-server-log-" + std::to_string(getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const dstk::node::LogSink quiet = [](dstk::node::LogLevel, const std::string&) {};
  std::mutex mu;
  std::vector<std::string> pending, written;  // the buffer, and what reached the "file"
  std::vector<std::string> order;             // sync, flush: in the order the server ran them
  const dstk::node::Handler logging = [&](std::span<const uint8_t> h, std::span<const uint8_t>,
                                          bool, const dstk::node::Caller&) {
    dstk::node::Outgoing out;
    out.id = dstk::wire::DecodeRequest(h).value().id;
    {
      std::lock_guard lock(mu);
      pending.push_back("handled " + std::to_string(out.id));
    }
    dstk::wire::Reply ok;
    ok.id = out.id;
    out.header = dstk::wire::EncodeReply(ok);
    out.after_sync = true;
    return out;
  };
  const dstk::node::Syncer sync = [&] {
    std::lock_guard lock(mu);
    order.push_back("sync");
    return dstk::Status::Ok();
  };
  int stop[2];
  REQUIRE(pipe(stop) == 0);
  dstk::node::ServerOptions opts;
  opts.listen = "ipc://" + (dir / "sock").string();
  opts.stop_fd = stop[0];
  opts.flush_log = [&] {
    {
      std::lock_guard lock(mu);
      if (pending.empty()) return;
    }
    // A slow write: a reply sent before it (or without waiting for it) reaches the client
    // while the lines are still on their way.
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    std::lock_guard lock(mu);
    order.push_back("flush");
    written.insert(written.end(), pending.begin(), pending.end());
    pending.clear();
  };
  dstk::Status served;
  std::thread server([&] { served = dstk::node::Serve(logging, opts, quiet, sync); });

  zmq::context_t ctx(1);
  zmq::socket_t client(ctx, zmq::socket_type::dealer);
  client.set(zmq::sockopt::linger, 0);
  client.connect(opts.listen);
  for (uint64_t id : {11u, 12u}) {
    client.send(zmq::buffer(StatRequest(id)), zmq::send_flags::none);
    zmq::message_t header;
    REQUIRE(RecvReply(client, header, std::chrono::milliseconds(5000)));
    CHECK(DecodeOrFail(header).id == id);
    std::lock_guard lock(mu);
    CHECK(std::find(written.begin(), written.end(), "handled " + std::to_string(id)) !=
          written.end());
  }
  REQUIRE(write(stop[1], "x", 1) == 1);
  server.join();
  CHECK(served.ok());
  std::lock_guard lock(mu);
  REQUIRE(order.size() >= 2);
  CHECK(order[0] == "sync");  // the lines go out after the flush that makes their work durable
  CHECK(order[1] == "flush");
  ::close(stop[0]);
  ::close(stop[1]);
  fs::remove_all(dir);
}

TEST_CASE("server: a request refused as malformed is answered with its id", "[server]") {
  InProcessUnit unit("bad-request");
  const dstk::node::ServerOptions& opts = unit.options();
  unit.Start();

  zmq::context_t ctx(1);
  zmq::socket_t client(ctx, zmq::socket_type::dealer);
  client.set(zmq::sockopt::linger, 0);
  client.connect(opts.listen);
  // A stat request whose header frame is past the 64 KiB limit: an unknown field pads it.
  const auto padded = [](uint64_t id, size_t pad) {
    const std::string stat = StatRequest(id);
    REQUIRE(static_cast<uint8_t>(stat[0]) == 0x83);  // fixmap of v, op, id
    std::string bytes = stat;
    bytes[0] = static_cast<char>(0x84);
    bytes += "\xa3pad";
    bytes += '\xc6';  // bin32
    for (int shift = 24; shift >= 0; shift -= 8) bytes += static_cast<char>(pad >> shift & 0xff);
    bytes.append(pad, 'x');
    return bytes;
  };
  std::string trailing = StatRequest(74);
  trailing += '\xc1';  // a never-used byte after the map
  std::string cut = StatRequest(75);
  cut[0] = static_cast<char>(0x84);  // claims a fourth entry that never comes
  const std::vector<std::pair<uint64_t, std::string>> cases = {
      {71, padded(71, 1000)},                             // accepted: the padding is ignored
      {72, padded(72, dstk::wire::kMaxHeaderFrame)},      // too large
      {73, padded(73, 2 * dstk::wire::kMaxHeaderFrame)},  // far too large
      {74, trailing},
      {75, cut},
  };
  for (const auto& [id, bytes] : cases) {
    INFO("request id " << id << ", " << bytes.size() << " header bytes");
    client.send(zmq::buffer(bytes), zmq::send_flags::none);
    zmq::message_t header;
    REQUIRE(RecvReply(client, header, std::chrono::milliseconds(5000)));
    const auto reply = DecodeOrFail(header);
    CHECK(reply.id == id);
    CHECK(reply.status ==
          (id == 71 ? dstk::wire::ReplyStatus::kOk : dstk::wire::ReplyStatus::kBadRequest));
  }
  // A request of three frames (a header and two payloads): refused, with its id.
  {
    const std::string header = StatRequest(76);
    client.send(zmq::buffer(header), zmq::send_flags::sndmore);
    client.send(zmq::str_buffer("one"), zmq::send_flags::sndmore);
    client.send(zmq::str_buffer("two"), zmq::send_flags::none);
    zmq::message_t reply_frame;
    REQUIRE(RecvReply(client, reply_frame, std::chrono::milliseconds(5000)));
    const auto reply = DecodeOrFail(reply_frame);
    CHECK(reply.id == 76);
    CHECK(reply.status == dstk::wire::ReplyStatus::kBadRequest);
  }

  CHECK(unit.Stop().ok());
}
