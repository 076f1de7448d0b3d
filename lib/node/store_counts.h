// What the store holds, counted for the unit's gauges (objects, slices, bytes, leases held).
// Counting walks the whole index, so Service does it from its idle work, at most once a second
// and rarer on a large store (node/service.h), never from the exposer's threads: SliceStore is
// not thread-safe.
#pragma once

#include <cstdint>

#include "node/metrics.h"
#include "store/slice_store.h"

namespace dstk::node {

StoreCounts CountStore(const store::SliceStore& store, int64_t now_ms);

}  // namespace dstk::node
