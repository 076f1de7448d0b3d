#include "node/metrics.h"

namespace dstk::node {
namespace {

using prometheus::Labels;

// 100 us (a read from the page cache) to 10 s (a flush on a disk in trouble).
prometheus::Histogram::BucketBoundaries LatencyBuckets() {
  return {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
          0.05,   0.1,     0.25,   0.5,   1,      2.5,   5,    10};
}

const char* OpLabel(size_t i, size_t unknown) {
  return i == unknown ? "unknown" : wire::OpName(static_cast<wire::Op>(i));
}

template <typename Builder>
auto& Family(Builder&& b, const char* name, const char* help, const Labels& unit,
             prometheus::Registry& registry) {
  return b.Name(name).Help(help).Labels(unit).Register(registry);
}

// One unlabelled counter or gauge of this unit (its family holds just the one).
prometheus::Counter& UnitCounter(prometheus::Registry& registry, const std::string& unit_id,
                                 const char* name, const char* help) {
  return Family(prometheus::BuildCounter(), name, help, {{"unit_id", unit_id}}, registry).Add({});
}
prometheus::Gauge& UnitGauge(prometheus::Registry& registry, const std::string& unit_id,
                             const char* name, const char* help) {
  return Family(prometheus::BuildGauge(), name, help, {{"unit_id", unit_id}}, registry).Add({});
}

}  // namespace

UnitMetrics::UnitMetrics(prometheus::Registry& registry, const std::string& unit_id)
    : received_bytes_(UnitCounter(registry, unit_id, "dstk_unit_received_bytes_total",
                                  "Bytes of request frames received")),
      sent_bytes_(UnitCounter(registry, unit_id, "dstk_unit_sent_bytes_total",
                              "Bytes of reply frames sent")),
      busy_(
          UnitCounter(registry, unit_id, "dstk_unit_busy_replies_total",
                      "Requests answered busy: the client had --max-inflight requests in flight")),
      clients_(UnitGauge(registry, unit_id, "dstk_unit_clients_connected",
                         "Client connections open on the unit's socket")),
      connections_(UnitCounter(registry, unit_id, "dstk_unit_client_connections_total",
                               "Client connections accepted on the unit's socket")),
      promises_(UnitCounter(registry, unit_id, "dstk_unit_claim_promises_total",
                            "Claim locks granted (lock_read_delete answered ok, per function)")),
      commits_(UnitCounter(registry, unit_id, "dstk_unit_claim_commits_total",
                           "Claim commits accepted (per function)")),
      corrupt_(UnitCounter(registry, unit_id, "dstk_unit_corrupt_slices_total",
                           "Slices found corrupt (bad CRC) and moved aside as .corrupt")),
      objects_(UnitGauge(registry, unit_id, "dstk_unit_objects",
                         "Objects with a committed revision here (tombstones not counted)")),
      slices_(UnitGauge(registry, unit_id, "dstk_unit_slices", "Slices stored here")),
      bytes_stored_(
          UnitGauge(registry, unit_id, "dstk_unit_stored_bytes", "Bytes of slices stored here")),
      leases_(UnitGauge(registry, unit_id, "dstk_unit_claim_leases",
                        "Functions under a live lease held by their owner here (lease mode)")) {
  const Labels unit{{"unit_id", unit_id}};
  auto& requests = Family(prometheus::BuildCounter(), "dstk_unit_requests_total",
                          "Requests answered, by op and reply status", unit, registry);
  auto& request_seconds = Family(
      prometheus::BuildHistogram(), "dstk_unit_request_duration_seconds",
      "Time the unit spent on a request, without the wait for its group's flush", unit, registry);
  const size_t unknown = kOps - 1;
  for (size_t op = 0; op < kOps; ++op) {
    for (size_t st = 0; st < kStatuses; ++st) {
      requests_[op][st] =
          &requests.Add({{"op", OpLabel(op, unknown)},
                         {"status", wire::ReplyStatusName(static_cast<wire::ReplyStatus>(st))}});
    }
    request_seconds_[op] = &request_seconds.Add({{"op", OpLabel(op, unknown)}}, LatencyBuckets());
  }
  auto& flush_seconds =
      Family(prometheus::BuildHistogram(), "dstk_unit_flush_duration_seconds",
             "One flush (fdatasync) ending a group of requests: staged slice files and packs, "
             "or the claim journal",
             unit, registry);
  flush_seconds_[static_cast<size_t>(FlushTarget::kFiles)] =
      &flush_seconds.Add({{"target", "files"}}, LatencyBuckets());
  flush_seconds_[static_cast<size_t>(FlushTarget::kClaims)] =
      &flush_seconds.Add({{"target", "claims"}}, LatencyBuckets());
  auto& refusals = Family(prometheus::BuildCounter(), "dstk_unit_claim_refusals_total",
                          "Claim ops refused, by op and reason (the reply status)", unit, registry);
  const size_t first_claim_op = static_cast<size_t>(wire::Op::kLockReadDelete);
  for (size_t op = 0; op < kClaimOps; ++op) {
    for (size_t st = 1; st < kStatuses; ++st) {  // every status but ok
      refusals_[op][st] =
          &refusals.Add({{"op", wire::OpName(static_cast<wire::Op>(first_claim_op + op))},
                         {"reason", wire::ReplyStatusName(static_cast<wire::ReplyStatus>(st))}});
    }
  }
}

void UnitMetrics::Request(std::optional<wire::Op> op, wire::ReplyStatus status, double seconds,
                          size_t bytes_in, size_t bytes_out) {
  const size_t o = op ? static_cast<size_t>(*op) : kOps - 1;
  requests_[o][static_cast<size_t>(status)]->Increment();
  request_seconds_[o]->Observe(seconds);
  received_bytes_.Increment(static_cast<double>(bytes_in));
  sent_bytes_.Increment(static_cast<double>(bytes_out));
}

void UnitMetrics::Flush(FlushTarget target, double seconds) {
  flush_seconds_[static_cast<size_t>(target)]->Observe(seconds);
}

void UnitMetrics::ClaimRefused(wire::Op op, wire::ReplyStatus reason) {
  const size_t first_claim_op = static_cast<size_t>(wire::Op::kLockReadDelete);
  const size_t o = static_cast<size_t>(op);
  if (reason == wire::ReplyStatus::kOk || o < first_claim_op || o - first_claim_op >= kClaimOps)
    return;
  refusals_[o - first_claim_op][static_cast<size_t>(reason)]->Increment();
}

void UnitMetrics::Store(const StoreCounts& counts) {
  objects_.Set(static_cast<double>(counts.objects));
  slices_.Set(static_cast<double>(counts.slices));
  bytes_stored_.Set(static_cast<double>(counts.bytes));
  leases_.Set(static_cast<double>(counts.leases));
}

}  // namespace dstk::node
