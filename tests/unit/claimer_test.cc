// The claimer (claim/claimer.h) against real units served in this process (served_units.h).
// Covered: two claimers on one key (one wins, the other is refused and moves on), many
// claimers taking a queue (each function exactly once), a unit that never answers (a quorum
// still claims; without one the claim fails naming the silent units), and a unit that promised
// a higher ballot (it refuses the lower one; the claimer outbids it), and a claimer that meets a
// key it already won, which a unit that missed its commit still lists (not a new claim).
#include "claim/claimer.h"

#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <thread>
#include <utility>
#include <vector>
#include <zmq.hpp>

#include "claim/claim_record.h"
#include "claim/function.h"
#include "claim/push.h"
#include "client/locate.h"
#include "client/object_io.h"
#include "net/cluster.h"
#include "node/server.h"
#include "node/service.h"
#include "served_units.h"
#include "store/slice_store.h"
#include "temp_dir.h"
#include "util/unique_fd.h"
#include "wire/message.h"
#include "wire/name.h"

namespace {

using dstk::Code;
using dstk::UniqueFd;
using dstk::claim::Claim;
using dstk::claim::Claimer;
using dstk::claim::ClaimOptions;
using dstk::test::Network;
using Clock = std::chrono::steady_clock;

// Pushes `count` functions (argv "job", "<i>") with k=1, w=2 on all the network's units;
// returns their keys in queue order.
std::vector<std::string> Push(dstk::net::Cluster& c, const std::string& queue, size_t count) {
  dstk::claim::KeyGenerator keys;
  std::vector<std::string> out;
  const dstk::client::Thresholds t{static_cast<uint32_t>(c.size()), 1, 2};
  for (size_t i = 0; i < count; ++i) {
    dstk::claim::Function f;
    f.argv = {"job", std::to_string(i)};
    auto key = dstk::claim::PushFunction(c, t, keys, queue, f);
    INFO((key.ok() ? "" : key.status().message()));
    REQUIRE(key.ok());
    out.push_back(*key);
  }
  return out;
}

// The function a claim carries, decoded from its slices.
std::vector<std::string> ArgvOf(const Claim& c) {
  auto f = dstk::claim::FunctionOf(c);
  REQUIRE(f.ok());
  return f->argv;
}

// Claims the first `count` keys of `queue` in lease mode with a lease of a minute and keeps them:
// another walker's keys held by a live lock, so that a walker that lists them shares the queue.
std::vector<Claim> HoldByLease(dstk::net::Cluster& c, const std::string& queue, size_t count) {
  ClaimOptions lease;
  lease.mode = dstk::wire::ClaimMode::kLease;
  lease.lease_ms = 60000;
  Claimer holder(c, lease);
  auto held = holder.NextBatch(queue, count);
  REQUIRE(held.ok());
  REQUIRE(held->size() == count);
  return std::move(held).value();
}

}  // namespace

TEST_CASE("claimer: a lone claimer takes a queue in order, then finds it empty", "[claim]") {
  Network net("uuu");
  auto c = net.Client();
  const auto keys = Push(c, "q", 3);
  Claimer claimer(c, ClaimOptions{});
  for (size_t i = 0; i < keys.size(); ++i) {
    auto got = claimer.Next("q");
    REQUIRE(got.ok());
    CHECK(got->key == keys[i]);
    CHECK(got->queue == "q");
    CHECK(got->ballot.id == claimer.id());
    CHECK(got->ballot.n >= 1);
    CHECK(got->attempts == 1);
    CHECK(ArgvOf(*got) == std::vector<std::string>{"job", std::to_string(i)});
  }
  auto none = claimer.Next("q");
  REQUIRE_FALSE(none.ok());
  CHECK(none.status().code() == Code::kNotFound);
  CHECK(claimer.stats().won == 3);
  CHECK(claimer.stats().lost == 0);
}

