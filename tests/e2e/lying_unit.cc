// Test helper: a storage unit that lies. A ZeroMQ proxy in front of one real dsnode, which
// forwards every request to it and changes some of its replies, so that end-to-end tests and
// the lab can watch readers cope with a unit that answers well-formed but false things.
//
//   lying_unit --listen tcp://127.0.0.1:P --unit tcp://127.0.0.1:Q --lie MODE[,MODE] [--delay MS]
//              [--ready-file PATH]
//
// List the proxy's endpoint in a node list in place of the unit's. Modes:
//   none    forward everything unchanged
//   slices  replies with a slice (get_slice, and a reader's stat that carries the first slice)
//           carry other bytes of the same length, with the slice header's CRC32C recomputed
//           over them, so that the CRC check passes
//   garble  the same slices carry other bytes with the CRC left as it was: damage on the way
//           (or on a disk), not a lie, which a reader must tell apart from one
//   newer   object stat replies report a committed revision rev+1000 (the other manifest fields
//           unchanged) and slices of it, as many as the unit holds of rev
//   tomb    object stat replies report a tombstone at rev+1000, no slices and no first slice
// `slices` combines with `newer` or `tomb` (--lie slices,newer).
//
// --delay MS holds every reply for MS milliseconds: with --lie none, a slow honest unit. A reader
// stops listening once enough units have answered, and a proxy answers a little later than a
// unit, so a liar may never be heard; tests slow some honest units down to make sure it is.
//
// --ready-file PATH: once bound, the endpoint is written to PATH (temp file, then rename), as
// dsnode --ready-file does; tests wait for it.
//
// Only plain connections: a node list line naming the proxy must not give a public key (the proxy
// speaks no CURVE, to clients or to the unit). Each client gets its own DEALER to the unit, so
// that the unit sees as many clients as the proxy has. One log line per reply changed, on
// stderr; stops on SIGINT or SIGTERM, logging "stopped cleanly".
#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <vector>
#include <zmq.hpp>

#include "codec/slice.h"
#include "wire/limits.h"
#include "wire/message.h"

