// One request/reply round to many units: queue a request to each, then collect the replies,
// matched by request id, until the caller has enough or the deadline passes. Claim's phases,
// locating an object, listing, repair's and scrub's per-segment rounds and dsenc's health view
// are all this loop; it is written once here so that the matching, the deadline and forgetting
// the requests still out (their late replies are then dropped, net/cluster.h) are the same
// everywhere. What a round does with each reply stays with its caller.
//
// Not for loops that keep a window of work in flight (a put's or a get's segments) or that send
// again mid-round (a busy unit's request, object_put_many.cc): those are not one round.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <utility>
#include <vector>

#include "net/cluster.h"
#include "util/status.h"
#include "wire/message.h"

namespace dstk::net {

// What one round got.
struct Gathered {
  std::vector<Response> replies;  // in arrival order, whatever their status (GatherOptions::keep)
  // Units whose request could not even be queued (no connection: ZeroMQ queues nothing for
  // them), with why, in the order they were tried.
  std::vector<std::pair<size_t, Status>> unsent;
  // Units sent to that had not answered when the round stopped (deadline or `enough`), in
  // ascending order. Their requests are forgotten.
  std::vector<size_t> silent;
};

struct GatherOptions {
  // Stop waiting once this returns true. Asked before each wait with the replies so far and the
  // number of requests still out; without it the round waits for every reply.
  std::function<bool(const std::vector<Response>& got, size_t outstanding)> enough;
  // Called on each matched reply as it arrives, before `enough` is asked again: for what must
  // happen at that moment (a latency, a trace line) or state that `enough` reads.
  std::function<void(const Response&)> on_reply;
  // Asked before each wait with the current deadline (first: the cluster's timeout after the
  // last send); returns the deadline to wait for. It can only move sooner: a round that heard
  // enough gives the slow units a grace instead of a whole timeout.
  std::function<Clock::time_point(Clock::time_point deadline)> deadline;
  // false: replies are handed to `on_reply` only and not kept in Gathered::replies (nor shown to
  // `enough`), so a round over slices holds one payload at a time, not one per unit.
  bool keep = true;
};

// Queues one request per unit of `units` with `send(unit)`, which returns the request's id (so
// each unit may get its own request, or a payload), then gathers the replies.
Gathered Gather(Cluster& c, const std::vector<size_t>& units,
                const std::function<Result<uint64_t>(size_t unit)>& send,
                const GatherOptions& o = {});

// The same request to every unit of `units`.
Gathered Gather(Cluster& c, const std::vector<size_t>& units, const wire::Request& req,
                const GatherOptions& o = {});

}  // namespace dstk::net