TEST_CASE("claimer: objects under the queue that are no queue keys are never claimed", "[claim]") {
  Network net("uuu");
  auto c = net.Client();
  // An output a user named under the queue, and names that look almost like keys: none is a
  // function, and a consume-mode claim of one would delete it.
  const std::vector<std::string> others = {"q/result", "q/000661c6222b4ee3-51574cefx",
                                           "q/000661C6222B4EE3-51574CEF",
                                           "q/sub/000661c6222b4ee3-51574cef"};
  for (const std::string& name : others) {
    char body[] = "not a function";
    UniqueFd fd(memfd_create("claimer-test", 0));
    REQUIRE(write(fd.get(), body, sizeof body) == static_cast<ssize_t>(sizeof body));
    REQUIRE(lseek(fd.get(), 0, SEEK_SET) == 0);
    dstk::client::PutOptions o;
    o.t = {3, 1, 2};
    REQUIRE(dstk::client::PutObject(c, name, fd.get(), o).ok());
  }
  const auto keys = Push(c, "q", 2);
  Claimer claimer(c, ClaimOptions{});
  for (const std::string& key : keys) {
    auto got = claimer.Next("q");
    REQUIRE(got.ok());
    CHECK(got->key == key);
  }
  auto none = claimer.Next("q");
  REQUIRE_FALSE(none.ok());
  CHECK(none.status().code() == Code::kNotFound);
  for (const std::string& name : others) {
    INFO(name);
    const dstk::client::Location loc = dstk::client::Locate(c, name, false);
    REQUIRE(loc.manifest);
    CHECK(loc.units[0].SlicesOf(loc.manifest->rev) == 1);  // every slice still stored
    CHECK(loc.units[1].SlicesOf(loc.manifest->rev) == 1);
    CHECK(loc.units[2].SlicesOf(loc.manifest->rev) == 1);
  }
}

TEST_CASE("claimer: two claimers on one key, exactly one wins, the other is refused", "[claim]") {
  Network net("uuu");
  auto ca = net.Client();
  auto cb = net.Client();
  const auto keys = Push(ca, "q", 1);
  // B runs its whole walk while A holds the phase-1 promises (a live lock) and has not
  // committed yet: the moment the two collide on the one key.
  std::optional<Claimer> b;
  b.emplace(cb, ClaimOptions{});
  std::optional<dstk::Result<Claim>> b_got;
  ClaimOptions ao;
  ao.step = [&](const std::string& phase) {
    if (phase.rfind("phase 2", 0) == 0 && !b_got) b_got = b->Next("q");
  };
  Claimer a(ca, ao);
  auto a_got = a.Next("q");
  REQUIRE(b_got.has_value());
  // A won: its promises were live, so every unit refused B.
  REQUIRE(a_got.ok());
  CHECK(a_got->key == keys[0]);
  CHECK(ArgvOf(*a_got) == std::vector<std::string>{"job", "0"});
  REQUIRE_FALSE(b_got->ok());
  CHECK(b_got->status().code() == Code::kNotFound);
  CHECK(b_got->status().message().find("locked by another claimer") != std::string::npos);
  CHECK(b->stats().won == 0);
  // B saw A's live lock marked in its listing, tried the key last all the same, and the units
  // refused it.
  CHECK(b->stats().lost >= 1);
  // Afterwards the key is consumed: B finds the queue empty rather than winning it again.
  auto again = b->Next("q");
  REQUIRE_FALSE(again.ok());
  CHECK(again.status().code() == Code::kNotFound);
  CHECK(b->stats().won == 0);
}

