// lib/client pieces that need no unit: the thresholds' defaults and checks (client/options.h),
// new revision numbers (wire/revision.h, used by every client write), and when refusals as
// forbidden decide a failure (client/refusals.h).
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdint>
#include <optional>
#include <set>
#include <string>

#include "client/options.h"
#include "client/refusals.h"
#include "wire/revision.h"

namespace {

using dstk::Code;
using dstk::client::ResolveThresholds;

uint64_t NowMicros() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

}  // namespace

TEST_CASE("thresholds: defaults follow n", "[client]") {
  struct Want {
    uint32_t n, k, w;
  };
  // k = max(1, n-2); w = k+1 when k < n, else n.
  for (const Want& want : {Want{1, 1, 1}, Want{2, 1, 2}, Want{3, 1, 2}, Want{4, 2, 3},
                           Want{5, 3, 4}, Want{12, 10, 11}}) {
    INFO("n=" << want.n);
    auto t = ResolveThresholds(want.n, std::nullopt, std::nullopt);
    REQUIRE(t.ok());
    CHECK(t->n == want.n);
    CHECK(t->k == want.k);
    CHECK(t->w == want.w);
  }
  // A k given moves the default w with it; k = n leaves w = n.
  auto k4 = ResolveThresholds(6, 4, std::nullopt);
  REQUIRE(k4.ok());
  CHECK(k4->w == 5);
  auto all = ResolveThresholds(6, 6, std::nullopt);
  REQUIRE(all.ok());
  CHECK(all->w == 6);
  auto given = ResolveThresholds(6, 2, 6);
  REQUIRE(given.ok());
  CHECK(given->k == 2);
  CHECK(given->w == 6);
}

TEST_CASE("thresholds: out of range k or w is refused, naming the flag", "[client]") {
  struct Bad {
    uint32_t n;
    std::optional<uint32_t> k, w;
    const char* says;
  };
  for (const Bad& bad :
       {Bad{5, 0, std::nullopt, "-k 0"}, Bad{5, 6, std::nullopt, "-k 6"}, Bad{5, 3, 2, "-w 2"},
        Bad{5, 3, 6, "-w 6"}, Bad{0, std::nullopt, std::nullopt, "-k 1"}, Bad{4, 4, 3, "-w 3"}}) {
    INFO("n=" << bad.n << " says " << bad.says);
    auto t = ResolveThresholds(bad.n, bad.k, bad.w);
    REQUIRE_FALSE(t.ok());
    CHECK(t.status().code() == Code::kInvalidArgument);
    CHECK(t.status().message().find(bad.says) != std::string::npos);
    CHECK(t.status().message().find("out of range") != std::string::npos);
  }
}

TEST_CASE("revisions: clock-based, above what was seen, and distinct", "[client]") {
  const uint64_t before = NowMicros();
  const uint64_t rev = dstk::wire::NewRevision(0);
  const uint64_t after = NowMicros();
  // Microseconds in the high bits, 12 random bits below.
  CHECK(rev >> 12 >= before);
  CHECK(rev >> 12 <= after);

  // A committed revision ahead of the clock (a skewed writer) is passed, never repeated.
  const uint64_t ahead = (after + 3'600'000'000ull) << 12;
  for (int i = 0; i < 100; ++i) {
    const uint64_t next = dstk::wire::NewRevision(ahead);
    CHECK(next >= ahead);
    CHECK(next < ahead + 4096);
  }
  // Back to back, writers get different revisions (the random low bits).
  std::set<uint64_t> seen;
  for (int i = 0; i < 64; ++i) seen.insert(dstk::wire::NewRevision(0));
  CHECK(seen.size() > 56);
}

TEST_CASE("refusals: forbidden decides only when it alone puts the threshold out of reach",
          "[client]") {
  using dstk::client::Decided;
  using dstk::client::ForbiddenDecides;
  CHECK_FALSE(ForbiddenDecides(0, 5, 3));  // no refusal at all: an outage
  CHECK_FALSE(ForbiddenDecides(2, 5, 3));  // 3 others could still have made w = 3
  CHECK(ForbiddenDecides(3, 5, 3));        // only 2 left for 3 needed
  CHECK(ForbiddenDecides(5, 5, 1));
  CHECK(ForbiddenDecides(9, 5, 1));  // more refusals than units: still decided, no underflow

  const dstk::Status down = dstk::Status::Unavailable("put a: 2 of 5 units stored it, w=3");
  const dstk::Status by_key = Decided(down, 3, 5, 3);
  CHECK(by_key.code() == Code::kForbidden);
  CHECK(by_key.message() == down.message());  // the same story, another exit code
  CHECK(Decided(down, 2, 5, 3).code() == Code::kUnavailable);
  CHECK(Decided(down, 0, 5, 3).code() == Code::kUnavailable);
  CHECK(Decided(dstk::Status::Ok(), 5, 5, 3).ok());  // a success stays one
}