namespace {

using namespace dstk;
using Clock = std::chrono::steady_clock;
using Frames = std::vector<zmq::message_t>;

// A client's DEALER to the unit is closed after this long without traffic (its requests, if
// any are left, were given up by the client long before).
constexpr auto kIdleClient = std::chrono::seconds(60);

struct Lies {
  bool slices = false;
  bool garble = false;  // slices changed without their CRC: damage, not a lie
  bool newer = false;
  bool tomb = false;
};

struct Client {
  zmq::message_t identity;           // the client's routing id on the front ROUTER
  zmq::socket_t unit;                // DEALER to the real unit
  std::map<uint64_t, wire::Op> ops;  // request id -> op, for requests not answered yet
  Clock::time_point last = Clock::now();
};

// A reply held back by --delay, to go to the client `identity` at `due`.
struct Held {
  Clock::time_point due;
  std::string identity;
  Frames frames;
};

void Log(const std::string& line) {
  std::fprintf(stderr, "lying_unit: %s\n", line.c_str());
}

std::span<const uint8_t> SpanOf(const zmq::message_t& m) {
  return {static_cast<const uint8_t*>(m.data()), m.size()};
}

bool RecvAll(zmq::socket_t& sock, Frames& frames) {
  for (;;) {
    zmq::message_t m;
    if (!sock.recv(m, zmq::recv_flags::dontwait)) return !frames.empty();
    const bool more = m.more();
    frames.push_back(std::move(m));
    if (!more) return true;
  }
}

void SendAll(zmq::socket_t& sock, Frames& frames, size_t from) {
  for (size_t i = from; i < frames.size(); ++i) {
    sock.send(frames[i], i + 1 < frames.size() ? zmq::send_flags::sndmore : zmq::send_flags::none);
  }
}

// get_slice: other bytes of the same length, and a CRC that matches them.
bool ForgeSlice(wire::Reply& r, Frames& frames, bool keep_crc) {
  if (!r.ok() || !r.slice || frames.size() != 2) return false;
  std::vector<uint8_t> payload(SpanOf(frames[1]).begin(), SpanOf(frames[1]).end());
  for (auto& b : payload) b ^= 0x5a;
  if (!keep_crc) r.slice->crc = codec::ComputeSliceCrc(*r.slice, payload);
  frames[1] = zmq::message_t(payload.data(), payload.size());
  std::string what = keep_crc ? "garbled slice " : "forged slice ";
  what.append(r.slice->name)
      .append(" rev ")
      .append(std::to_string(r.slice->rev))
      .append(" seg ")
      .append(std::to_string(r.slice->seg))
      .append(" pillar ")
      .append(std::to_string(r.slice->idx));
  Log(what);
  return true;
}

// stat of an object: a newer revision, or a tombstone, at rev+1000.
bool ForgeStat(wire::Reply& r, Frames& frames, const Lies& lies) {
  if (!r.ok() || !r.committed || r.committed->tomb) return false;
  const wire::Manifest real = *r.committed;
  const uint64_t fake = real.rev + 1000;
  std::string what;
  if (lies.newer) {
    uint32_t slices = 0;
    for (const auto& h : r.held) {
      if (h.rev == real.rev) slices = h.slices;
    }
    r.committed->rev = fake;
    r.held.push_back({fake, slices, 0});
    what = "reported revision ";
  } else {
    wire::Manifest tomb;
    tomb.rev = fake;
    tomb.tomb = true;
    r.committed = tomb;
    r.held.clear();
    r.slice.reset();  // a removed object has no slice to send
    frames.resize(1);
    what = "reported a tombstone at revision ";
  }
  what.append(std::to_string(fake)).append(" for revision ").append(std::to_string(real.rev));
  Log(what);
  return true;
}

// A reply from the unit for `c`: changed when it answers a request the lies are about.
void Edit(Client& c, Frames& frames, const Lies& lies) {
  if (frames.empty()) return;
  auto reply = wire::DecodeReply(SpanOf(frames[0]));
  if (!reply.ok()) return;  // not ours to judge: forwarded as it came
  auto op = c.ops.find(reply->id);
  if (op == c.ops.end()) return;
  const wire::Op what = op->second;
  c.ops.erase(op);
  bool changed = false;
  if ((what == wire::Op::kGetSlice || what == wire::Op::kStat) && (lies.slices || lies.garble)) {
    changed = ForgeSlice(*reply, frames, /*keep_crc=*/lies.garble);
  }
  if (what == wire::Op::kStat && (lies.newer || lies.tomb)) {
    changed = ForgeStat(*reply, frames, lies) || changed;
  }
  if (changed) {
    const std::string header = wire::EncodeReply(*reply);
    frames[0] = zmq::message_t(header.data(), header.size());
  }
}

void SendToClient(zmq::socket_t& front, const std::string& identity, Frames& frames) {
  front.send(zmq::buffer(identity), zmq::send_flags::sndmore);
  SendAll(front, frames, 0);
}

int Run(const std::string& listen, const std::string& unit, const Lies& lies,
        const std::string& modes, std::chrono::milliseconds delay, const std::string& ready_file) {
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGINT);
  sigaddset(&mask, SIGTERM);
  sigprocmask(SIG_BLOCK, &mask, nullptr);
  const int stop_fd = signalfd(-1, &mask, SFD_CLOEXEC);
  if (stop_fd < 0) {
    Log(std::string("signalfd: ") + std::strerror(errno));
    return 6;
  }

  zmq::context_t ctx(1);
  zmq::socket_t front(ctx, zmq::socket_type::router);
  front.set(zmq::sockopt::linger, 0);
  front.set(zmq::sockopt::maxmsgsize, static_cast<int64_t>(wire::kMaxPayloadFrame));
  try {
    front.bind(listen);
  } catch (const zmq::error_t& e) {
    Log("cannot listen on " + listen + ": " + e.what());
    return 6;
  }
  std::string hello = "in front of ";
  hello.append(unit).append(", lies: ").append(modes);
  if (delay.count() > 0)
    hello.append(", delay ").append(std::to_string(delay.count())).append(" ms");
  Log(hello);
  Log(std::string("listening on ").append(front.get(zmq::sockopt::last_endpoint)));
  if (!ready_file.empty()) {
    const std::string tmp = ready_file + ".tmp";
    std::FILE* f = std::fopen(tmp.c_str(), "w");
    const std::string line = front.get(zmq::sockopt::last_endpoint) + "\n";
    if (f == nullptr || std::fputs(line.c_str(), f) < 0 || std::fclose(f) != 0 ||
        std::rename(tmp.c_str(), ready_file.c_str()) != 0) {
      Log("cannot write " + ready_file + ": " + std::strerror(errno));
      return 1;
    }
  }