TEST_CASE("claimer: concurrent claimers take every function, each won by one claimer", "[claim]") {
  Network net("uuu");
  auto c = net.Client();
  const auto keys = Push(c, "q", 8);
  constexpr int kClaimers = 3;
  std::mutex mu;
  std::map<std::string, std::set<uint64_t>> winners;  // key -> claimers that won it
  std::vector<std::string> wins;                      // who won what, for the failure message
  std::vector<std::string> errors;
  std::vector<std::thread> threads;
  for (int i = 0; i < kClaimers; ++i) {
    threads.emplace_back([&] {
      auto mine = net.Client();
      Claimer claimer(mine, ClaimOptions{});
      for (int tries = 0; tries < 40; ++tries) {
        auto got = claimer.Next("q");
        std::lock_guard lock(mu);
        if (got.ok()) {
          winners[got->key].insert(claimer.id());
          wins.push_back(got->key + " by " + std::to_string(claimer.id()) + " at ballot " +
                         std::to_string(got->ballot.n));
          continue;
        }
        if (got.status().code() != Code::kNotFound) errors.push_back(got.status().message());
        if (winners.size() >= keys.size()) return;
      }
    });
  }
  for (auto& t : threads) t.join();
  std::string story;
  for (const auto& w : wins) story += w + "\n";
  INFO(story);
  CHECK(errors.empty());
  std::set<std::string> taken;
  for (const auto& [key, who] : winners) {
    taken.insert(key);
    CHECK(who.size() == 1);  // never two claimers
  }
  CHECK(taken == std::set<std::string>(keys.begin(), keys.end()));  // none left behind
  CHECK(wins.size() == keys.size());                                // and no claimer won one twice
}

TEST_CASE("claimer: a unit that never answers does not stop a quorum", "[claim]") {
  Network net("uus");  // q = max(k, n/2+1) = 2 of 3
  // The pusher waits out the silent units; its timeout is long enough for a slow first
  // write (a sanitizer build, a loaded machine), which a short one made flaky.
  auto pusher = net.Client(std::chrono::milliseconds(1500));
  const auto keys = Push(pusher, "q", 1);
  // A long timeout for the claim, so that waiting for the silent unit would show.
  auto c = net.Client(std::chrono::milliseconds(2000));
  Claimer claimer(c, ClaimOptions{});
  const auto t0 = Clock::now();
  auto got = claimer.Next("q");
  const auto took = Clock::now() - t0;
  REQUIRE(got.ok());
  CHECK(got->key == keys[0]);
  CHECK(ArgvOf(*got) == std::vector<std::string>{"job", "0"});
  CHECK(net.silent(0).frames() > 0);  // it was asked, and said nothing
  // Each phase returns at its quorum: the claim waited for no timeout of the silent unit's.
  CHECK(took < c.timeout());
}

TEST_CASE("claimer: without a quorum of answers the claim fails and names the silent units",
          "[claim]") {
  Network net("uuss");  // q = 3 of 4, two units answer
  // The pusher waits out the silent units; its timeout is long enough for a slow first
  // write (a sanitizer build, a loaded machine), which a short one made flaky.
  auto pusher = net.Client(std::chrono::milliseconds(1500));
  Push(pusher, "q", 1);
  auto c = net.Client(std::chrono::milliseconds(300));
  Claimer claimer(c, ClaimOptions{});
  auto got = claimer.Next("q");
  REQUIRE_FALSE(got.ok());
  CHECK(got.status().code() == Code::kUnavailable);
  const std::string& why = got.status().message();
  CHECK(why.find("q=3") != std::string::npos);
  CHECK(why.find("no reply within 300 ms") != std::string::npos);
  CHECK(why.find(net.silent(0).endpoint()) != std::string::npos);
  CHECK(why.find(net.silent(1).endpoint()) != std::string::npos);
  CHECK(claimer.stats().won == 0);
}

TEST_CASE("claimer: a unit promised to a higher ballot refuses a lower one; the claimer outbids",
          "[claim]") {
  Network net("uuu");
  auto c = net.Client();
  const auto keys = Push(c, "q", 1);
  // Another claimer (gone since) got promises at ballot 100 from every unit; lease 0, so no
  // live lock is left, only the promise.
  dstk::wire::Request lrd;
  lrd.op = dstk::wire::Op::kLockReadDelete;
  lrd.name = keys[0];
  lrd.ballot = {100, 7};
  lrd.lease_ms = 0;
  lrd.mode = dstk::wire::ClaimMode::kConsume;
  for (const auto& o : c.CallAll(lrd)) {
    REQUIRE(o.status.ok());
    REQUIRE(o.response->reply.ok());
  }
  // A lower ballot is refused, and the refusal says how high to go.
  lrd.ballot = {1, 9};
  auto refused = c.CallEach(lrd, {0});
  REQUIRE(refused[0].status.ok());
  const auto& reply = refused[0].response->reply;
  CHECK(reply.status == dstk::wire::ReplyStatus::kLocked);
  CHECK(reply.error.find("higher ballot") != std::string::npos);
  REQUIRE(reply.claim.has_value());
  CHECK(reply.claim->promised == dstk::wire::Ballot{100, 7});
  CHECK(reply.claim->state == dstk::wire::ClaimPhase::kPending);

  auto cc = net.Client();
  Claimer claimer(cc, ClaimOptions{});
  auto got = claimer.Next("q");
  REQUIRE(got.ok());
  CHECK(got->key == keys[0]);
  CHECK(got->ballot.n > 100);  // went above the promise it was refused for
  CHECK(claimer.stats().rounds >= 2);
  CHECK(ArgvOf(*got) == std::vector<std::string>{"job", "0"});
}

