#include "node/connection_monitor.h"

#include <cstring>
#include <string>

namespace dstk::node {
namespace {

// One monitor per socket; the address only has to be unique within the context.
std::string MonitorAddress(const zmq::socket_t& s) {
  return "inproc://dstk-monitor-" + std::to_string(reinterpret_cast<uintptr_t>(s.handle()));
}

}  // namespace

Result<std::unique_ptr<ConnectionMonitor>> ConnectionMonitor::Start(zmq::context_t& ctx,
                                                                    zmq::socket_t& watched,
                                                                    UnitMetrics& metrics) {
  const std::string address = MonitorAddress(watched);
  if (zmq_socket_monitor(watched.handle(), address.c_str(),
                         ZMQ_EVENT_ACCEPTED | ZMQ_EVENT_DISCONNECTED) != 0) {
    return Status::IoError(std::string("cannot monitor the socket: ") + zmq_strerror(zmq_errno()));
  }
  try {
    zmq::socket_t events(ctx, zmq::socket_type::pair);
    events.set(zmq::sockopt::linger, 0);
    events.connect(address);
    return std::unique_ptr<ConnectionMonitor>(
        new ConnectionMonitor(watched, std::move(events), metrics));
  } catch (const zmq::error_t& e) {
    zmq_socket_monitor(watched.handle(), nullptr, 0);
    return Status::IoError(std::string("cannot monitor the socket: ") + e.what());
  }
}

ConnectionMonitor::~ConnectionMonitor() {
  zmq_socket_monitor(watched_.handle(), nullptr, 0);
}

void ConnectionMonitor::Drain() {
  for (;;) {
    // An event is two frames: 6 bytes (uint16 event, uint32 value), then the endpoint.
    zmq::message_t event;
    try {
      if (!events_.recv(event, zmq::recv_flags::dontwait)) return;
      while (event.more()) {
        zmq::message_t rest;
        if (!events_.recv(rest, zmq::recv_flags::dontwait) || !rest.more()) break;
      }
    } catch (const zmq::error_t&) {
      return;
    }
    if (event.size() < sizeof(uint16_t)) continue;
    uint16_t id = 0;
    std::memcpy(&id, event.data(), sizeof id);
    if (id == ZMQ_EVENT_ACCEPTED) metrics_.ClientConnected();
    if (id == ZMQ_EVENT_DISCONNECTED) metrics_.ClientDisconnected();
  }
}

}  // namespace dstk::node
