// A client's listing of one lane (client::ListObjects with a wire::ListLane) against a scripted
// unit: the request carries the lane, a page that the unit's scan bound cut short resumes after
// the name the unit says it examined last (Reply::scanned), and a unit that names a point at or
// before where the page started cannot make the client ask the same page for ever.
#include <atomic>
#include <catch2/catch.hpp>
#include <filesystem>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>
#include <zmq.hpp>

#include "client/object_io.h"
#include "net/cluster.h"
#include "temp_dir.h"
#include "wire/message.h"

namespace {

using dstk::wire::ListEntry;
using dstk::wire::Reply;
using dstk::wire::Request;

// A ROUTER that answers each request with what `script` returns for it, and keeps the requests.
class ScriptedUnit {
 public:
  ScriptedUnit(const std::filesystem::path& dir, std::function<Reply(const Request&)> script)
      : endpoint_("ipc://" + (dir / "sock").string()),
        sock_(ctx_, zmq::socket_type::router),
        script_(std::move(script)) {
    sock_.set(zmq::sockopt::linger, 0);
    sock_.bind(endpoint_);
    thread_ = std::thread([this] { Serve(); });
  }
  ~ScriptedUnit() {
    stop_ = true;
    thread_.join();
  }
  const std::string& endpoint() const { return endpoint_; }
  std::vector<Request> requests() {
    std::lock_guard lock(mu_);
    return requests_;
  }

 private:
  void Serve() {
    zmq::pollitem_t item{sock_.handle(), 0, ZMQ_POLLIN, 0};
    while (!stop_) {
      if (zmq::poll(&item, 1, std::chrono::milliseconds(10)) == 0) continue;
      zmq::message_t identity, header;
      if (!sock_.recv(identity, zmq::recv_flags::dontwait)) continue;
      if (!identity.more() || !sock_.recv(header)) continue;
      while (header.more()) {  // a payload frame: none for a list
        zmq::message_t rest;
        if (!sock_.recv(rest)) break;
        if (!rest.more()) break;
      }
      auto req =
          dstk::wire::DecodeRequest({static_cast<const uint8_t*>(header.data()), header.size()});
      if (!req.ok()) continue;
      Reply reply = script_(*req);
      reply.id = req->id;
      {
        std::lock_guard lock(mu_);
        requests_.push_back(*req);
      }
      const std::string out = dstk::wire::EncodeReply(reply);
      sock_.send(identity, zmq::send_flags::sndmore);
      sock_.send(zmq::buffer(out), zmq::send_flags::none);
    }
  }

  std::string endpoint_;
  zmq::context_t ctx_{1};
  zmq::socket_t sock_;
  std::function<Reply(const Request&)> script_;
  std::atomic<bool> stop_ = false;
  std::mutex mu_;
  std::vector<Request> requests_;
  std::thread thread_;
};

ListEntry Entry(const std::string& name) {
  ListEntry e;
  e.name = name;
  e.manifest.rev = 1;
  e.manifest.k = 1;
  e.manifest.n = 1;
  e.manifest.size = 1;
  e.manifest.segs = 1;
  e.manifest.segsize = 1;
  return e;
}

}  // namespace

TEST_CASE("list of a lane: pages cut short by the unit's scan resume after what it scanned",
          "[client][list]") {
  dstk::test::TempDir dir("dstk-list-lane");
  ScriptedUnit unit(dir.path(), [](const Request& r) {
    Reply reply;
    if (r.after.empty()) {
      reply.more = true;  // nothing of the lane among the first names scanned
      reply.scanned = "q/m";
    } else if (r.after == "q/m") {
      reply.entries.push_back(Entry("q/p"));
      reply.more = true;  // one entry, and the scan stopped further on
      reply.scanned = "q/t";
    } else {
      reply.entries.push_back(Entry("q/z"));
    }
    return reply;
  });
  dstk::net::Cluster c({unit.endpoint()}, std::chrono::milliseconds(2000));
  auto got = dstk::client::ListObjects(c, "q/", 1, 0, "", 0, 1, {.lane = 3, .lanes = 4});
  REQUIRE(got.ok());
  REQUIRE(got->size() == 2);
  CHECK((*got)[0].name == "q/p");
  CHECK((*got)[1].name == "q/z");
  const auto asked = unit.requests();
  REQUIRE(asked.size() == 3);
  for (const auto& r : asked) {
    CHECK(r.lane.lanes == 4);
    CHECK(r.lane.lane == 3);
  }
  CHECK(asked[1].after == "q/m");
  CHECK(asked[2].after == "q/t");
}

TEST_CASE("list of a lane: a unit whose scanned name does not move forward is done",
          "[client][list]") {
  dstk::test::TempDir dir("dstk-list-lane");
  ScriptedUnit unit(dir.path(), [](const Request& r) {
    Reply reply;
    reply.more = true;
    if (r.after.empty()) {
      reply.entries.push_back(Entry("q/k"));
      reply.scanned = "q/k";  // not past the page's last entry: resume after the entry
    } else {
      reply.scanned = r.after;  // a unit that says it got nowhere, for ever
    }
    return reply;
  });
  dstk::net::Cluster c({unit.endpoint()}, std::chrono::milliseconds(2000));
  auto got = dstk::client::ListObjects(c, "q/", 1, 0, "", 0, 1, {.lane = 0, .lanes = 2});
  REQUIRE(got.ok());
  REQUIRE(got->size() == 1);
  CHECK((*got)[0].name == "q/k");
  CHECK(unit.requests().size() == 2);
}
