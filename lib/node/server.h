// A storage unit's network face: a ZeroMQ ROUTER socket serving a Service, one request at a
// time, until a stop file descriptor becomes readable (dsnode wires SIGINT/SIGTERM to it).
#pragma once

#include <string>

#include <optional>
#include <set>

#include "net/keys.h"
#include "node/service.h"
#include "util/status.h"

namespace dstk::node {

struct ServerOptions {
  std::string listen = "tcp://127.0.0.1:7100";
  int stop_fd = -1;  // readable => stop cleanly
  // CurveZMQ: with a secret key the unit encrypts and authenticates every connection and
  // serves only clients whose public key is in `allow` (checked by a ZAP handler).
  std::optional<net::KeyPair> keys;
  std::set<std::string> allow;
};

// Binds and serves until stop_fd is readable. kIoError when the endpoint cannot be bound.
Status Serve(Service& service, const ServerOptions& options, const LogSink& log);

}  // namespace dstk::node
