// Revision numbers: microseconds since the epoch shifted left 12 bits, plus 12 random bits, and
// never below `at_least`. Larger is newer. Two writers of one object would need the same
// microsecond and the same 12 random bits to collide; a writer that sees a newer committed
// revision than its clock gives (a skewed clock) goes past it.
//
// In wire because a revision is a field of the protocol (slice headers, manifests, records)
// that every writer makes the same way: the network client's puts and removals and the offline
// `dsenc split` (lib/stream), which must not link the network to get one.
#pragma once

#include <cstdint>

namespace dstk::wire {

uint64_t NewRevision(uint64_t at_least);

}  // namespace dstk::wire
