// Finding an object: one stat round to every unit, then the revision to read.
//
// Why reads never mix revisions: a writer publishes revision R only after at least w units
// acknowledged every slice of R, and a unit reports R as committed only after publish. So the
// highest revision any unit reports committed is fully stored on >= w units; the reader takes
// exactly that revision and asks only for slices of it (every slice names its revision, and a
// slice of another one is refused).
#pragma once

#include <algorithm>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "net/cluster.h"
#include "util/status.h"
#include "wire/message.h"

namespace dstk::client {

struct UnitView {
  bool answered = false;
  bool skipped = false;  // not waited for: Locate had its answer early (may still hold slices)
  bool refused = false;  // it did answer, with an error: up, but not for this (`error`)
  Status error;          // why not, when !answered
  std::optional<wire::Manifest> committed;
  std::vector<wire::HeldRevision> held;
  std::string unit_id;  // who answered (store/unit_id.h); empty from units that predate it
  // A reader's Locate: the unit's slice of segment 0 of its committed revision, sent with the
  // stat (wire `slice_max`); null when it sent none. Shared: a Location is copied whole.
  std::shared_ptr<const net::Response> first_slice;
  uint32_t SlicesOf(uint64_t rev) const;  // good slices this unit holds of `rev`
  uint32_t BadOf(uint64_t rev) const;
};

struct Location {
  std::vector<UnitView> units;             // by unit index
  std::optional<wire::Manifest> manifest;  // highest committed revision seen (may be a tomb)
  size_t answered = 0;
  // With Locate's `enough`: how long it waited for the rest once that many had answered.
  std::chrono::milliseconds grace{0};
  // Set by TrustLocation (client/integrity.h): units whose committed revision was newer than
  // `manifest` (or another version of it) but that too few units vouched for.
  std::vector<size_t> unconfirmed;

  // Units that refused the stat as forbidden (the client's key has no right on the name).
  size_t Forbidden() const;
  // Units that hold slices of the located revision, data pillars first.
  std::vector<size_t> Holders() const;
  // Whether Locate stopped waiting for some unit (see `early` and `enough`).
  bool AnySkipped() const;
  // "unit 2 (tcp://...): timeout; unit 4 (...): ..." for the units that did not answer.
  std::string Failures(const net::Cluster& c) const;
};

// kInvalidArgument when two entries of the node list answered with one unit id: one unit
// listed twice (under two addresses of a unit bound to every interface, say), which would
// keep two pillars of every object. Writers refuse to go on.
Status CheckOneUnitEach(const net::Cluster& cluster, const std::vector<std::string>& unit_ids);
Status CheckOneUnitEach(const net::Cluster& cluster, const Location& loc);

// Whether "no such object" is certain: a committed revision lives on >= w units, so when more
// than n-w units answered without one, none exists. With fewer answers it may be on the others.
inline bool AbsenceIsCertain(size_t answered, size_t n, size_t w) {
  return answered + w > n;
}

// A reader's stat asks each unit for its first slice when the slice is at most this long: an
// object of one segment up to k times this size is then read in one round, and the n-k slices
// it did not need cost at most this much each.
inline constexpr uint32_t kReadFirstSliceMax = 64 * 1024;

// Asks every unit about `name` (with `verify`, each unit re-checks its slices' CRCs) and waits
// for all of them or the timeout. With `early` (a reader), it stops waiting once more than n-k
// units answered and k of them hold the newest committed revision seen: every put is
// acknowledged by w >= k units, so a newer revision would be on one of the answering units. Dead
// units then cost a degraded get nothing instead of a whole timeout. A reader's stat also asks
// for the first slice (kReadFirstSliceMax, UnitView::first_slice), which GetObject takes
// instead of asking for it again.
//
// With `enough` > 0 (a writer: max(n-w+1, w)), once that many units answered it waits for the
// others only three times as long again (100 ms at least), not a whole timeout: the newest
// committed revision is on w units, so n-w+1 answers include one of them, and a writer only
// needs to go past it (and w units to write to). Units still silent then are marked `skipped` (a
// writer leaves them out of its put).
//
// With `elsewhere`, once the newest manifest seen satisfies it, the others get the same grace
// (a reader that guessed the object's units: once a manifest names other units, those are asked
// next, and waiting a whole timeout for the rest of the guess, some perhaps down, would only
// cost time; the grace still lets live units report a newer revision).
Location Locate(net::Cluster& cluster, const std::string& name, bool verify, bool early = false,
                size_t enough = 0,
                const std::function<bool(const wire::Manifest&)>& elsewhere = {});

// Locate's `enough` for a writer to `units` units with threshold w: max(n-w+1, w), and w at
// least because a put needs w units, and fewer than w fast ones must not make it leave out
// healthy slower ones and fail. 0 (wait for all) when w exceeds the units.
inline size_t WriterEnough(size_t units, uint32_t w) {
  return w <= units ? std::max<size_t>(units - w + 1, w) : 0;
}

}  // namespace dstk::client
