// Rebalance: move the slices whose placement changed after units were added, marked leaving,
// or removed from the node list, and nothing else.
//
// For each object (functions excepted: their claim state lives on their units, and they are
// consumed where they are), the target is its placement on the current list (placement.h).
// A pillar whose unit is still among the target units stays; every other pillar moves to a
// target unit that holds none, so an object moves exactly as many slices as rendezvous hashing
// requires. A move keeps the put rules:
//
//   1. the moved pillars are rebuilt (from any k slices) and written to their new units;
//   2. the manifest naming the new placement (its generation `pgen` one higher) is published
//      to every unit of the new placement;
//   3. only then is the object dropped from the units it left (del_slice with `moved`).
//
// A crash between any two steps leaves every object readable: until step 3 the old units still
// hold their slices, and a reader takes the manifest with the highest generation it sees. A
// second run finds nothing to move and only finishes what a crash left (manifests not yet
// updated, old copies not yet dropped).
//
// Units that do not answer a first stat round are left out for the whole run: a pillar on one
// of them that must move is rebuilt from the others, and its old copy is dropped by a later run
// once the unit is back.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "client/options.h"
#include "net/cluster.h"
#include "util/status.h"

namespace dstk::client {

struct RebalanceOptions {
  Thresholds t;  // k and w of the operations; each object keeps its own k and n
  // Repair mode: move only pillars whose unit is gone from the node list (a replaced disk),
  // to the best placed units that hold none; the placement of the rest is left alone.
  bool only_gone = false;
};

struct RebalanceReport {
  size_t objects = 0;                 // objects looked at
  size_t objects_moved = 0;           // objects with at least one pillar moved
  size_t slices_moved = 0;            // pillars written to a new unit (each counts once)
  size_t minimum = 0;                 // pillars whose unit is not in their target placement
  size_t dropped = 0;                 // units an object was dropped from after it moved
  size_t republished = 0;             // manifests updated without a move (finishing a crashed run)
  std::vector<std::string> failures;  // per object: "NAME: why"
};

// Rebalances one object. `live` are the network units that answered the run's first round.
Status RebalanceObject(net::Cluster& network, const std::vector<size_t>& live,
                       const std::string& name, const RebalanceOptions& o, RebalanceReport& report);

// Rebalances every object under `prefix` ("" for all). `progress` gets objects done and total.
Result<RebalanceReport> Rebalance(net::Cluster& network, const std::string& prefix,
                                  const RebalanceOptions& o, const ProgressSink& progress = {});

// The network units that answer a stat round now; kInvalidArgument when two entries of the
// list answered with one unit id (one unit listed twice).
Result<std::vector<size_t>> LiveUnits(net::Cluster& network);

}  // namespace dstk::client
