// Pushing a function onto a queue: encode it and store it under a fresh, ordered queue key.
#pragma once

#include <string>
#include <vector>

#include "claim/function.h"
#include "claim/signing.h"
#include "client/options.h"
#include "net/cluster.h"
#include "util/status.h"

namespace dstk::claim {

// Checks the function, stamps producer and time, signs it with `signer` when given
// (claim/signing.h), stores it; returns the queue key.
Result<std::string> PushFunction(net::Cluster& cluster, const client::Thresholds& t,
                                 KeyGenerator& keys, const std::string& queue, Function f,
                                 const SigningKey* signer = nullptr);

// Pushes many functions at once: keys in the order given, stored in two fan-out rounds for all
// of them (client::PutNewObjects), so a unit flushes them together. One result per function:
// its key, or why it was not pushed (a failed one does not stop the others).
std::vector<Result<std::string>> PushFunctions(net::Cluster& cluster, const client::Thresholds& t,
                                               KeyGenerator& keys, const std::string& queue,
                                               std::vector<Function> functions,
                                               const SigningKey* signer = nullptr);

}  // namespace dstk::claim
