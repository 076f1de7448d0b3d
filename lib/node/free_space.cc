#include "node/free_space.h"

#include <prometheus/client_metric.h>
#include <sys/statvfs.h>

namespace dstk::node {
namespace {

prometheus::MetricFamily Gauge(const char* name, const char* help) {
  prometheus::MetricFamily family;
  family.name = name;
  family.help = help;
  family.type = prometheus::MetricType::Gauge;
  return family;
}

void Sample(prometheus::MetricFamily& family, const std::string& unit_id, uint64_t value) {
  prometheus::ClientMetric m;
  m.label.push_back({"unit_id", unit_id});
  m.gauge.value = static_cast<double>(value);
  family.metric.push_back(std::move(m));
}

}  // namespace

std::vector<prometheus::MetricFamily> FreeSpaceCollectable::Collect() const {
  auto free = Gauge("dstk_unit_free_bytes",
                    "Bytes free for slices on the file system of the unit's directory");
  auto size = Gauge("dstk_unit_filesystem_size_bytes",
                    "Size of the file system of the unit's directory, in bytes");
  struct statvfs vfs {};
  if (::statvfs(dir_.c_str(), &vfs) == 0) {
    Sample(free, unit_id_, uint64_t{vfs.f_bavail} * vfs.f_frsize);
    Sample(size, unit_id_, uint64_t{vfs.f_blocks} * vfs.f_frsize);
  }
  return {std::move(free), std::move(size)};
}

}  // namespace dstk::node
