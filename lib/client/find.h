// Finding an object on a network whose node list may be longer than the object is wide.
//
// A reader asks the units the object is placed on (client/placement.h) for the width it expects
// (the -n it was given, or the network's default). When they hold it, the manifest's placement
// says which unit holds each pillar; when that differs from the units asked (the object was
// written with another width or before the list changed, and not rebalanced yet), the units it
// names are asked. Only when the placed units hold no committed revision at all does the reader
// ask every unit of the list: a miss costs a round to the whole network, a hit about n units.
#pragma once

#include <cstdint>
#include <string>

#include "client/locate.h"
#include "client/object_io.h"
#include "net/cluster.h"
#include "util/status.h"

namespace dstk::client {

struct Found {
  // Unit i holds pillar i of the located revision (by its manifest); when nothing was found,
  // the units that were asked last.
  net::Cluster view;
  Location loc;  // Locate on `view`
};

// Locates `name` (see locate.h for `verify` and `early`), expecting width `width`.
Found FindObject(net::Cluster& network, const std::string& name, uint32_t width, bool verify,
                 bool early);

// The units a new revision of `name` of width n is written to, as a view in pillar order.
// kInvalidArgument when the network has fewer than n units to place on.
Result<net::Cluster> WriteView(net::Cluster& network, const std::string& name, uint32_t n);

// GetObject over a network: FindObject (with the width o.t.n), then the read from the units
// that hold the object.
Result<wire::Manifest> ReadObject(net::Cluster& network, const std::string& name, int fd,
                                  const GetOptions& o, const ProgressSink& progress = {});

}  // namespace dstk::client
