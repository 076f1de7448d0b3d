// Unit tests of the unit's metrics (node/metrics.h): a Service given a UnitMetrics counts each
// request by op and status, refused claim ops by op and reason, and the store's gauges after
// its idle work; every series exists at zero from the start; and --metrics addresses are
// parsed loopback-first and refused with a reason (tools/common/metrics_http.h).
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <catch2/catch.hpp>
#include <span>
#include <string>

#include "metrics_http.h"
#include "node/metrics.h"
#include "node/service.h"
#include "store/slice_store.h"
#include "temp_dir.h"
#include "wire/message.h"

namespace {

// The registry in the text format Prometheus scrapes.
std::string Scrape(prometheus::Registry& registry) {
  return prometheus::TextSerializer().Serialize(registry.Collect());
}

dstk::node::Outgoing Send(dstk::node::Service& service, const dstk::wire::Request& r) {
  const std::string header = dstk::wire::EncodeRequest(r);
  return service.Handle({reinterpret_cast<const uint8_t*>(header.data()), header.size()}, {},
                        false);
}

}  // namespace

TEST_CASE("metrics: requests, claim refusals and store gauges are counted", "[server]") {
  dstk::test::TempDir dir("dstk-metrics");
  auto store = dstk::store::SliceStore::Open(dir.path());
  REQUIRE(store.ok());
  prometheus::Registry registry;
  dstk::node::UnitMetrics metrics(registry, (*store)->unit_id());
  const std::string unit = "unit_id=\"" + (*store)->unit_id() + "\"";
  // Every series is there before the first request, at zero.
  std::string text = Scrape(registry);
  CHECK(text.find("dstk_unit_requests_total{" + unit + ",op=\"commit\",status=\"locked\"} 0") !=
        std::string::npos);
  CHECK(text.find("dstk_unit_claim_refusals_total{" + unit +
                  ",op=\"renew\",reason=\"conflict\"} 0") != std::string::npos);

  dstk::node::Service service(
      **store, [](dstk::node::LogLevel, const std::string&) {}, "test", &metrics);
  dstk::wire::Request stat;
  stat.op = dstk::wire::Op::kStat;
  stat.name = "nothing";
  Send(service, stat);
  dstk::wire::Request lock;
  lock.op = dstk::wire::Op::kLockReadDelete;
  lock.name = "q/000661c6222b4ee3-51574cef";  // a queue key that holds no function
  lock.ballot = {1, 7};
  lock.lease_ms = 1000;
  Send(service, lock);
  lock.name = "no-function";  // no queue key at all: refused before the store is asked
  Send(service, lock);
  const std::string junk = "not msgpack";
  service.Handle({reinterpret_cast<const uint8_t*>(junk.data()), junk.size()}, {}, false);
  REQUIRE(service.Sync().ok());
  service.Idle();

  text = Scrape(registry);
  CHECK(text.find("dstk_unit_requests_total{" + unit + ",op=\"stat\",status=\"not_found\"} 1") !=
        std::string::npos);
  CHECK(text.find("dstk_unit_requests_total{" + unit +
                  ",op=\"unknown\",status=\"bad_request\"} 1") != std::string::npos);
  CHECK(text.find("dstk_unit_claim_refusals_total{" + unit +
                  ",op=\"lock_read_delete\",reason=\"not_found\"} 1") != std::string::npos);
  CHECK(text.find("dstk_unit_claim_refusals_total{" + unit +
                  ",op=\"lock_read_delete\",reason=\"bad_request\"} 1") != std::string::npos);
  CHECK(text.find("dstk_unit_claim_promises_total{" + unit + "} 0") != std::string::npos);
  CHECK(text.find("dstk_unit_request_duration_seconds_count{" + unit + ",op=\"stat\"} 1") !=
        std::string::npos);
  CHECK(text.find("dstk_unit_objects{" + unit + "} 0") != std::string::npos);
}

TEST_CASE("metrics: --metrics addresses bind loopback unless told otherwise", "[server]") {
  using dstk::tools::ParseMetricsAddress;
  CHECK(*ParseMetricsAddress("9464") == "127.0.0.1:9464");
  CHECK(*ParseMetricsAddress(":9464") == "127.0.0.1:9464");
  CHECK(*ParseMetricsAddress("0.0.0.0:1") == "0.0.0.0:1");
  CHECK(*ParseMetricsAddress("[::1]:65535") == "[::1]:65535");
  for (const char* bad : {"", "0", "65536", "x", "9464x", "localhost:9464", "1.2.3:80", "::1:80",
                          "[]:80", "127.0.0.1:", "-1"}) {
    INFO(bad);
    auto parsed = ParseMetricsAddress(bad);
    REQUIRE_FALSE(parsed.ok());
    CHECK(parsed.status().code() == dstk::Code::kInvalidArgument);
  }
}
