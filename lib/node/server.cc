#include "node/server.h"

#include <chrono>
#include <memory>
#include <optional>
#include <set>
#include <thread>
#include <vector>
#include <zmq.hpp>

#include "net/read_watch.h"
#include "node/connection_monitor.h"
#include "wire/limits.h"

namespace dstk::node {
namespace {

void SendReply(zmq::socket_t& sock, zmq::message_t& identity, const Outgoing& out) {
  // A peer that went away makes ROUTER drop the reply silently, which is what we want.
  sock.send(identity, zmq::send_flags::sndmore);
  sock.send(zmq::buffer(out.header),
            out.has_payload ? zmq::send_flags::sndmore : zmq::send_flags::none);
  if (out.has_payload)
    sock.send(zmq::buffer(out.payload.data(), out.payload.size()), zmq::send_flags::none);
}

// The ZAP handler (RFC 27): ZeroMQ asks it, over inproc, whether a CURVE client may connect.
// `zap` is bound before any client can connect: were it not, ZeroMQ would let CURVE clients in
// unchecked for as long as no handler listened.
// The key it returns as the user id comes back on every message of the connection
// ("User-Id"), which is how a request is matched to its key's rights.
void ServeZap(zmq::socket_t zap, const AllowList& allow, const LogSink& log) {
  for (;;) {
    std::vector<zmq::message_t> frames;
    try {
      for (;;) {
        zmq::message_t m;
        if (!zap.recv(m)) break;
        const bool more = m.more();
        frames.push_back(std::move(m));
        if (!more) break;
      }
    } catch (const zmq::error_t&) {
      return;  // the context is shutting down
    }
    if (frames.size() < 6) continue;
    std::string key;
    if (frames.size() >= 7 && frames[6].size() == 32) {
      char z85[41];
      zmq_z85_encode(z85, static_cast<const uint8_t*>(frames[6].data()), 32);
      key = z85;
    }
    const bool ok = !key.empty() && allow.count(key) > 0;
    if (!ok)
      log(LogLevel::kWarn,
          "refused a client whose key is not allowed: " + (key.empty() ? "(none)" : key));
    try {
      zap.send(zmq::str_buffer("1.0"), zmq::send_flags::sndmore);
      zap.send(frames[1], zmq::send_flags::sndmore);
      zap.send(zmq::buffer(std::string(ok ? "200" : "400")), zmq::send_flags::sndmore);
      zap.send(zmq::buffer(std::string(ok ? "OK" : "key not allowed")), zmq::send_flags::sndmore);
      zap.send(zmq::buffer(key), zmq::send_flags::sndmore);
      zap.send(zmq::str_buffer(""), zmq::send_flags::none);
    } catch (const zmq::error_t&) {
      return;
    }
  }
}

using Frames = std::vector<zmq::message_t>;  // identity, header, and payload for put_slice

std::span<const uint8_t> SpanOf(const zmq::message_t& m) {
  return {static_cast<const uint8_t*>(m.data()), m.size()};
}

void SendRefusal(zmq::socket_t& sock, zmq::message_t& identity, uint64_t id,
                 wire::ReplyStatus status, std::string error) {
  wire::Reply r;
  r.id = id;
  r.status = status;
  r.error = std::move(error);
  Outgoing out;
  out.header = wire::EncodeReply(r);
  SendReply(sock, identity, out);
}

// Busy refusals are counted and logged at most once a second: a flood must not flood the log.
class BusyLog {
 public:
  BusyLog(size_t limit, const LogSink& log, UnitMetrics* metrics)
      : limit_(limit), log_(log), metrics_(metrics) {}
  size_t limit() const { return limit_; }
  void Add(const std::string& client) {
    if (metrics_ != nullptr) metrics_->Busy();
    ++refused_;
    if (clients_.size() < 100) clients_.insert(client);
  }
  void Flush() {
    const auto now = std::chrono::steady_clock::now();
    if (refused_ == 0 || now - last_ < std::chrono::seconds(1)) return;
    log_(LogLevel::kWarn, "answered " + std::to_string(refused_) + " requests busy: " +
                              std::to_string(clients_.size()) + " client(s) had " +
                              std::to_string(limit_) + " requests in flight (--max-inflight)");
    refused_ = 0;
    clients_.clear();
    last_ = now;
  }

