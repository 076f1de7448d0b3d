// Scrubbing an object: every slice of a revision read from every unit that holds it and
// checked by the client against the manifest (its CRC, then its digest), as `dsenc stat` does.
// A unit's own `verify` only proves its disk kept what it was sent; a unit that lies passes
// that, and is caught here by the digests (client/integrity.h).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "net/cluster.h"
#include "wire/message.h"

namespace dstk::client {

struct ScrubResult {
  uint32_t good = 0;  // slices that passed every check
  uint32_t bad = 0;   // slices whose CRC failed (damage)
  uint32_t lied = 0;  // slices with a valid CRC that do not match the manifest's digest
  uint32_t lost = 0;  // slices the unit did not serve (missing, refused, no reply)
};

// One result per unit of `cluster` (a view: unit i holds pillar i); units not in `units` are
// left zero. Reads one segment at a time from all of them at once.
std::vector<ScrubResult> ScrubObject(net::Cluster& cluster, const std::string& name,
                                     const wire::Manifest& m, const std::vector<size_t>& units);

}  // namespace dstk::client
