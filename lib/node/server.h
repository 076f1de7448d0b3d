// A storage unit's network face: a ZeroMQ ROUTER socket serving a Service, one request at a
// time, until a stop file descriptor becomes readable (dsnode wires SIGINT/SIGTERM to it).
// Claim replies are sent in groups after one flush of the claim journal (group commit).
// Requests are held per client and served round-robin between clients, with a limit of
// requests in flight per client past which the unit answers `busy` (node/inflight.h).
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <span>
#include <string>

#include "net/keys.h"
#include "node/allow_list.h"
#include "node/inflight.h"
#include "node/metrics.h"
#include "node/service.h"
#include "util/status.h"

namespace dstk::node {

struct ServerOptions {
  std::string listen = "tcp://127.0.0.1:7100";
  int stop_fd = -1;  // readable => stop cleanly
  // CurveZMQ: with a secret key the unit encrypts and authenticates every connection and
  // serves only clients whose public key is in `allow` (checked by a ZAP handler), each request
  // within the rights its key's line grants (node/rights.h). Without keys no rights apply.
  std::optional<net::KeyPair> keys;
  AllowList allow;
  InflightLimits limits;  // requests in flight per client and in all (dsnode --max-inflight)
  // dsnode --metrics: busy replies and connected clients are counted here (null: off; the
  // Service counts the rest).
  UnitMetrics* metrics = nullptr;
  // Called once, on the serving thread, right after the socket is bound (and before the first
  // poll), with the endpoint actually bound (a `*` port resolved): the unit is ready, in that
  // connections to it are accepted from then on. dsnode tells systemd (READY=1) and writes
  // --ready-file here; tests wait on it. Not called when the bind fails.
  std::function<void(const std::string& endpoint)> on_ready;
  // Called on the serving thread after a group's flush, before its replies go out, before a
  // reply that needs no flush goes out, before the loop waits for requests, and before
  // on_ready: a LogSink that buffers its lines writes them here, so every line is out before
  // the reply to the request that logged it. dsnode does,
  // so that a group's audit lines (one per claim decision: 64 for a batched claim) cost one
  // write(2), not one each, and are written before the replies they describe.
  std::function<void()> flush_log;
};

// What serves one request: Service::Handle, or a stand-in in tests. `caller` is the client's
// key and rights (no key and no rights without CurveZMQ).
using Handler =
    std::function<Outgoing(std::span<const uint8_t> header, std::span<const uint8_t> payload,
                           bool has_payload, const Caller& caller)>;

// What makes the handled requests' writes and claim states durable: Service::Sync, or nothing
// in tests. kIoError means a flush failed: the server answers the group with the error and stops.
using Syncer = std::function<Status()>;
// Background work run while no request waits (Service::Idle); returns when to run it again
// if nothing arrives first (nullopt: only after the next request), or an error to stop on.
using IdleWork = std::function<Result<std::optional<std::chrono::milliseconds>>()>;

// Binds and serves until stop_fd is readable. kIoError when the endpoint cannot be bound, or
// when a flush failed (the unit must not acknowledge anything after that; see Syncer).
// Replies marked after_sync are held until `sync` has run once for all of them (group commit).
Status Serve(Service& service, const ServerOptions& options, const LogSink& log);
Status Serve(const Handler& handle, const ServerOptions& options, const LogSink& log,
             const Syncer& sync = {}, const IdleWork& idle = {});

}  // namespace dstk::node