 private:
  size_t limit_;
  const LogSink& log_;
  UnitMetrics* metrics_;
  size_t refused_ = 0;
  std::set<std::string> clients_;
  std::chrono::steady_clock::time_point last_{};
};

// Reads every message that has arrived (while there is room) into `held`; a client already at
// its limit is answered busy at once, and the message is dropped. True when it read the socket
// empty (its last receive found nothing), false when `held` ran out of room first.
bool Drain(zmq::socket_t& sock, InflightQueue<Frames>& held, BusyLog& busy, const LogSink& log) {
  while (held.Room()) {
    Frames frames;
    size_t bytes = 0;
    for (;;) {
      zmq::message_t m;
      if (!sock.recv(m, zmq::recv_flags::dontwait)) break;
      const bool more = m.more();
      bytes += m.size();
      frames.push_back(std::move(m));
      if (!more) break;
    }
    if (frames.empty()) return true;
    if (frames.size() < 2 || frames.size() > 3) {
      log(LogLevel::kWarn, "refused a message with " + std::to_string(frames.size()) + " frames");
      if (frames.size() > 3) {
        // The id of frame 1, when it can be read, so that the client can match the refusal.
        SendRefusal(sock, frames[0], wire::PeekRequestId(SpanOf(frames[1])),
                    wire::ReplyStatus::kBadRequest, "a request has one or two frames");
      }
      continue;
    }
    std::string client = frames[0].to_string();
    const uint64_t id = wire::PeekRequestId(SpanOf(frames[1]));
    if (held.HeldFor(client) >= busy.limit()) {
      busy.Add(client);
      SendRefusal(sock, frames[0], id, wire::ReplyStatus::kBusy,
                  "unit busy: this client has " + std::to_string(busy.limit()) +
                      " requests in flight, the unit's limit; retry after its replies");
      continue;
    }
    held.Admit(client, std::move(frames), bytes);  // room checked above: it cannot refuse
  }
  return false;  // no room left: more may be waiting
}

// Who sent `header`: with CurveZMQ, the key the ZAP handler admitted the connection with and
// that key's rights; without, nobody in particular and no rights to check.
Caller CallerOf(zmq::message_t& header, const ServerOptions& options) {
  Caller caller;
  if (!options.keys) return caller;
  // Admitted by ZAP, so listed; were it not (or had the message no user id), it would get no
  // right at all.
  static const Rights kNone;
  caller.rights = &kNone;
  try {
    caller.key = header.gets("User-Id");
  } catch (const zmq::error_t&) {
    return caller;
  }
  const auto it = options.allow.find(caller.key);
  if (it != options.allow.end()) caller.rights = &it->second;
  return caller;
}

// A flush failed: nothing more may be acknowledged. Restarting rebuilds the state from the disk.
Status StopAfter(const LogSink& log, const Status& why) {
  log(LogLevel::kError, "stopping: " + why.message());
  return why;
}

}  // namespace

Status Serve(Service& service, const ServerOptions& options, const LogSink& log) {
  return Serve(
      [&service](std::span<const uint8_t> header, std::span<const uint8_t> payload,
                 bool has_payload, const Caller& caller) {
        return service.Handle(header, payload, has_payload, caller);
      },
      options, log, [&service] { return service.Sync(); },
      [&service]() -> Result<std::optional<std::chrono::milliseconds>> {
        auto next = service.Idle();
        if (!service.fatal().ok()) return service.fatal();
        return next;
      });
}

namespace {

// The unit's ROUTER socket, bound to options.listen: CurveZMQ server when keyed, frames over
// the payload limit refused.
Result<zmq::socket_t> BindRouter(zmq::context_t& ctx, const ServerOptions& options) {
  zmq::socket_t sock(ctx, zmq::socket_type::router);
  if (options.keys) {
    sock.set(zmq::sockopt::curve_server, true);
    sock.set(zmq::sockopt::curve_secretkey, options.keys->secret_z85);
    sock.set(zmq::sockopt::zap_domain, "dstk");
  }
  sock.set(zmq::sockopt::linger, 0);
  // Frames over the limit make ZeroMQ drop the connection before buffering them whole.
  sock.set(zmq::sockopt::maxmsgsize, static_cast<int64_t>(wire::kMaxPayloadFrame));
  sock.set(zmq::sockopt::router_mandatory, 0);
  try {
    sock.bind(options.listen);
  } catch (const zmq::error_t& e) {
    return Status::IoError("cannot listen on " + options.listen + ": " + e.what());
  }
  return sock;
}

// The ZAP handler's thread when the unit is keyed (none otherwise). The destructor stops it
// (context shutdown makes its recv fail) before the context goes.
class ZapThread {
 public:
  ZapThread(zmq::context_t& ctx, const ServerOptions& options, const LogSink& log) : ctx_(ctx) {
    if (!options.keys) return;
    zmq::socket_t handler(ctx, zmq::socket_type::rep);
    handler.set(zmq::sockopt::linger, 0);
    handler.bind("inproc://zeromq.zap.01");
    thread_ = std::thread([&allow = options.allow, &log = log, h = std::move(handler)]() mutable {
      ServeZap(std::move(h), allow, log);
    });
  }
  ~ZapThread() {
    if (!thread_.joinable()) return;
    ctx_.shutdown();
    thread_.join();
  }
  ZapThread(const ZapThread&) = delete;
  ZapThread& operator=(const ZapThread&) = delete;

