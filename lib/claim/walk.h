// Where a walker that shares the queue takes its next keys (internal to lib/claim; used by the
// walk of Claimer::Next and NextBatch, claimer_walk.cc, docs/claim.md "Walkers share the queue").
//
// Walkers that list the same queue see the same keys in the same order; if each took the first
// free batch, every walker but one would lose it, and then trail the winner into the next one.
// So a walker that meets others splits the queue into lanes by a hash of the key's name and
// takes the first free keys of one lane: walkers in different lanes never ask for the same key,
// however different (or stale) their listings are. A walker's lane comes from its claimer id and
// moves whenever a batch of it meets another walker, so walkers that share a lane part again,
// and to the lane with the most free keys when its own runs thin, so that lanes nobody serves
// (fewer walkers than lanes) are still taken in turn and the walk stays near queue order.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "wire/message.h"
#include "wire/name.h"

namespace dstk::claim {

struct LanePick {
  std::vector<size_t> keys;  // indexes into the window, in queue order
  size_t lane = 0;           // the lane they come from
  size_t held = 0;           // keys of the window that another claimer's live lock holds
};

// Picks up to `want` keys of `window` (a listing in queue order of functions on `n` units) for
// the walker whose lane is `lane` (< lanes). Keys a live lock holds are left out (another
// walker's batch in flight). The lane's free keys come first, then its keys that fewer than a
// quorum still list (consumed on the others, to be taught). When the lane has fewer than want/2
// such keys or a key of it is held, the lane with the most of those that has no key held in the
// window is taken
// instead, if it has more (the first one after `lane` among equals); a lane with held keys (where
// another walker works) only when the walker's own lane has none. Empty when no key of the
// window is free of a live lock.
LanePick PickLane(const std::vector<wire::ListEntry>& window, size_t n, size_t want, size_t lanes,
                  size_t lane);

}  // namespace dstk::claim
