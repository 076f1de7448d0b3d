#include "net/cluster.h"

#include <algorithm>
#include <iterator>
#include <map>
#include <random>

#include "net/endpoint.h"
#include "net/read_watch.h"
#include "wire/limits.h"

namespace dstk::net {

// The network's connections, shared by every view of it. A socket is made on first use.
struct Cluster::Links {
  zmq::context_t context{1};
  std::vector<NodeEntry> entries;
  std::optional<KeyPair> client_keys;
  std::vector<std::optional<zmq::socket_t>> sockets;
  std::vector<std::optional<ReadWatch>> watches;  // each socket's readiness (net/read_watch.h)
  std::vector<bool> answered;                     // a reply came from this unit
  std::vector<std::string> connect_errors;        // why a unit's endpoint was refused, or ''
  uint64_t next_id = 0;

  Links() = default;
  Links(const Links&) = delete;
  Links& operator=(const Links&) = delete;
  ~Links();
  zmq::socket_t* Socket(size_t net_unit);
};

Cluster::Links::~Links() {
  // Without this, every command run while a unit is down waited the whole linger at exit for
  // requests that unit would never take (200 ms: a quarter of a degraded 1 GiB get).
  for (size_t u = 0; u < sockets.size(); ++u) {
    if (!sockets[u]) continue;
    // A reply that came but was never read (a round returns at its quorum) still shows the
    // unit is up: its fire-and-forget messages (a release) keep their linger.
    zmq::message_t m;
    try {
      while (!answered[u] && sockets[u]->recv(m, zmq::recv_flags::dontwait)) answered[u] = true;
      if (!answered[u]) sockets[u]->set(zmq::sockopt::linger, 0);
    } catch (const zmq::error_t&) {
      // closing anyway
    }
  }
}

zmq::socket_t* Cluster::Links::Socket(size_t net_unit) {
  if (sockets[net_unit]) return &*sockets[net_unit];
  if (!connect_errors[net_unit].empty()) return nullptr;
  const NodeEntry& e = entries[net_unit];
  zmq::socket_t s(context, zmq::socket_type::dealer);
  if (!e.server_key.empty()) {
    if (!client_keys) client_keys = GenerateKeyPair().value();
    s.set(zmq::sockopt::curve_serverkey, e.server_key);
    s.set(zmq::sockopt::curve_publickey, client_keys->public_z85);
    s.set(zmq::sockopt::curve_secretkey, client_keys->secret_z85);
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
  try {
    s.connect(e.endpoint);
  } catch (const zmq::error_t& err) {
    connect_errors[net_unit] = std::string("cannot connect: ") + err.what();
    return nullptr;
  }
  sockets[net_unit] = std::move(s);
  watches[net_unit].emplace(sockets[net_unit]->handle());
  return &*sockets[net_unit];
}

Cluster::Cluster(const std::vector<std::string>& node_list, std::chrono::milliseconds timeout,
                 const std::optional<KeyPair>& client_keys)
    : links_(std::make_shared<Links>()), timeout_(timeout) {
  // Ids start at a random point so that replies meant for an earlier process on the same
  // identity can never be mistaken for ours.
  std::random_device rd;
  links_->next_id = (uint64_t{rd()} << 32 | rd()) >> 1;
  links_->client_keys = client_keys;
  for (const std::string& line : node_list) {
    auto entry = ParseNodeEntry(line);
    links_->connect_errors.push_back(entry.ok() ? "" : entry.status().message());
    NodeEntry e;
    if (entry.ok()) {
      e = std::move(entry).value();
    } else {
      e.endpoint = line.substr(0, line.find(' '));
    }
    links_->entries.push_back(std::move(e));
  }
  links_->sockets.resize(node_list.size());
  links_->watches.resize(node_list.size());
  links_->answered.assign(node_list.size(), false);
  members_.resize(node_list.size());
  for (size_t u = 0; u < members_.size(); ++u) members_[u] = u;
}

Cluster::Cluster(std::shared_ptr<Links> links, std::vector<size_t> members,
                 std::chrono::milliseconds timeout)
    : links_(std::move(links)), members_(std::move(members)), timeout_(timeout) {}

Cluster::~Cluster() = default;
Cluster::Cluster(Cluster&&) noexcept = default;
Cluster& Cluster::operator=(Cluster&&) noexcept = default;

Cluster Cluster::View(const std::vector<size_t>& units) const {
  std::vector<size_t> members;
  members.reserve(units.size());
  for (size_t u : units) members.push_back(u < links_->entries.size() ? u : kNoUnit);
  return Cluster(links_, std::move(members), timeout_);
}

Cluster Cluster::Network() const {
  std::vector<size_t> all(links_->entries.size());
  for (size_t u = 0; u < all.size(); ++u) all[u] = u;
  return Cluster(links_, std::move(all), timeout_);
}

size_t Cluster::network_size() const {
  return links_->entries.size();
}

const NodeEntry& Cluster::Entry(size_t net_unit) const {
  return links_->entries[net_unit];
}

void Cluster::NoteUnitId(size_t unit, const std::string& id) {
  if (members_[unit] == kNoUnit || !IsUnitId(id)) return;
  NodeEntry& e = links_->entries[members_[unit]];
  if (e.id.empty()) e.id = id;
}

const std::string& Cluster::endpoint(size_t unit) const {
  static const std::string kNone;
  return members_[unit] == kNoUnit ? kNone : links_->entries[members_[unit]].endpoint;
}

std::string Cluster::Describe(size_t unit) const {
  if (members_[unit] == kNoUnit) return "pillar " + std::to_string(unit) + " (no unit)";
  return "unit " + std::to_string(members_[unit]) + " (" + endpoint(unit) + ")";
}

Result<uint64_t> Cluster::Send(size_t unit, wire::Request& request,
                               std::span<const uint8_t> payload) {
  request.id = links_->next_id++;
  const size_t net_unit = members_[unit];
  if (net_unit == kNoUnit)
    return Status::Unavailable(Describe(unit) + ": its unit is not in the node list");
  zmq::socket_t* socket = links_->Socket(net_unit);
  if (socket == nullptr)
    return Status::Invalid(Describe(unit) + ": " + links_->connect_errors[net_unit]);
  const std::string header = wire::EncodeRequest(request);
  links_->watches[net_unit]->Touch();  // a send may take the commands that armed its fd
  try {
    const bool has_payload = request.op == wire::Op::kPutSlice;
    auto flags = zmq::send_flags::dontwait |
                 (has_payload ? zmq::send_flags::sndmore : zmq::send_flags::none);
    if (!socket->send(zmq::buffer(header), flags)) {
      return Status::Unavailable(Describe(unit) + ": send queue full");
    }
    if (has_payload &&
        !socket->send(zmq::buffer(payload.data(), payload.size()), zmq::send_flags::dontwait)) {
      return Status::Unavailable(Describe(unit) + ": send queue full");
    }
  } catch (const zmq::error_t& e) {
    return Status::IoError(Describe(unit) + ": " + e.what());
  }
  pending_[request.id] = unit;
  return request.id;
}

std::optional<Response> Cluster::Receive(Clock::time_point deadline) {
  // Only units with a request outstanding are looked at: a view of a few units of a large
  // network costs what those units cost. A socket is asked for a message only when it may have
  // one (net/read_watch.h); the others are waited on with one poll(2) of their fds.
  std::vector<size_t> units;  // view units with a request outstanding and a socket
  std::vector<pollfd> fds;
  for (;;) {
    units.clear();
    std::vector<bool> seen(members_.size(), false);
    for (const auto& [id, u] : pending_) {
      if (seen[u]) continue;
      seen[u] = true;
      if (links_->Socket(members_[u]) != nullptr) units.push_back(u);
    }
    for (size_t u : units) {
      if (auto r = ReceiveFrom(u)) return r;
    }
    const auto now = Clock::now();
    if (pending_.empty() || now >= deadline) return std::nullopt;
    const auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now);
    fds.clear();
    for (size_t u : units) fds.push_back({links_->watches[members_[u]]->fd(), POLLIN, 0});
    if (Status waited = WaitReadable(fds, std::max(wait, std::chrono::milliseconds(1)));
        !waited.ok()) {
      throw zmq::error_t();  // as zmq::poll did: the failure is the process's, not a unit's
    }
    for (size_t i = 0; i < units.size(); ++i) {
      if (fds[i].revents != 0) links_->watches[members_[units[i]]]->Touch();
    }
  }
}

std::optional<Response> Cluster::ReceiveFrom(size_t u) {
  const size_t net_unit = members_[u];
  zmq::socket_t& socket = *links_->sockets[net_unit];
  ReadWatch& watch = *links_->watches[net_unit];
  // Every message waiting is read until one matches a request still outstanding.
  while (watch.Readable()) {
    std::vector<zmq::message_t> frames;
    for (;;) {
      zmq::message_t m;
      if (!socket.recv(m, zmq::recv_flags::dontwait)) break;
      const bool more = m.more();
      frames.push_back(std::move(m));
      if (!more) break;
    }
    if (frames.empty()) {
      watch.Emptied();
      break;
    }
    watch.Touch();  // more may be waiting
    auto decoded =
        wire::DecodeReply({static_cast<const uint8_t*>(frames[0].data()), frames[0].size()});
    if (!decoded.ok()) continue;  // cannot be matched to a request; its deadline will pass
    links_->answered[net_unit] = true;
    auto it = pending_.find(decoded->id);
    if (it == pending_.end() || members_[it->second] != net_unit) continue;  // late: drop
    const size_t unit = it->second;
    pending_.erase(it);
    Response r;
    r.unit = unit;
    r.reply = std::move(decoded).value();
    if (frames.size() == 2) r.payload = std::move(frames[1]);
    if (frames.size() > 2) {
      r.reply.status = wire::ReplyStatus::kError;
      r.reply.error = "reply has too many frames";
    }
    return r;
  }
  return std::nullopt;
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

}  // namespace dstk::net