 private:
  zmq::context_t& ctx_;
  std::thread thread_;
};

// Group commit: claim replies wait here until one sync covers them all. The group ends when
// the unit has served everything it has read (so a lone claimer waits for nothing but its own
// flush) or has kMaxGroup replies waiting; requests that arrive during a flush form the next.
class ReplyGroup {
 public:
  ReplyGroup(zmq::socket_t& sock, const Syncer& sync, const std::function<void()>& flush_log)
      : sock_(sock), sync_(sync), flush_log_(flush_log) {}
  void Hold(zmq::message_t identity, Outgoing out) {
    waiting_.emplace_back(std::move(identity), std::move(out));
  }
  bool full() const { return waiting_.size() >= kMaxGroup; }
  bool holding() const { return !waiting_.empty(); }
  // Syncs once, then sends every reply held. Returns the sync's error when the unit must stop:
  // a failed flush (kIoError).
  Status End() {
    if (waiting_.empty()) return Status::Ok();
    const Status synced = sync_ ? sync_() : Status::Ok();
    if (flush_log_) flush_log_();
    for (auto& [identity, out] : waiting_) {
      SendReply(sock_, identity, synced.ok() ? out : Service::FailedSync(out, synced));
    }
    waiting_.clear();
    return synced.code() == Code::kIoError ? synced : Status::Ok();
  }

