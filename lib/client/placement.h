// Placement: which units of a network hold an object, when the node list is longer than an
// object is wide.
//
// An object of width n lives on n units chosen by rendezvous (highest random weight) hashing:
// every unit gets the score SipHash(placement key, unit id) and the object goes to the n units
// with the highest scores, pillar i on the i-th. Adding or removing a unit changes only the
// objects for which that unit is (or was) among the top n, and of those only one pillar each:
// the least movement any placement can have, with no table to keep and nothing to coordinate.
//
// Failure domains: no domain gets more than ceil(n / D) pillars of one object, D being the
// number of domains in the list (a unit without domain= is a domain of its own). Where the
// domains are too few or too small for that (D * largest domain < n), the remaining pillars go
// to the best-scored units left, so every object still gets n distinct units; losing a domain
// may then cost an object more than ceil(n / D) slices.
//
// Units marked `leaving` get nothing new. Units whose id is unknown (the line gave none and the
// unit never answered) cannot be ranked and get nothing either.
//
// When n equals the number of units that can be placed on and none is leaving, every unit holds
// one pillar and the list order is kept (pillar i on line i): a network whose objects span
// the whole list works as it did before placement existed, ids or not.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "net/cluster.h"
#include "util/status.h"

namespace dstk::client {

// The default width for a network of `units` units: all of them up to 8, then 8. With the
// default k = n-2, an object survives any two units, and with four or more domains of equal
// size any one whole domain (8 / 4 = 2 slices a domain).
inline constexpr uint32_t kDefaultMaxWidth = 8;
uint32_t DefaultWidth(size_t units);

// What an object is placed by: its name, except for a queue key ("QUEUE/<16 hex>-<8 hex>",
// claim::KeyGenerator), which is placed by its queue, so that all functions of a queue live on
// the same n units and claim quorums stay n wide.
std::string PlacementKey(const std::string& name);

// The rendezvous score of a unit for a placement key (the higher, the earlier it is chosen).
uint64_t PlacementScore(const std::string& key, const std::string& unit_id);

// The network units (node list indices) for pillars 0..n-1 of an object placed by `key`.
// kInvalidArgument when fewer than n units can be placed on.
Result<std::vector<size_t>> Place(const net::Cluster& network, const std::string& key, size_t n);

// The ids of a view's units in order (a manifest's placement), or none when one is unknown:
// the manifest then says "pillar i on line i", as before placement existed.
std::vector<std::string> PlacementIds(const net::Cluster& view);

// The network units holding pillars 0..n-1 of a revision (Cluster::kNoUnit for a unit no longer
// in the list): by the manifest's placement, or lines 0..n-1 for a manifest without one. A
// whole-list object's pillar whose id matches no unit stays on its line, unless the unit there
// holds another pillar: a replaced disk keeps its place, and repair refills it.
std::vector<size_t> UnitsOf(const net::Cluster& network, const wire::Manifest& m);

// Asks every unit whose line gave no id for it (one stat round to those units only) and records
// the answers in `network`. Units that do not answer stay unknown; placement then leaves them
// out. Needed before Place when n is less than the list's length.
void LearnUnitIds(net::Cluster& network);

}  // namespace dstk::client
