// client::PutSmallObjects (client/object_io.h) against units served in this process
// (served_units.h): objects that may exist already and new ones in one call, each read back
// from the units placed for it; an existing object goes past its revision, with no stat round
// unless a unit holds a newer revision than the clock gives; a fenced object is refused while
// the other of the call is stored; a silent unit costs no timeout.
#include <sys/mman.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <string>
#include <vector>

#include "client/find.h"
#include "client/locate.h"
#include "client/object_io.h"
#include "object_files.h"
#include "served_units.h"
#include "util/unique_fd.h"
#include "wire/revision.h"

namespace {

using dstk::Code;
using dstk::UniqueFd;
using dstk::client::NewObject;
using dstk::client::PutOptions;
using dstk::client::Thresholds;
using dstk::test::FileOf;
using dstk::test::Network;
using dstk::test::ReadBack;
using Clock = std::chrono::steady_clock;

NewObject Object(const std::string& name, const std::string& bytes, bool exists_maybe) {
  NewObject o;
  o.name = name;
  o.bytes = bytes;
  o.exists_maybe = exists_maybe;
  return o;
}

PutOptions Options(const Thresholds& t, uint64_t token = 0) {
  PutOptions o;
  o.t = t;
  o.token = token;
  o.pack = true;
  return o;
}

// Stores `output` as out/1 (which may exist) and "log" as q.log/1 (new) in one call; both must
// succeed.
void PutOutputAndLog(dstk::net::Cluster& c, const Thresholds& t, const std::string& output) {
  auto st = dstk::client::PutSmallObjects(
      c, {Object("out/1", output, true), Object("q.log/1", "log", false)}, Options(t));
  REQUIRE(st.size() == 2);
  CHECK(st[0].ok());
  CHECK(st[1].ok());
}

}  // namespace

TEST_CASE(
    "put small: an existing object and a new one in one call; the existing one goes past "
    "its revision",
    "[client]") {
  Network net("uuuu");
  auto c = net.Client();
  const Thresholds t{4, 2, 3};
  UniqueFd old = FileOf("the old output");
  auto first = dstk::client::PutObject(c, "out/1", old.get(), Options(t));
  REQUIRE(first.ok());

  auto st = dstk::client::PutSmallObjects(
      c, {Object("out/1", "the new output", true), Object("q.log/1", "{\"log\":1}", false)},
      Options(t));
  REQUIRE(st.size() == 2);
  CHECK(st[0].ok());
  CHECK(st[1].ok());
  uint64_t rev = 0;
  CHECK(ReadBack(c, "out/1", t, &rev) == "the new output");
  CHECK(rev > first->rev);
  CHECK(ReadBack(c, "q.log/1", t) == "{\"log\":1}");
}

TEST_CASE("put small: on a wider network each object goes to the units placed for it", "[client]") {
  Network net("uuuuuu");
  auto c = net.Client();
  const Thresholds t{3, 2, 3};
  // Two names whose placements differ (3 of 6 units each).
  const std::string a = "out/a";
  std::string b;
  auto va = dstk::client::WriteView(c, a, t.n);
  REQUIRE(va.ok());
  for (int i = 0; b.empty() && i < 100; ++i) {
    const std::string name = "log/" + std::to_string(i);
    auto vb = dstk::client::WriteView(c, name, t.n);
    REQUIRE(vb.ok());
    if (vb->members() != va->members()) b = name;
  }
  REQUIRE_FALSE(b.empty());

  auto st = dstk::client::PutSmallObjects(
      c, {Object(a, "output a", true), Object(b, "log b", false)}, Options(t));
  REQUIRE(st.size() == 2);
  CHECK(st[0].ok());
  CHECK(st[1].ok());
  CHECK(ReadBack(c, a, t) == "output a");
  CHECK(ReadBack(c, b, t) == "log b");
  // Each object's slices are on its own placement, pillar i on the view's unit i, and nowhere
  // else: the whole network's stat says which units hold it.
  for (const std::string& name : {a, b}) {
    auto placed = dstk::client::WriteView(c, name, t.n);
    REQUIRE(placed.ok());
    auto whole = c.Network();
    const dstk::client::Location loc = dstk::client::Locate(whole, name, false);
    REQUIRE(loc.manifest);
    for (size_t u = 0; u < whole.size(); ++u) {
      const auto& members = placed->members();
      const bool in = std::find(members.begin(), members.end(), u) != members.end();
      INFO(name << " unit " << u);
      CHECK(loc.units[u].committed.has_value() == in);
    }
    auto own = c.View(placed->members());
    const dstk::client::Location mine = dstk::client::Locate(own, name, false);
    for (size_t p = 0; p < own.size(); ++p) CHECK(mine.units[p].SlicesOf(mine.manifest->rev) == 1);
  }
}

