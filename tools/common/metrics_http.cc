#include "metrics_http.h"

#include <arpa/inet.h>

#include <charconv>
#include <exception>

namespace dstk::tools {
namespace {

Status Bad(const std::string& text, const std::string& why) {
  return Status::Invalid("--metrics " + text + ": " + why +
                         " (want PORT, :PORT, IPV4:PORT or [IPV6]:PORT)");
}

}  // namespace

Result<std::string> ParseMetricsAddress(const std::string& text) {
  const size_t colon = text.rfind(':');
  std::string host = colon == std::string::npos ? "" : text.substr(0, colon);
  const std::string port = colon == std::string::npos ? text : text.substr(colon + 1);
  unsigned value = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (port.empty() || ec != std::errc() || end != port.data() + port.size() || value < 1 ||
      value > 65535) {
    return Bad(text, "the port must be a number from 1 to 65535");
  }
  if (host.empty()) host = "127.0.0.1";  // loopback unless told otherwise
  unsigned char addr[16];
  if (host.front() == '[' && host.back() == ']' && host.size() > 2) {
    if (inet_pton(AF_INET6, host.substr(1, host.size() - 2).c_str(), addr) != 1)
      return Bad(text, "not an IPv6 address: " + host);
  } else if (inet_pton(AF_INET, host.c_str(), addr) != 1) {
    return Bad(text, "not an IPv4 address (or [IPv6] in brackets): " + host);
  }
  return host + ":" + std::to_string(value);
}

Result<std::unique_ptr<prometheus::Exposer>> ServeMetrics(
    const std::string& address, const std::shared_ptr<prometheus::Registry>& registry) {
  try {
    // One thread: Prometheus scrapes one at a time, and a unit's CPUs are for its requests.
    auto exposer = std::make_unique<prometheus::Exposer>(address, 1);
    exposer->RegisterCollectable(registry);
    return exposer;
  } catch (const std::exception& e) {
    return Status::IoError("--metrics: cannot serve metrics on " + address + ": " + e.what());
  }
}

}  // namespace dstk::tools
