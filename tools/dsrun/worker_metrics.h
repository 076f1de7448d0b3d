// What dsrun tells Prometheus (dsrun --metrics; listed in man dsrun, METRICS): functions run
// by outcome, and how long they ran. Every series is made up front, so counting a run is an
// array index and an atomic add, from any of the --jobs threads.
//
// No per-worker constant label: Prometheus's own `instance` label (the scrape address) already
// tells workers apart, and dsrun's default worker name (host:pid) would start new series at
// every restart.
#pragma once

#include <prometheus/counter.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <array>
#include <string>

namespace dstk::tools {

class WorkerMetrics {
 public:
  explicit WorkerMetrics(prometheus::Registry& registry);
  // One claim handled: its RunReport outcome (done, failed, requeued, dead-lettered, lease-lost,
  // fenced) and how long it ran.
  void Ran(const std::string& outcome, double seconds);
  // A claim that could not be handled at all (units unreachable): outcome "error".
  void Errored();

 private:
  static constexpr std::array<const char*, 7> kOutcomes = {
      "done", "failed", "requeued", "dead-lettered", "lease-lost", "fenced", "error"};
  prometheus::Counter& Outcome(const std::string& outcome);

  std::array<prometheus::Counter*, kOutcomes.size()> runs_{};
  prometheus::Histogram& run_seconds_;
};

}  // namespace dstk::tools
