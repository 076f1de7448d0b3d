// The message rounds a claimer runs (internal to lib/claim): one request to several units,
// gathered by net::Gather (net/gather.h) and traced for --trace, fire-and-forget sends, and the
// jittered backoff between rounds. Shared by the one-key claim (claimer.cc) and the batched one
// (claimer_batch.cc).
#pragma once

#include <cstddef>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "claim/claimer.h"
#include "net/cluster.h"
#include "net/gather.h"
#include "wire/message.h"

namespace dstk::claim {

// net::Gather of `req` to `units` until `enough(replies, outstanding)` or the timeout, with each
// request sent and each reply received passed to `o.trace` as it happens. Requests still
// outstanding are forgotten (their replies will be dropped). Units the request could not even
// be sent to (no connection: ZeroMQ queues nothing for them) are added to `unsent` when given.
std::vector<net::Response> TracedGather(
    net::Cluster& c, const std::vector<size_t>& units, const wire::Request& req,
    const std::function<bool(const std::vector<net::Response>&, size_t)>& enough,
    const ClaimOptions& o, std::vector<size_t>* unsent = nullptr);

// Replies whose status is ok.
size_t OkCount(const std::vector<net::Response>& got);

// Fire and forget: releases and helping finishes need no reply (a unit that misses one is
// taught again by the next claimer that walks the key).
void SendAll(net::Cluster& c, const std::vector<size_t>& units, wire::Op op, const std::string& key,
             const wire::Ballot& b, const ClaimOptions& o);
void ReleaseAll(net::Cluster& c, const std::vector<size_t>& units, const std::string& key,
                const wire::Ballot& b, const ClaimOptions& o);

// Sleeps 1 ms to a jittered bound that doubles with `round` (at most 200 ms).
void Backoff(std::mt19937_64& rng, int round);

}  // namespace dstk::claim