TEST_CASE("put small: an object any unit fences is refused; the other is stored", "[client]") {
  Network net("uuu");
  auto c = net.Client();
  // A newer owner's output (token 10) reached unit 0 only: units 1 and 2 would take a stale
  // owner's write, and w = 2 of them would be enough to publish it if fencing were counted.
  const auto none = dstk::net::Cluster::kNoUnit;
  auto unit0 = c.View({0, none, none});
  UniqueFd newer = FileOf("the newer owner's output");
  REQUIRE(dstk::client::PutObject(unit0, "out/1", newer.get(), Options({3, 1, 1}, 10)).ok());

  const Thresholds t{3, 2, 2};
  auto st = dstk::client::PutSmallObjects(
      c, {Object("out/1", "a stale owner's output", true), Object("q.log/1", "log", false)},
      Options(t, 5));
  REQUIRE(st.size() == 2);
  CHECK(st[0].code() == Code::kFenced);
  CHECK(st[1].ok());
  CHECK(ReadBack(c, "q.log/1", t) == "log");
  // Nothing of the stale write was published: units 1 and 2 hold no committed revision.
  const dstk::client::Location loc = dstk::client::Locate(c, "out/1", false);
  CHECK_FALSE(loc.units[1].committed.has_value());
  CHECK_FALSE(loc.units[2].committed.has_value());
}

TEST_CASE("put small: a silent unit costs no timeout", "[client]") {
  Network net("uuus");
  auto c = net.Client(std::chrono::milliseconds(2000));
  const Thresholds t{4, 2, 3};
  const auto t0 = Clock::now();
  PutOutputAndLog(c, t, "output");
  const auto took = Clock::now() - t0;
  CHECK(took < c.timeout());
  CHECK(ReadBack(c, "out/1", t) == "output");
  CHECK(ReadBack(c, "q.log/1", t) == "log");

  // A run without output stores its log alone, a new name: the slice round's grace, not the
  // whole timeout, for the silent unit.
  const auto t1 = Clock::now();
  auto log = dstk::client::PutSmallObjects(c, {Object("q.log/2", "log 2", false)}, Options(t));
  REQUIRE(log.size() == 1);
  CHECK(log[0].ok());
  CHECK(Clock::now() - t1 < c.timeout() / 2);
  CHECK(ReadBack(c, "q.log/2", t) == "log 2");
}

TEST_CASE("put small: an object that may exist costs no stat round when the clock is ahead",
          "[client]") {
  Network net("llll");
  auto c = net.Client();
  const Thresholds t{4, 2, 3};
  UniqueFd old = FileOf("the old output");
  REQUIRE(dstk::client::PutObject(c, "out/1", old.get(), Options(t)).ok());
  const size_t stats = net.Served(dstk::wire::Op::kStat);
  PutOutputAndLog(c, t, "the new output");
  CHECK(net.Served(dstk::wire::Op::kStat) == stats);
  CHECK(ReadBack(c, "out/1", t) == "the new output");
}

TEST_CASE("put small: a committed revision ahead of the clock is gone past after a stat round",
          "[client]") {
  Network net("llll");
  auto c = net.Client();
  const Thresholds t{4, 2, 3};
  // A revision from a writer whose clock is far ahead (or a future one): the units refuse a
  // slice of an older revision, and the put finds the newer one and goes past it.
  NewObject future = Object("out/1", "from the future", false);
  future.at_least = dstk::wire::NewRevision(0) + (uint64_t{1} << 40);
  auto w = dstk::client::PutNewObjects(c, {future}, Options(t));
  REQUIRE(w.size() == 1);
  REQUIRE(w[0].ok());
  uint64_t future_rev = 0;
  REQUIRE(ReadBack(c, "out/1", t, &future_rev) == "from the future");
  REQUIRE(future_rev >= future.at_least);

  const size_t stats = net.Served(dstk::wire::Op::kStat);
  PutOutputAndLog(c, t, "the new output");
  CHECK(net.Served(dstk::wire::Op::kStat) > stats);  // the stat round of the second try
  uint64_t rev = 0;
  CHECK(ReadBack(c, "out/1", t, &rev) == "the new output");
  CHECK(rev > future_rev);
  CHECK(ReadBack(c, "q.log/1", t) == "log");

  // A name that must be new but is not (exists_maybe unset) is refused, not published below
  // the newer revision.
  auto again = dstk::client::PutSmallObjects(c, {Object("out/1", "stale", false)}, Options(t));
  REQUIRE(again.size() == 1);
  CHECK(again[0].code() == Code::kConflict);
  CHECK(ReadBack(c, "out/1", t) == "the new output");
}
