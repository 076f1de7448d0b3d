// Counts the client connections open on the unit's ROUTER socket for dstk_unit_clients_connected.
// ROUTER hides connections from its user, so this listens to ZeroMQ's socket monitor (accepted
// and disconnected events, over an inproc PAIR socket) that the server polls next to the
// requests. Only made when --metrics is on: without it the server polls nothing extra.
#pragma once

#include <memory>
#include <zmq.hpp>

#include "node/metrics.h"
#include "util/status.h"

namespace dstk::node {

class ConnectionMonitor {
 public:
  // Starts monitoring `watched` (a socket of `ctx`); kIoError when ZeroMQ refuses.
  static Result<std::unique_ptr<ConnectionMonitor>> Start(zmq::context_t& ctx,
                                                          zmq::socket_t& watched,
                                                          UnitMetrics& metrics);
  ~ConnectionMonitor();
  ConnectionMonitor(const ConnectionMonitor&) = delete;
  ConnectionMonitor& operator=(const ConnectionMonitor&) = delete;

  // The socket to poll for ZMQ_POLLIN: events are waiting.
  void* handle() { return events_.handle(); }
  // Reads every waiting event and updates the gauge. Never blocks.
  void Drain();

 private:
  ConnectionMonitor(zmq::socket_t& watched, zmq::socket_t events, UnitMetrics& metrics)
      : watched_(watched), events_(std::move(events)), metrics_(metrics) {}

  zmq::socket_t& watched_;
  zmq::socket_t events_;
  UnitMetrics& metrics_;
};

}  // namespace dstk::node