// A walker that meets another (keys held by a live lease) takes one lane of the queue and lists
// that lane alone (units filter it: Request::lane), not every lane to find its own; every other
// key is still claimed once.
TEST_CASE("claimer: a crowded walker lists its own lane only", "[claim]") {
  Network net("uuu");
  auto c = net.Client();
  const auto keys = Push(c, "q", 120);
  const auto held = HoldByLease(c, "q", 8);

  Claimer walker(c, ClaimOptions{});
  auto first = walker.NextBatch("q", 8);
  REQUIRE(first.ok());
  REQUIRE(first->size() == 8);
  const size_t lane = dstk::wire::LaneOf(first->front().key, 4);
  for (const auto& claim : *first) CHECK(dstk::wire::LaneOf(claim.key, 4) == lane);
  // A lone listing of 4 batches (32 names: it sees the held keys), then one of its lane: 3
  // batches and the held keys of that lane at most. Listing every lane instead would have
  // taken 8 + 4 * 24 names more.
  CHECK(walker.stats().listings == 2);
  CHECK(walker.stats().listed <= 32 + 24 + 8);

  std::set<std::string> taken;
  for (const auto& claim : held) taken.insert(claim.key);
  for (const auto& claim : *first) CHECK(taken.insert(claim.key).second);
  for (int calls = 0; calls < 100; ++calls) {
    auto more = walker.NextBatch("q", 8);
    if (!more.ok()) {
      CHECK(more.status().code() == Code::kNotFound);
      break;
    }
    for (const auto& claim : *more) CHECK(taken.insert(claim.key).second);
  }
  CHECK(taken == std::set<std::string>(keys.begin(), keys.end()));
}

// A crowded walker lists its own lane alone, but not for ever: every few listings it looks at
// the head of the queue's window (every lane) and moves to a lane left behind there. Alone in a
// queue (other walkers gone), it must not walk its lane to the end while the other lanes' first
// keys wait.
TEST_CASE("claimer: a crowded walker does not leave the other lanes behind", "[claim]") {
  Network net("uuu");
  auto c = net.Client();
  const auto keys = Push(c, "q", 1500);
  std::set<std::string> taken;
  for (const auto& claim : HoldByLease(c, "q", 8)) taken.insert(claim.key);  // keeps it crowded

  Claimer walker(c, ClaimOptions{});
  std::set<size_t> lanes;
  size_t worst_lag = 0;
  while (taken.size() < 900) {
    auto got = walker.NextBatch("q", 8);
    REQUIRE(got.ok());
    for (const auto& claim : *got) {
      CHECK(taken.insert(claim.key).second);
      lanes.insert(dstk::wire::LaneOf(claim.key, 4));
    }
    // How far the newest claim runs ahead of the oldest key still waiting.
    size_t oldest = keys.size(), newest = 0;
    for (size_t i = 0; i < keys.size(); ++i) {
      if (!taken.count(keys[i])) {
        oldest = std::min(oldest, i);
      } else {
        newest = i;
      }
    }
    if (newest > oldest) worst_lag = std::max(worst_lag, newest - oldest);
  }
  CHECK(lanes.size() == 4);
  // kLaneListings listings of 3 batches of 8 keys of one lane: about 8 * 24 * 4 = 768 names.
  INFO("worst lag " << worst_lag);
  CHECK(worst_lag < 1000);
}

