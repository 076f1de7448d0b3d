#include "net/endpoint.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <sys/socket.h>

#include <algorithm>
#include <cctype>
#include <memory>

namespace dstk::net {
namespace {

Status Bad(std::string_view text, const std::string& why) {
  return Status::Invalid("endpoint '" + std::string(text) + "': " + why);
}

// 'text', quoted for a message. (Built with append: GCC 12 at -O3 warns, wrongly, of
// overlapping copies in "'" + std::string(...), -Wrestrict.)
std::string Quoted(std::string_view text) {
  std::string quoted = "'";
  quoted.append(text);
  quoted += '\'';
  return quoted;
}

bool IsHostNameChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '.' || c == '-' || c == '_';
}

Status CheckPort(std::string_view text, std::string_view port, EndpointUse use, uint16_t& out) {
  if (port == "*" && use == EndpointUse::kBind) {
    out = 0;
    return Status::Ok();
  }
  if (port.empty()) return Bad(text, "no port after ':' (write HOST:PORT, PORT 1..65535)");
  const bool digits =
      std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; });
  if (!digits) {
    return Bad(text, "port '" + std::string(port) + "' is not a number 1..65535" +
                         (use == EndpointUse::kBind ? " (or * for any free port)" : ""));
  }
  const std::string_view significant =
      port.substr(std::min(port.find_first_not_of('0'), port.size()));
  if (significant.empty() || significant.size() > 5 || std::stoul(std::string(significant)) > 65535)
    return Bad(text, "port " + std::string(port) + " is outside 1..65535");
  out = static_cast<uint16_t>(std::stoul(std::string(significant)));
  return Status::Ok();
}

Status CheckHost(std::string_view text, std::string_view host, bool bracketed, EndpointUse use) {
  if (host.empty()) return Bad(text, "no host before the port (write HOST:PORT)");
  if (bracketed) {
    const std::string addr(host.substr(0, host.find('%')));  // an optional %zone follows
    in6_addr a{};
    if (::inet_pton(AF_INET6, addr.c_str(), &a) != 1)
      return Bad(text, Quoted(host) + " in brackets is not an IPv6 address");
    return Status::Ok();
  }
  if (host == "*") {
    if (use == EndpointUse::kBind) return Status::Ok();
    return Bad(text, "'*' (every interface) is for binding; name the unit's host");
  }
  if (host.find(':') != std::string_view::npos)
    return Bad(text, "an IPv6 address goes in brackets: tcp://[" + std::string(host) + "]:PORT");
  if (!std::all_of(host.begin(), host.end(), IsHostNameChar) || host.front() == '-' ||
      host.front() == '.') {
    return Bad(text, Quoted(host) + " is not an IP address or a host name");
  }
  return Status::Ok();
}

Result<Endpoint> ParseTcp(std::string_view text, std::string_view rest, EndpointUse use) {
  Endpoint e;
  e.scheme = "tcp";
  std::string_view host, port;
  bool bracketed = false;
  if (!rest.empty() && rest.front() == '[') {
    const size_t close = rest.find(']');
    if (close == std::string_view::npos) return Bad(text, "'[' without its ']'");
    host = rest.substr(1, close - 1);
    bracketed = true;
    if (close + 1 >= rest.size() || rest[close + 1] != ':')
      return Bad(text, "no port after the address (write [ADDRESS]:PORT)");
    port = rest.substr(close + 2);
  } else {
    const size_t colon = rest.rfind(':');
    if (colon == std::string_view::npos)
      return Bad(text, "no port (write HOST:PORT, for example 127.0.0.1:7100)");
    host = rest.substr(0, colon);
    port = rest.substr(colon + 1);
  }
  DSTK_RETURN_IF_ERROR(CheckHost(text, host, bracketed, use));
  DSTK_RETURN_IF_ERROR(CheckPort(text, port, use, e.port));
  e.host = std::string(host);
  if (!bracketed)
    std::transform(e.host.begin(), e.host.end(), e.host.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (bracketed) e.host = "[" + e.host + "]";
  return e;
}

}  // namespace

std::string Endpoint::ToString() const {
  if (scheme == "ipc") return "ipc://" + path;
  return "tcp://" + host + ":" + (port == 0 ? std::string("*") : std::to_string(port));
}

Result<Endpoint> ParseEndpoint(std::string_view text, EndpointUse use) {
  if (text.empty()) return Status::Invalid("empty endpoint");
  for (char c : text) {
    if (std::isspace(static_cast<unsigned char>(c)) != 0 ||
        std::iscntrl(static_cast<unsigned char>(c)) != 0)
      return Bad(text, "contains a space or a control character");
  }
  const size_t sep = text.find("://");
  if (sep == std::string_view::npos) return ParseTcp(text, text, use);
  const std::string_view scheme = text.substr(0, sep), rest = text.substr(sep + 3);
  if (scheme == "tcp") return ParseTcp(text, rest, use);
  if (scheme == "ipc") {
    if (rest.empty()) return Bad(text, "no path after ipc://");
    Endpoint e;
    e.scheme = "ipc";
    e.path = std::string(rest);
    return e;
  }
  if (scheme == "inproc")
    return Bad(text, "inproc:// reaches only threads of one process; use tcp:// or ipc://");
  return Bad(text, "unknown scheme '" + std::string(scheme) +
                       "': use tcp://HOST:PORT (the default) or ipc://PATH");
}

std::vector<std::string> AddressesOf(const Endpoint& e) {
  if (e.scheme == "ipc") return {"ipc://" + e.path};
  const std::string port = std::to_string(e.port);
  std::string host = e.host;
  if (host.size() > 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* found = nullptr;
  if (::getaddrinfo(host.c_str(), port.c_str(), &hints, &found) != 0 || found == nullptr)
    return {"tcp://" + e.host + ":" + port};
  std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> owner(found, ::freeaddrinfo);
  std::vector<std::string> out;
  for (const addrinfo* a = found; a != nullptr; a = a->ai_next) {
    char name[NI_MAXHOST];
    if (::getnameinfo(a->ai_addr, a->ai_addrlen, name, sizeof name, nullptr, 0, NI_NUMERICHOST) ==
        0)
      out.push_back(std::string("tcp://") + name + ":" + port);
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  if (out.empty()) out.push_back("tcp://" + e.host + ":" + port);
  return out;
}

}  // namespace dstk::net
