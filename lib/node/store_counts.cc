#include "node/store_counts.h"

#include "node/claim_rules.h"

namespace dstk::node {

StoreCounts CountStore(const store::SliceStore& store, int64_t now_ms) {
  const wire::UnitInfo info = store.Info();
  StoreCounts counts{info.objects, info.slices, info.bytes_used, 0};
  // A lease is held on a pending function, and List walks exactly the names that are not
  // finished functions.
  constexpr size_t kPage = 4096;
  std::string after;
  for (;;) {
    store::ListPage page = store.List("", after, kPage, SIZE_MAX);
    for (const auto& e : page.entries) {
      const store::ClaimState* claim = store.Claim(e.name);
      if (claim != nullptr && ViewOf(*claim, now_ms).lease_live) ++counts.leases;
    }
    if (!page.more || page.entries.empty()) break;
    after = page.entries.back().name;
  }
  return counts;
}

}  // namespace dstk::node
