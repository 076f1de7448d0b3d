#include "net/cluster.h"

#include <algorithm>
#include <iterator>
#include <map>
#include <random>

#include "net/endpoint.h"
#include "wire/limits.h"

namespace dstk::net {

Cluster::Cluster(std::vector<std::string> endpoints, std::chrono::milliseconds timeout,
                 const std::optional<KeyPair>& client_keys)
    : endpoints_(std::move(endpoints)), timeout_(timeout), context_(1) {
  // Ids start at a random point so that replies meant for an earlier process on the same
  // identity can never be mistaken for ours.
  std::random_device rd;
  next_id_ = (uint64_t{rd()} << 32 | rd()) >> 1;
  std::optional<KeyPair> keys = client_keys;
  for (auto& ep : endpoints_) {
    std::string server_key;
    if (const size_t space = ep.find(' '); space != std::string::npos) {
      server_key = ep.substr(ep.find_first_not_of(' ', space));
      ep.erase(space);
    }
    zmq::socket_t s(context_, zmq::socket_type::dealer);
    if (!server_key.empty()) {
      if (!keys) keys = GenerateKeyPair().value();
      s.set(zmq::sockopt::curve_serverkey, server_key);
      s.set(zmq::sockopt::curve_publickey, keys->public_z85);
      s.set(zmq::sockopt::curve_secretkey, keys->secret_z85);
    }
    // A little linger, so that fire-and-forget messages (releases) still leave on exit.
    s.set(zmq::sockopt::linger, 200);
    s.set(zmq::sockopt::maxmsgsize,
          static_cast<int64_t>(wire::kMaxPayloadFrame + wire::kMaxHeaderFrame));
    s.set(zmq::sockopt::sndhwm, 1000);
    s.set(zmq::sockopt::rcvhwm, 1000);
    s.set(zmq::sockopt::reconnect_ivl, 100);
    s.set(zmq::sockopt::reconnect_ivl_max, 1000);
    // Endpoints from ParseNodeList are checked already; one that is not must cost its unit,
    // never the process (ZeroMQ throws on what it cannot parse).
    std::string refused;
    try {
      s.connect(ep);
    } catch (const zmq::error_t& e) {
      refused = std::string("cannot connect: ") + e.what();
    }
    connect_errors_.push_back(std::move(refused));
    sockets_.push_back(std::move(s));
  }
  answered_.assign(sockets_.size(), false);
}

Cluster::~Cluster() {
  // Without this, every command run while a unit is down waited the whole linger at exit for
  // requests that unit would never take (200 ms: a quarter of a degraded 1 GiB get).
  for (size_t u = 0; u < sockets_.size(); ++u) {
    // A reply that came but was never read (a round returns at its quorum) still shows the
    // unit is up: its fire-and-forget messages (a release) keep their linger.
    zmq::message_t m;
    try {
      while (!answered_[u] && sockets_[u].recv(m, zmq::recv_flags::dontwait)) answered_[u] = true;
    } catch (const zmq::error_t&) {
      // closing anyway
    }
    if (!answered_[u]) sockets_[u].set(zmq::sockopt::linger, 0);
  }
}

std::string Cluster::Describe(size_t unit) const {
  return "unit " + std::to_string(unit) + " (" + endpoints_[unit] + ")";
}

Result<uint64_t> Cluster::Send(size_t unit, wire::Request& request,
                               std::span<const uint8_t> payload) {
  request.id = next_id_++;
  if (!connect_errors_[unit].empty())
    return Status::Invalid(Describe(unit) + ": " + connect_errors_[unit]);
  const std::string header = wire::EncodeRequest(request);
  try {
    const bool has_payload = request.op == wire::Op::kPutSlice;
    auto flags = zmq::send_flags::dontwait |
                 (has_payload ? zmq::send_flags::sndmore : zmq::send_flags::none);
    if (!sockets_[unit].send(zmq::buffer(header), flags)) {
      return Status::Unavailable(Describe(unit) + ": send queue full");
    }
    if (has_payload && !sockets_[unit].send(zmq::buffer(payload.data(), payload.size()),
                                            zmq::send_flags::dontwait)) {
      return Status::Unavailable(Describe(unit) + ": send queue full");
    }
  } catch (const zmq::error_t& e) {
    return Status::IoError(Describe(unit) + ": " + e.what());
  }
  pending_[request.id] = unit;
  return request.id;
}

std::optional<Response> Cluster::Receive(Clock::time_point deadline) {
  std::vector<zmq::pollitem_t> items;
  items.reserve(sockets_.size());
  std::transform(sockets_.begin(), sockets_.end(), std::back_inserter(items), [](auto& s) {
    return zmq::pollitem_t{s.handle(), 0, ZMQ_POLLIN, 0};
  });
  for (;;) {
    const auto now = Clock::now();
    if (pending_.empty() || now >= deadline) return std::nullopt;
    const auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now);
    try {
      zmq::poll(items, std::max(wait, std::chrono::milliseconds(1)));
    } catch (const zmq::error_t& e) {
      if (e.num() == EINTR) continue;
      throw;
    }
    for (size_t u = 0; u < items.size(); ++u) {
      if (!(items[u].revents & ZMQ_POLLIN)) continue;
      std::vector<zmq::message_t> frames;
      for (;;) {
        zmq::message_t m;
        if (!sockets_[u].recv(m, zmq::recv_flags::dontwait)) break;
        const bool more = m.more();
        frames.push_back(std::move(m));
        if (!more) break;
      }
      if (frames.empty()) continue;
      auto decoded =
          wire::DecodeReply({static_cast<const uint8_t*>(frames[0].data()), frames[0].size()});
      if (!decoded.ok()) continue;  // cannot be matched to a request; its deadline will pass
      answered_[u] = true;
      auto it = pending_.find(decoded->id);
      if (it == pending_.end() || it->second != u) continue;  // late or foreign: drop
      pending_.erase(it);
      Response r;
      r.unit = u;
      r.reply = std::move(decoded).value();
      if (frames.size() == 2) r.payload = std::move(frames[1]);
      if (frames.size() > 2) {
        r.reply.status = wire::ReplyStatus::kError;
        r.reply.error = "reply has too many frames";
      }
      return r;
    }
  }
}

