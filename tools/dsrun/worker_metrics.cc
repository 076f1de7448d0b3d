#include "worker_metrics.h"

namespace dstk::tools {

WorkerMetrics::WorkerMetrics(prometheus::Registry& registry)
    : run_seconds_(prometheus::BuildHistogram()
                       .Name("dstk_worker_run_duration_seconds")
                       .Help("Wall-clock time of one claimed function's run, inputs to output")
                       .Register(registry)
                       // 10 ms (a tiny shell command) to an hour (--default-timeout is 600 s).
                       .Add({}, prometheus::Histogram::BucketBoundaries{
                                    0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120,
                                    300, 600, 1800, 3600})) {
  auto& runs = prometheus::BuildCounter()
                   .Name("dstk_worker_runs_total")
                   .Help(
                       "Claimed functions handled, by outcome (error: the units were not "
                       "reachable, the claim is left to its lease or quorum)")
                   .Register(registry);
  for (size_t i = 0; i < kOutcomes.size(); ++i) runs_[i] = &runs.Add({{"outcome", kOutcomes[i]}});
}

prometheus::Counter& WorkerMetrics::Outcome(const std::string& outcome) {
  for (size_t i = 0; i < kOutcomes.size(); ++i) {
    if (outcome == kOutcomes[i]) return *runs_[i];
  }
  return *runs_.back();  // an outcome this build does not know of: counted as an error
}

void WorkerMetrics::Ran(const std::string& outcome, double seconds) {
  Outcome(outcome).Increment();
  run_seconds_.Observe(seconds);
}

void WorkerMetrics::Errored() {
  runs_.back()->Increment();
}

}  // namespace dstk::tools
