// What the owner of a claim does with it afterwards: renew its lease while the function runs,
// finish it after success (lease mode: the function is deleted), or release it after a failure
// (the function can be claimed again at once). Each is one round to all units; renew and
// finish need the claim quorum q to answer ok.
#pragma once

#include "claim/claimer.h"
#include "net/cluster.h"
#include "util/status.h"

namespace dstk::claim {

// kConflict when fewer than q units still hold our lease (the run must stop: another claimer
// may own the function now); kUnavailable when too few answered.
Status Renew(net::Cluster& cluster, const Claim& claim);
Status Finish(net::Cluster& cluster, const Claim& claim);
// Best effort, no wait.
void Release(net::Cluster& cluster, const Claim& claim);

}  // namespace dstk::claim
