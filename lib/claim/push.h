// Pushing a function onto a queue: encode it and store it under a fresh, ordered queue key.
#pragma once

#include <string>

#include "claim/function.h"
#include "client/options.h"
#include "net/cluster.h"
#include "util/status.h"

namespace dstk::claim {

// Checks the function, stamps producer and time, stores it; returns the queue key.
Result<std::string> PushFunction(net::Cluster& cluster, const client::Thresholds& t,
                                 KeyGenerator& keys, const std::string& queue, Function f);

}  // namespace dstk::claim
