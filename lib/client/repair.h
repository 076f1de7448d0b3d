// Repair: re-create missing or corrupt slices from good ones (Tahoe-LAFS "repair", MinIO
// "heal"). The object is read once through the normal get path (any k good slices per
// segment), re-encoded segment by segment, and every unit that lacked a good slice of the
// newest revision gets the whole revision again, then its manifest. A unit that fails to take
// it (full, refusing, silent) is told to delete what it took of a revision it does not hold
// committed, so a failed repair leaves no unpublished slices behind.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "client/options.h"
#include "net/cluster.h"
#include "util/status.h"

namespace dstk::client {

struct RepairReport {
  size_t units_repaired = 0;          // units that were missing slices and now hold all of them
  std::vector<size_t> repaired;       // those units (indices in the repaired view)
  std::vector<size_t> published;      // units that took the manifest (they hold every slice)
  size_t units_failed = 0;            // units that needed repair but did not take it (down, full)
  uint64_t bytes = 0;                 // object bytes decoded
  std::vector<std::string> failures;  // per failed unit: "unit 3 (tcp://...): why"
  // Units that lied (made-up slices, a revision too few units confirm), one sentence each.
  std::vector<std::string> notes;
};

// What a rebalance asks of a repair: the view repaired is the object's new placement, whose new
// units lack their pillars.
struct RepairPlan {
  net::Cluster* read_from = nullptr;      // decode from these units (the old placement)
  std::optional<wire::Manifest> publish;  // the manifest with the new placement: to every unit
  bool verify = true;                     // units re-check their slices' CRCs (stat verify)
};

// Repairs `name` on `cluster`, a view whose unit i holds pillar i (client/find.h).
// kNotFound when the object does not exist; kUnavailable / kCorruption when it cannot be read.
Result<RepairReport> RepairObject(net::Cluster& cluster, const std::string& name,
                                  const Thresholds& t, const RepairPlan& plan = {});

}  // namespace dstk::client
