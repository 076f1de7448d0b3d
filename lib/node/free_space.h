// dstk_unit_free_bytes and dstk_unit_filesystem_size_bytes, read at scrape time: the space left
// for slices on the unit's file system (statvfs f_bavail, what an unprivileged writer may still
// use) and its size, so that an alert can say "under 10% free". Read when Prometheus
// asks rather than after each group of requests because other writers fill the disk too, and a
// unit with no traffic would otherwise report the free space it saw at its last write.
// statvfs on a path is safe from the exposer's threads; the store itself is not touched.
#pragma once

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

#include <string>
#include <vector>

namespace dstk::node {

class FreeSpaceCollectable : public prometheus::Collectable {
 public:
  FreeSpaceCollectable(std::string dir, std::string unit_id)
      : dir_(std::move(dir)), unit_id_(std::move(unit_id)) {}
  // Two gauges; no samples when statvfs fails (missing series, not made-up values).
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  std::string dir_;
  std::string unit_id_;
};

}  // namespace dstk::node
