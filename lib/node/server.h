// A storage unit's network face: a ZeroMQ ROUTER socket serving a Service, one request at a
// time, until a stop file descriptor becomes readable (dsnode wires SIGINT/SIGTERM to it).
#pragma once

#include <string>

#include "node/service.h"
#include "util/status.h"

namespace dstk::node {

struct ServerOptions {
  std::string listen = "tcp://127.0.0.1:7100";
  int stop_fd = -1;  // readable => stop cleanly
};

// Binds and serves until stop_fd is readable. kIoError when the endpoint cannot be bound.
Status Serve(Service& service, const ServerOptions& options, const LogSink& log);

}  // namespace dstk::node
