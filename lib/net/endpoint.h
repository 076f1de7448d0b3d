// Endpoints of storage units, checked before any socket is made.
//
// ZeroMQ throws on an endpoint it cannot parse and, worse, accepts some that are wrong: a port
// past 65535 wraps (tcp://127.0.0.1:84146 binds 18610). Every endpoint a tool takes, from a
// node list, $DSTK_NODES or dsnode --listen, goes through ParseEndpoint first, so that a bad
// one is refused with what is wrong with it. The forms accepted:
//   tcp://HOST:PORT   HOST an IPv4 address, a host name, or an IPv6 address in brackets;
//                     PORT a decimal number 1..65535
//   HOST:PORT         the same: tcp:// is the default scheme
//   ipc://PATH        a Unix domain socket
// Binding (dsnode) also takes `*` for HOST (every interface) and for PORT (any free port).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "util/status.h"

namespace dstk::net {

enum class EndpointUse { kConnect, kBind };

struct Endpoint {
  std::string scheme;  // "tcp" or "ipc"
  std::string host;    // tcp: lower-case, IPv6 without its brackets
  uint16_t port = 0;   // tcp; 0 only for a bind to any port (`*`)
  std::string path;    // ipc
  // The endpoint as ZeroMQ takes it: tcp://HOST:PORT, tcp://[V6]:PORT, ipc://PATH.
  std::string ToString() const;
};

// kInvalidArgument, naming the endpoint and what is wrong with it, for anything else.
Result<Endpoint> ParseEndpoint(std::string_view text, EndpointUse use);

// Names under which `e` is reached, for finding one unit listed twice: for tcp, each address
// its host resolves to (numeric, from the resolver: "localhost" and "127.0.0.1" meet) with the
// port, or the host as written when it does not resolve; for ipc, the path.
std::vector<std::string> AddressesOf(const Endpoint& e);

}  // namespace dstk::net
