// Placement (client/placement.h) and the node list's unit attributes (net/node_list.h):
// rendezvous ranking, the domain cap, minimal movement when a unit joins, leaving units, the
// whole-list case, and queue keys placed by their queue.
#include "client/placement.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdio>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "net/cluster.h"
#include "net/node_list.h"

using dstk::net::Cluster;
using namespace dstk::client;

namespace {

std::string IdOf(size_t i) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016zx", 0x5eed00000000 + i * 7919);
  return buf;
}

// A network of `units` units (no sockets are opened: nothing is sent) in `domains` domains.
std::vector<std::string> ListOf(size_t units, size_t domains, size_t leaving = SIZE_MAX) {
  std::vector<std::string> lines;
  for (size_t i = 0; i < units; ++i) {
    std::string line = "tcp://127.0.0.1:" + std::to_string(20000 + i) + " id=" + IdOf(i);
    if (domains > 0) line += " domain=d" + std::to_string(i % domains);
    if (i == leaving) line += " leaving";
    lines.push_back(line);
  }
  return lines;
}

std::set<std::string> IdsPlaced(const Cluster& network, const std::string& key, size_t n) {
  auto units = Place(network, key, n);
  REQUIRE(units.ok());
  std::set<std::string> ids;
  for (size_t u : *units) ids.insert(network.Entry(u).id);
  REQUIRE(ids.size() == n);  // n distinct units
  return ids;
}

}  // namespace

TEST_CASE("node list lines carry id=, domain= and leaving, and refuse what is malformed", "[net]") {
  auto e = dstk::net::ParseNodeEntry("127.0.0.1:7100 id=00112233aabbccdd domain=rack-2 leaving");
  REQUIRE(e.ok());
  CHECK(e->endpoint == "tcp://127.0.0.1:7100");
  CHECK(e->id == "00112233aabbccdd");
  CHECK(e->domain == "rack-2");
  CHECK(e->leaving);
  CHECK(e->ToLine() == "tcp://127.0.0.1:7100 id=00112233aabbccdd domain=rack-2 leaving");
  for (const char* bad :
       {"127.0.0.1:7100 id=123", "127.0.0.1:7100 id=00112233AABBCCDD",
        "127.0.0.1:7100 id=00112233aabbccdd id=00112233aabbccde",
        "127.0.0.1:7100 domain=", "127.0.0.1:7100 domain=a=b", "127.0.0.1:7100 leaving leaving",
        "127.0.0.1:7100 lieving", "127.0.0.1:7100 domain=x domain=y"}) {
    INFO(bad);
    CHECK(dstk::net::ParseNodeEntry(bad).status().code() == dstk::Code::kInvalidArgument);
  }
  // DSTK_NODES items take the same form, comma-separated.
  auto items = dstk::net::ParseNodeEntries(
      "127.0.0.1:7100 id=00112233aabbccdd domain=h1, 127.0.0.1:7101 domain=h2 leaving", ',');
  REQUIRE(items.ok());
  REQUIRE(items->size() == 2);
  CHECK((*items)[0].domain == "h1");
  CHECK((*items)[1].id.empty());
  CHECK((*items)[1].leaving);
  auto twice = dstk::net::ParseNodeList(
      "127.0.0.1:7100 id=00112233aabbccdd\n127.0.0.1:7101 id=00112233aabbccdd\n", '\n');
  REQUIRE(!twice.ok());
  CHECK(twice.status().message().find("line 2") != std::string::npos);
}

TEST_CASE("placement is deterministic, spreads evenly and caps each domain", "[net]") {
  Cluster network(ListOf(24, 4), std::chrono::milliseconds(100));
  std::map<std::string, size_t> per_unit;
  for (int o = 0; o < 600; ++o) {
    const std::string key = "data/obj" + std::to_string(o);
    auto a = Place(network, key, 6);
    auto b = Place(network, key, 6);
    REQUIRE(a.ok());
    REQUIRE(*a == *b);
    std::map<std::string, size_t> per_domain;
    for (size_t u : *a) {
      ++per_domain[network.Entry(u).domain];
      ++per_unit[network.Entry(u).id];
    }
    for (const auto& [domain, count] : per_domain) CHECK(count <= 2);  // ceil(6 / 4)
  }
  REQUIRE(per_unit.size() == 24);
  for (const auto& [id, count] : per_unit) {
    CHECK(count > 105);  // 70% of the mean, 600 * 6 / 24 = 150
    CHECK(count < 195);  // 130%
  }
}

TEST_CASE("a unit that joins takes only the pillars rendezvous gives it", "[net]") {
  Cluster before(ListOf(24, 0), std::chrono::milliseconds(100));
  Cluster after(ListOf(25, 0), std::chrono::milliseconds(100));
  const std::string joined = IdOf(24);
  size_t moved = 0;
  for (int o = 0; o < 500; ++o) {
    const std::string key = std::string("k").append(std::to_string(o));  // (GCC 12 -Wrestrict)
    auto old_ids = IdsPlaced(before, key, 6);
    auto new_ids = IdsPlaced(after, key, 6);
    std::vector<std::string> gained;
    std::set_difference(new_ids.begin(), new_ids.end(), old_ids.begin(), old_ids.end(),
                        std::back_inserter(gained));
    // At most one unit changes, and only for the newcomer.
    REQUIRE(gained.size() <= 1);
    if (!gained.empty()) CHECK(gained[0] == joined);
    moved += gained.size();
  }
  // About n/N of the objects (6/25 of 500 = 120) gain the new unit.
  CHECK(moved > 80);
  CHECK(moved < 160);
}

TEST_CASE("leaving units get nothing; the whole list keeps line order", "[net]") {
  Cluster draining(ListOf(8, 0, /*leaving=*/3), std::chrono::milliseconds(100));
  for (int o = 0; o < 100; ++o) {
    auto units = Place(draining, std::string("o").append(std::to_string(o)), 6);
    REQUIRE(units.ok());
    CHECK(std::find(units->begin(), units->end(), 3) == units->end());
  }
  CHECK(Place(draining, "x", 8).status().code() == dstk::Code::kInvalidArgument);
  Cluster six(ListOf(6, 0), std::chrono::milliseconds(100));
  auto all = Place(six, "anything", 6);
  REQUIRE(all.ok());
  CHECK(*all == std::vector<size_t>{0, 1, 2, 3, 4, 5});
  CHECK(DefaultWidth(6) == 6);
  CHECK(DefaultWidth(48) == 8);
}

TEST_CASE("queue keys are placed by their queue, other names by themselves", "[net]") {
  CHECK(PlacementKey("jobs/0000018c2f3a4b5c-0a1b2c3d") == "jobs");
  CHECK(PlacementKey("a/b/jobs.failed/0000018c2f3a4b5c-0a1b2c3d") == "a/b/jobs.failed");
  CHECK(PlacementKey("photos/2024/0000018c2f3a4b5c-0a1b2c3X") ==
        "photos/2024/0000018c2f3a4b5c-0a1b2c3X");
  CHECK(PlacementKey("0000018c2f3a4b5c-0a1b2c3d") == "0000018c2f3a4b5c-0a1b2c3d");
  CHECK(PlacementKey("data/obj1") == "data/obj1");
}