TEST_CASE("claimer: a batch claims several keys at once, each once", "[claim]") {
  Network net("uuu");
  auto c = net.Client();
  const auto keys = Push(c, "q", 5);
  Claimer claimer(c, ClaimOptions{});
  auto got = claimer.NextBatch("q", 3);
  REQUIRE(got.ok());
  REQUIRE(got->size() == 3);
  std::vector<std::string> taken;
  for (const auto& claim : *got) taken.push_back(claim.key);
  CHECK(taken == std::vector<std::string>(keys.begin(), keys.begin() + 3));
  auto rest = claimer.NextBatch("q", 10);
  REQUIRE(rest.ok());
  REQUIRE(rest->size() == 2);
  CHECK((*rest)[0].key == keys[3]);
  CHECK((*rest)[1].key == keys[4]);
  CHECK(ArgvOf((*rest)[1]) == std::vector<std::string>{"job", "4"});
  auto none = claimer.NextBatch("q", 10);
  REQUIRE_FALSE(none.ok());
  CHECK(none.status().code() == Code::kNotFound);
}

// A claimer that won a key while one unit refused its commit (that unit had promised a higher
// ballot to another claimer) meets the key again on its next walk: that unit still lists the
// function as pending, and the next round finds the claimer's own id accepted on the others.
// It must teach the unit and move on, not return the function again (in consume mode it would
// run twice): Claimer::WonBefore.
TEST_CASE("claimer: a key it already won is not claimed again after a unit missed its commit",
          "[claim]") {
  // Units whose idle work has not dropped the consumed function yet (on a live unit that is a
  // short window, so the race is rare but real: the concurrent case above hits it now and then).
  Network net("lll");
  auto c = net.Client();
  const auto keys = Push(c, "q", 1);
  // Another claimer's phase 1 (ballot 5, no live lock left) reached unit 2 only.
  dstk::wire::Request lrd;
  lrd.op = dstk::wire::Op::kLockReadDelete;
  lrd.name = keys[0];
  lrd.ballot = {5, 7};
  lrd.lease_ms = 0;
  lrd.mode = dstk::wire::ClaimMode::kConsume;
  auto promised = c.CallEach(lrd, {2});
  REQUIRE(promised[0].status.ok());
  REQUIRE(promised[0].response->reply.ok());

  auto cc = net.Client();
  ClaimOptions traced;
  // No phase-1 lock: otherwise the claimer's own unanswered promise on unit 2, left from a
  // round it did not wait for, may lock it out of the key for the lease, hiding the bug.
  traced.lease_ms = 0;
  std::string log;
  traced.trace = [&](const dstk::claim::TraceEvent& e) {
    // Appended piece by piece: GCC 12 at -O3 warns (-Wrestrict) on "literal" + std::string.
    log.append(e.reply ? "  <- " : "  -> ").append(std::to_string(e.unit)).append(" ");
    log.append(dstk::wire::OpName(e.op)).append(" ").append(std::to_string(e.ballot.n));
    log.append(" ").append(e.status);
    if (e.view) {
      log.append(" ").append(dstk::wire::ClaimPhaseName(e.view->state)).append(" owner ");
      log.append(std::to_string(e.view->owner));
    }
    log.append("\n");
  };
  Claimer claimer(cc, traced);
  auto first = claimer.Next("q");
  REQUIRE(first.ok());  // units 0 and 1 promised and accepted: q = 2

  CHECK(first->key == keys[0]);
  // A listing waits for a majority and a short grace, so unit 2 (the only one still listing the
  // key) may be missed by one walk: walk a few times.
  for (int walk = 0; walk < 10; ++walk) {
    auto again = claimer.Next("q");
    INFO("walk " << walk << ": "
                 << (again.ok() ? "won again at ballot " + std::to_string(again->ballot.n)
                                : again.status().message()));
    INFO("the messages so far:\n" << log);
    REQUIRE_FALSE(again.ok());  // consumed by the first claim: nothing left to claim
    CHECK(again.status().code() == Code::kNotFound);
  }
}
