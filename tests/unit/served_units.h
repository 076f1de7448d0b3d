// Units served in the test process, for tests of the layers above the wire (client, claim):
// each unit is a node::Service over its own store in a temp dir, served by node::Serve on a
// thread, reached over an ipc:// socket in that dir (net::ParseEndpoint refuses inproc://, and
// the server and net::Cluster each own their ZeroMQ context, so ipc is what needs no change to
// lib/). A "silent unit" is a ROUTER bound where a unit would be that reads every request and
// answers none. A Network is a few of either in one temp dir. A unit without idle work also
// counts the requests it served by op, so that a test can tell how many rounds a call took.
#pragma once

#include <unistd.h>

#include <array>
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <thread>
#include <utility>
#include <vector>
#include <zmq.hpp>

#include "net/cluster.h"
#include "node/server.h"
#include "node/service.h"
#include "store/slice_store.h"
#include "temp_dir.h"
#include "wire/message.h"

namespace dstk::test {

namespace fs = std::filesystem;

inline const dstk::node::LogSink kQuiet = [](dstk::node::LogLevel, const std::string&) {};

// One unit: store, service and server thread, on ipc://DIR/sock. Without `idle_work` the unit
// never runs its background work (Service::Idle), so the slices of consumed functions stay,
// as they do on a real unit for the moment before that work runs.
class ServedUnit {
 public:
  explicit ServedUnit(const fs::path& dir, bool idle_work = true) {
    auto store = dstk::store::SliceStore::Open((dir / "unit").string());
    REQUIRE(store.ok());
    store_ = std::move(store).value();
    service_ = std::make_unique<dstk::node::Service>(*store_, kQuiet, "test");
    REQUIRE(pipe(stop_) == 0);
    options_.listen = "ipc://" + (dir / "sock").string();
    options_.stop_fd = stop_[0];
    // Ready once bound (Serve's on_ready), so the first request never races the bind.
    options_.on_ready = [this](const std::string&) {
      std::lock_guard lock(mu_);
      ready_ = true;
      cv_.notify_all();
    };
    server_ = std::thread([this, idle_work] {
      if (idle_work) {
        served_ = dstk::node::Serve(*service_, options_, kQuiet);
      } else {
        dstk::node::Service& svc = *service_;
        served_ = dstk::node::Serve(
            [&svc, this](std::span<const uint8_t> h, std::span<const uint8_t> p, bool has,
                         const dstk::node::Caller& caller) {
              if (auto req = dstk::wire::DecodeRequest(h); req.ok()) {
                ++served_ops_.at(static_cast<size_t>(req->op));
              }
              return svc.Handle(h, p, has, caller);
            },
            options_, kQuiet, [&svc] { return svc.Sync(); });
      }
      std::lock_guard lock(mu_);
      done_ = true;
      cv_.notify_all();
    });
    std::unique_lock lock(mu_);
    cv_.wait(lock, [this] { return ready_ || done_; });
    if (!ready_) {
      lock.unlock();
      server_.join();
      FAIL("the unit did not start: " << served_.message());
    }
  }
  ~ServedUnit() {
    if (server_.joinable()) {
      (void)!write(stop_[1], "x", 1);
      server_.join();
      CHECK(served_.ok());  // stopped cleanly, no failed flush
    }
    close(stop_[0]);
    close(stop_[1]);
  }
  const std::string& endpoint() const { return options_.listen; }
  // Requests of `op` served so far (units without idle work only; 0 for the others).
  size_t served(dstk::wire::Op op) const { return served_ops_.at(static_cast<size_t>(op)); }

 private:
  std::array<std::atomic<size_t>, 16> served_ops_{};
  std::unique_ptr<dstk::store::SliceStore> store_;
  std::unique_ptr<dstk::node::Service> service_;
  int stop_[2] = {-1, -1};
  dstk::node::ServerOptions options_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool ready_ = false;
  bool done_ = false;
  dstk::Status served_;
  std::thread server_;
};

// A unit that takes every request and never answers: a ROUTER that reads and drops.
class SilentUnit {
 public:
  explicit SilentUnit(const fs::path& dir)
      : endpoint_("ipc://" + (dir / "sock").string()), sock_(ctx_, zmq::socket_type::router) {
    sock_.set(zmq::sockopt::linger, 0);
    sock_.bind(endpoint_);  // bound before the thread starts: connections are accepted now
    thread_ = std::thread([this] {
      zmq::pollitem_t item{sock_.handle(), 0, ZMQ_POLLIN, 0};
      while (!stop_) {
        if (zmq::poll(&item, 1, std::chrono::milliseconds(10)) == 0) continue;
        zmq::message_t m;
        while (sock_.recv(m, zmq::recv_flags::dontwait)) ++frames_;
      }
    });
  }
  ~SilentUnit() {
    stop_ = true;
    thread_.join();
  }
  const std::string& endpoint() const { return endpoint_; }
  size_t frames() const { return frames_; }

 private:
  std::string endpoint_;
  zmq::context_t ctx_{1};
  zmq::socket_t sock_;
  std::atomic<bool> stop_ = false;
  std::atomic<size_t> frames_ = 0;
  std::thread thread_;
};

// A network of units in one temp dir: `shape` has one letter a unit, 'u' served, 'l' served
// without idle work (ServedUnit), 's' silent.
class Network {
 public:
  explicit Network(const std::string& shape) : dir_("dstk-claimer") {
    for (size_t i = 0; i < shape.size(); ++i) {
      const fs::path d = fs::path(dir_.path()) / std::string("u").append(std::to_string(i));
      fs::create_directories(d);
      if (shape[i] == 's') {
        silent_.push_back(std::make_unique<SilentUnit>(d));
        lines_.push_back(silent_.back()->endpoint());
      } else {
        units_.push_back(std::make_unique<ServedUnit>(d, shape[i] != 'l'));
        lines_.push_back(units_.back()->endpoint());
      }
    }
  }
  const std::vector<std::string>& lines() const { return lines_; }
  // A client of the whole network: its own sockets, as each claimer process has.
  dstk::net::Cluster Client(std::chrono::milliseconds timeout = std::chrono::milliseconds(400)) {
    return dstk::net::Cluster(lines_, timeout);
  }
  const SilentUnit& silent(size_t i) const { return *silent_[i]; }
  // The served units, in the shape's order with the silent ones left out.
  const ServedUnit& unit(size_t i) const { return *units_[i]; }
  // Requests of `op` that the served units without idle work served, all together.
  size_t Served(dstk::wire::Op op) const {
    size_t n = 0;
    for (const auto& u : units_) n += u->served(op);
    return n;
  }

 private:
  TempDir dir_;
  std::vector<std::unique_ptr<ServedUnit>> units_;
  std::vector<std::unique_ptr<SilentUnit>> silent_;
  std::vector<std::string> lines_;
};

}  // namespace dstk::test