  std::map<std::string, std::unique_ptr<Client>> clients;
  std::deque<Held> held;  // in order of `due`: every reply is held equally long
  for (;;) {
    std::vector<zmq::pollitem_t> items = {{front.handle(), 0, ZMQ_POLLIN, 0},
                                          {nullptr, stop_fd, ZMQ_POLLIN, 0}};
    std::vector<Client*> order;
    for (auto& [id, c] : clients) {
      items.push_back({c->unit.handle(), 0, ZMQ_POLLIN, 0});
      order.push_back(c.get());
    }
    try {
      auto wait = std::chrono::milliseconds(1000);
      if (!held.empty()) {
        wait = std::max(
            std::chrono::milliseconds(0),
            std::min(wait, std::chrono::duration_cast<std::chrono::milliseconds>(
                               held.front().due - Clock::now() + std::chrono::microseconds(999))));
      }
      zmq::poll(items.data(), items.size(), wait);
    } catch (const zmq::error_t& e) {
      if (e.num() == EINTR) continue;
      Log(std::string("poll: ") + e.what());
      return 6;
    }
    if (items[1].revents & ZMQ_POLLIN) break;
    // Requests: identity, header, payload (put_slice) -> the client's DEALER, without identity.
    if (items[0].revents & ZMQ_POLLIN) {
      for (Frames frames; RecvAll(front, frames); frames.clear()) {
        if (frames.size() < 2) continue;
        auto& c = clients[frames[0].to_string()];
        if (!c) {
          c = std::make_unique<Client>(Client{zmq::message_t(frames[0].data(), frames[0].size()),
                                              zmq::socket_t(ctx, zmq::socket_type::dealer),
                                              {},
                                              Clock::now()});
          c->unit.set(zmq::sockopt::linger, 0);
          c->unit.set(zmq::sockopt::maxmsgsize, static_cast<int64_t>(wire::kMaxPayloadFrame));
          c->unit.connect(unit);
        }
        c->last = Clock::now();
        auto request = wire::DecodeRequest(SpanOf(frames[1]));
        if (request.ok()) c->ops[request->id] = request->op;
        SendAll(c->unit, frames, 1);
      }
    }
    // Replies: header, payload (a slice) -> the client, behind its identity.
    for (size_t i = 0; i < order.size(); ++i) {
      if (!(items[i + 2].revents & ZMQ_POLLIN)) continue;
      Client& c = *order[i];
      for (Frames frames; RecvAll(c.unit, frames); frames.clear()) {
        c.last = Clock::now();
        Edit(c, frames, lies);
        if (delay.count() > 0) {
          held.push_back({Clock::now() + delay, c.identity.to_string(), std::move(frames)});
        } else {
          SendToClient(front, c.identity.to_string(), frames);
        }
      }
    }
    while (!held.empty() && held.front().due <= Clock::now()) {
      SendToClient(front, held.front().identity, held.front().frames);
      held.pop_front();
    }
    for (auto it = clients.begin(); it != clients.end();) {
      it = Clock::now() - it->second->last > kIdleClient ? clients.erase(it) : std::next(it);
    }
  }
  clients.clear();
  close(stop_fd);
  Log("stopped cleanly");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"A storage unit that lies: a proxy in front of one dsnode (tests only)"};
  std::string listen, unit;
  std::vector<std::string> modes;
  int delay_ms = 0;
  app.add_option("--listen", listen, "endpoint to listen on (tcp://127.0.0.1:PORT)")->required();
  app.add_option("--unit", unit, "the real unit's endpoint")->required();
  app.add_option("--lie", modes, "none, slices, garble, newer or tomb; slices,newer or slices,tomb")
      ->required()
      ->delimiter(',')
      ->check(CLI::IsMember({"none", "slices", "garble", "newer", "tomb"}));
  app.add_option("--delay", delay_ms, "hold every reply this many milliseconds")
      ->check(CLI::Range(0, 60000));
  std::string ready_file;
  app.add_option("--ready-file", ready_file, "write the bound endpoint here once listening");
  CLI11_PARSE(app, argc, argv);
  Lies lies;
  std::string names;
  for (const auto& m : modes) {
    lies.slices |= m == "slices";
    lies.garble |= m == "garble";
    lies.newer |= m == "newer";
    lies.tomb |= m == "tomb";
    if (!names.empty()) names += ',';
    names += m;
  }
  if (lies.newer && lies.tomb) {
    std::fprintf(stderr, "lying_unit: --lie newer and tomb contradict each other\n");
    return 2;
  }
  return Run(listen, unit, lies, names, std::chrono::milliseconds(delay_ms), ready_file);
}
