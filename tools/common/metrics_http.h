// `--metrics ADDR:PORT` for dsnode and dsrun: where to serve the Prometheus text format, and
// the server itself (prometheus-cpp's pull Exposer, civetweb inside; GET /metrics).
//
// Loopback unless told otherwise, like dsnode's --listen: a bare PORT or ":PORT" binds
// 127.0.0.1. The metrics tell anyone who can reach them what the unit holds and how busy it is,
// so exposing them further is the operator's explicit choice (an address such as 0.0.0.0:9464).
#pragma once

#include <prometheus/exposer.h>
#include <prometheus/registry.h>

#include <memory>
#include <string>

#include "util/status.h"

namespace dstk::tools {

// "PORT", ":PORT", "IPV4:PORT" or "[IPV6]:PORT" -> the address civetweb binds ("127.0.0.1:9464",
// "[::1]:9464"). kInvalidArgument, saying what is wrong, for anything else or a port outside
// 1..65535.
Result<std::string> ParseMetricsAddress(const std::string& text);

// Serves `registry` (and whatever else is registered on the returned exposer later) at
// http://ADDRESS/metrics from the exposer's own threads until it is destroyed. kIoError when
// the address cannot be bound. Call after blocking signals: the threads inherit the mask.
Result<std::unique_ptr<prometheus::Exposer>> ServeMetrics(
    const std::string& address, const std::shared_ptr<prometheus::Registry>& registry);

}  // namespace dstk::tools