std::vector<Outcome> Cluster::CallEach(const wire::Request& request,
                                       const std::vector<size_t>& units) {
  std::vector<Outcome> out(units.size());
  std::unordered_map<uint64_t, size_t> slot;
  for (size_t i = 0; i < units.size(); ++i) {
    wire::Request r = request;
    auto id = Send(units[i], r);
    if (!id.ok()) {
      out[i].status = id.status();
      continue;
    }
    slot[*id] = i;
    out[i].status = Status::Unavailable(Describe(units[i]) + ": no reply within " +
                                        std::to_string(timeout_.count()) + " ms");
  }
  const auto deadline = Clock::now() + timeout_;
  size_t waiting = slot.size();
  while (waiting > 0) {
    auto resp = Receive(deadline);
    if (!resp) break;
    auto it = slot.find(resp->reply.id);
    if (it == slot.end()) continue;
    out[it->second].status = Status::Ok();
    out[it->second].response = std::move(resp);
    --waiting;
  }
  for (const auto& [id, i] : slot) {
    if (!out[i].response) Forget(id);
  }
  return out;
}

std::vector<Outcome> Cluster::CallAll(const wire::Request& request) {
  std::vector<size_t> units(size());
  for (size_t i = 0; i < units.size(); ++i) units[i] = i;
  return CallEach(request, units);
}

Result<std::vector<std::string>> ParseNodeList(const std::string& text, char separator) {
  std::vector<std::string> out;
  // Every name each listed unit is reached under, and where it was listed: one unit listed
  // twice would hold two pillars of every object, so the object would have less redundancy
  // than its n says.
  std::map<std::string, std::string> listed;
  const std::string what = separator == '\n' ? "line " : "item ";
  size_t start = 0;
  for (size_t number = 1; start <= text.size(); ++number) {
    size_t end = text.find(separator, start);
    if (end == std::string::npos) end = text.size();
    std::string item = text.substr(start, end - start);
    start = end + 1;
    // Comments are whole lines: '#' is also a digit of Z85 keys.
    if (const size_t first = item.find_first_not_of(" \t\r\n");
        first != std::string::npos && item[first] == '#') {
      item.clear();
    }
    const size_t b = item.find_first_not_of(" \t\r\n");
    const size_t e = item.find_last_not_of(" \t\r\n");
    item = b == std::string::npos ? "" : item.substr(b, e - b + 1);
    if (item.empty()) continue;
    const std::string where = what + std::to_string(number);
    const size_t space = item.find_first_of(" \t");
    auto endpoint = ParseEndpoint(item.substr(0, space), EndpointUse::kConnect);
    if (!endpoint.ok()) return endpoint.status().With(where);
    std::string entry = endpoint->ToString();
    std::vector<std::string> names = AddressesOf(*endpoint);
    if (space != std::string::npos) {
      const std::string key = item.substr(item.find_first_not_of(" \t", space));
      if (!IsZ85Key(key))
        return Status::Invalid(where + ": '" + key + "' after " + entry +
                               " is not a Z85 public key");
      entry += " " + key;
      names.push_back("key " + key);  // a unit's public key is its own
    }
    for (const std::string& name : names) {
      auto [at, fresh] = listed.emplace(name, where);
      if (!fresh) {
        return Status::Invalid(where + " (" + entry + ") names the same unit as " + at->second +
                               " (" + name + "): list each unit once");
      }
    }
    out.push_back(entry);
  }
  if (out.empty()) return Status::Invalid("the node list is empty");
  if (out.size() > 255) return Status::Invalid("more than 255 nodes in the node list");
  return out;
}

}  // namespace dstk::net