 private:
  static constexpr size_t kMaxGroup = 256;
  zmq::socket_t& sock_;
  const Syncer& sync_;
  const std::function<void()>& flush_log_;
  std::vector<std::pair<zmq::message_t, Outgoing>> waiting_;
};

// Handles one request read off the socket: its reply goes out at once, or joins `group` when
// it may only be sent after the sync.
void ServeOne(Frames& frames, const Handler& handle, const ServerOptions& options,
              zmq::socket_t& sock, ReplyGroup& group) {
  const bool has_payload = frames.size() == 3;
  const Caller caller = CallerOf(frames[1], options);
  Outgoing out =
      handle(SpanOf(frames[1]), has_payload ? SpanOf(frames[2]) : std::span<const uint8_t>{},
             has_payload, caller);
  if (out.after_sync) {
    group.Hold(std::move(frames[0]), std::move(out));
  } else {
    if (options.flush_log) options.flush_log();  // what it logged goes out before its reply
    SendReply(sock, frames[0], out);
  }
}

}  // namespace

Status Serve(const Handler& handle, const ServerOptions& options, const LogSink& log,
             const Syncer& sync, const IdleWork& idle) {
  zmq::context_t ctx(1);
  const ZapThread zap(ctx, options, log);
  auto bound_sock = BindRouter(ctx, options);
  if (!bound_sock.ok()) return bound_sock.status();
  zmq::socket_t& sock = *bound_sock;
  std::unique_ptr<ConnectionMonitor> monitor;
  if (options.metrics != nullptr) {
    auto started = ConnectionMonitor::Start(ctx, sock, *options.metrics);
    if (!started.ok()) return started.status();
    monitor = std::move(*started);
  }
  const std::string bound = sock.get(zmq::sockopt::last_endpoint);
  log(LogLevel::kInfo, "listening on " + bound);
  if (options.flush_log) options.flush_log();  // the log says so before anyone is told
  if (options.on_ready) options.on_ready(bound);

  // The socket, then the stop fd and the connection monitor when there are, waited on with one
  // poll(2) of their fds; a socket is asked for messages only when it may have some
  // (net/read_watch.h: zmq_poll asked every socket twice per wait, a dear system call each).
  net::ReadWatch requests(sock.handle());
  std::optional<net::ReadWatch> events;
  std::vector<pollfd> fds = {{requests.fd(), POLLIN, 0}};
  if (options.stop_fd >= 0) fds.push_back({options.stop_fd, POLLIN, 0});
  const size_t stop_item = options.stop_fd >= 0 ? 1 : 0;
  if (monitor) {
    events.emplace(monitor->handle());
    fds.push_back({events->fd(), POLLIN, 0});
  }
  InflightQueue<Frames> held(options.limits);
  BusyLog busy(options.limits.per_client, log, options.metrics);
  ReplyGroup group(sock, sync, options.flush_log);
  // When idle() wants to run again; -1: not until a request comes.
  std::chrono::milliseconds idle_again(-1);
  for (;;) {
    // Block only when nothing is held, no idle work is left and no message waits; otherwise
    // just look for a stop between two requests, so a stop never waits for a backlog.
    if (held.empty() && options.flush_log) options.flush_log();
    const bool work = !held.empty() || requests.Readable() || (events && events->Readable());
    if (Status waited = net::WaitReadable(fds, work ? std::chrono::milliseconds(0) : idle_again);
        !waited.ok()) {
      return waited;
    }
    if (stop_item > 0 && fds[stop_item].revents != 0) break;
    if (fds[0].revents != 0) requests.Touch();
    if (events && fds.back().revents != 0) events->Touch();
    if (events && events->Readable()) {
      monitor->Drain();
      events->Emptied();  // Drain reads until a receive finds nothing
    }
    if (requests.Readable()) {
      if (Drain(sock, held, busy, log)) requests.Emptied();
    }
    busy.Flush();
    if (auto frames = held.Next()) {
      ServeOne(*frames, handle, options, sock, group);
      requests.Touch();  // a send may take the commands that armed the fd
    }
    if (group.holding() && (held.empty() || group.full())) {
      if (Status st = group.End(); !st.ok()) return StopAfter(log, st);
      requests.Touch();  // replies were sent
    }
    idle_again = std::chrono::milliseconds(-1);
    if (held.empty() && idle) {
      auto next = idle();
      if (!next.ok()) return StopAfter(log, next.status());
      if (next->has_value()) idle_again = **next;
    }
  }
  if (Status st = group.End(); !st.ok()) return StopAfter(log, st);  // only the flush was left
  log(LogLevel::kInfo, "stopping");
  return Status::Ok();
}

}  // namespace dstk::node
