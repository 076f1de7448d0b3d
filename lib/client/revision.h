// Revision numbers: microseconds since the epoch shifted left 12 bits, plus 12 random bits, and
// never below `at_least`. Larger is newer. Two writers of one object would need the same
// microsecond and the same 12 random bits to collide; a writer that sees a newer committed
// revision than its clock gives (a skewed clock) goes past it.
#pragma once

#include <cstdint>

namespace dstk::client {

uint64_t NewRevision(uint64_t at_least);

}  // namespace dstk::client
