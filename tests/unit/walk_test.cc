// Lanes of the batched walk (lib/claim/walk.h): walkers in different lanes never pick the same
// key, keys another walker holds are never picked, and a thin lane gives way to the fullest.
#include "claim/walk.h"

#include <catch2/catch.hpp>
#include <set>
#include <string>
#include <vector>

namespace {

using dstk::claim::PickLane;
using dstk::wire::LaneOf;
using dstk::wire::ListEntry;

// A window of `count` keys of a queue on 5 units (k=3, q=3), all free.
std::vector<ListEntry> Window(size_t count) {
  std::vector<ListEntry> w(count);
  for (size_t i = 0; i < count; ++i) {
    w[i].name = "q/" + std::to_string(1000 + i);
    w[i].manifest.k = 3;
    w[i].manifest.n = 5;
    w[i].units = 5;
  }
  return w;
}

}  // namespace

TEST_CASE("walk: lanes split a window, in queue order, without held keys", "[claim]") {
  auto w = Window(400);
  for (size_t i = 0; i < 40; ++i) w[i].locked = 3;  // another walker's batch in flight
  std::set<size_t> seen;
  for (size_t lane = 0; lane < 4; ++lane) {
    const auto pick = PickLane(w, 5, 64, 4, lane);
    CHECK(pick.lane == lane);
    CHECK(pick.held == 40);
    REQUIRE(pick.keys.size() == 64);
    for (size_t j = 0; j < pick.keys.size(); ++j) {
      const size_t i = pick.keys[j];
      CHECK(w[i].locked == 0);
      CHECK(LaneOf(w[i].name, 4) == lane);
      CHECK(seen.insert(i).second);  // no key in two lanes
      if (j > 0) CHECK(pick.keys[j - 1] < i);
    }
  }
}

TEST_CASE("walk: a thin lane gives way to the fullest; keys to teach come last", "[claim]") {
  auto w = Window(200);
  // Lane 0 keeps one free key, lane 2 all of its keys, lanes 1 and 3 a few.
  std::vector<ListEntry> window;
  size_t kept[4] = {0, 0, 0, 0};
  for (auto& e : w) {
    const size_t l = LaneOf(e.name, 4);
    if ((l == 0 && kept[0] >= 1) || ((l == 1 || l == 3) && kept[l] >= 5)) continue;
    ++kept[l];
    window.push_back(e);
  }
  const auto pick = PickLane(window, 5, 64, 4, 0);
  CHECK(pick.lane == 2);
  CHECK(pick.keys.size() == std::min<size_t>(64, kept[2]));
  // A lane with enough keys is kept even when another has more.
  CHECK(PickLane(window, 5, 8, 4, 1).lane == 1);
  // Keys fewer than q units list are taken after the lane's free keys.
  window[0].units = 2;
  const size_t lane0 = LaneOf(window[0].name, 4);
  const auto teach = PickLane(window, 5, kept[lane0], 4, lane0);
  REQUIRE(!teach.keys.empty());
  CHECK(teach.keys.back() == 0);
  // Nothing but held keys: nothing to pick.
  for (auto& e : window) e.locked = 1;
  CHECK(PickLane(window, 5, 64, 4, 0).keys.empty());
}

TEST_CASE("walk: a thin lane moves to a lane nobody holds keys of, not into another walker's",
          "[claim]") {
  auto w = Window(200);
  // Lane 0 (ours) has 2 free keys; lane 1 has the most free keys but another walker holds one of
  // them; lane 2 fewer, none held; lane 3 none at all.
  std::vector<ListEntry> window;
  size_t kept[4] = {0, 0, 0, 0};
  bool held_one = false;
  for (auto& e : w) {
    const size_t l = LaneOf(e.name, 4);
    const size_t cap[4] = {2, 40, 20, 0};
    if (kept[l] >= cap[l]) continue;
    ++kept[l];
    window.push_back(e);
    if (l == 1 && !held_one) {
      window.back().locked = 1;
      held_one = true;
    }
  }
  REQUIRE(held_one);
  CHECK(PickLane(window, 5, 64, 4, 0).lane == 2);
  // With no idle lane fuller than its own, a walker keeps its few keys...
  std::erase_if(window, [](const ListEntry& e) { return LaneOf(e.name, 4) == 2; });
  const auto stay = PickLane(window, 5, 64, 4, 0);
  CHECK(stay.lane == 0);
  CHECK(stay.keys.size() == 2);
  // ...and joins a busy lane only when it has none left.
  std::erase_if(window, [](const ListEntry& e) { return LaneOf(e.name, 4) == 0; });
  const auto join = PickLane(window, 5, 64, 4, 0);
  CHECK(join.lane == 1);
  CHECK(join.keys.size() == 39);
}
