// dsclaim: walk a queue in order and claim functions by lock-read-delete quorum; print each
// claim as a record on stdout (for dsrun). The algorithm is lib/claim/claimer.h.
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <fstream>
#include <thread>

#include "claim/claim_record.h"
#include "claim/claimer.h"
#include "claim/lease.h"
#include "cli_common.h"
#include "client/object_io.h"
#include "util/fd_io.h"
#include "wire/name.h"
#include "wire/record.h"

namespace {

constexpr const char* kTool = "dsclaim";
using namespace dstk;

std::string Ballot(const wire::Ballot& b) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%" PRIu64 "/%08" PRIx64, b.n, b.id & 0xffffffffu);
  return buf;
}

void PrintTrace(const claim::TraceEvent& e, const net::Cluster& c) {
  std::string line = std::string(kTool) + ": " + (e.reply ? "<- " : "-> ") + c.Describe(e.unit) +
                     " " + wire::OpName(e.op) + " " + e.key + " ballot " + Ballot(e.ballot);
  if (e.reply) {
    line += " => " + e.status;
    if (e.view) {
      line += " promised " + Ballot(e.view->promised) + " epoch " + std::to_string(e.view->epoch);
      if (e.view->has_accepted) line += " accepted " + Ballot(e.view->accepted);
      if (e.view->lock_ms_left > 0) line += " lock " + std::to_string(e.view->lock_ms_left) + "ms";
      if (e.view->state != "pending") line += " " + e.view->state;
    }
  }
  std::fprintf(stderr, "%s\n", line.c_str());
}

}  // namespace

int main(int argc, char** argv) {
  signal(SIGPIPE, SIG_IGN);
  CLI::App app{
      "dsclaim - claim the next functions of a queue, in order, by lock-read-delete quorum",
      "dsclaim"};
  app.set_version_flag("--version", tools::Version());
  tools::NetworkFlags net;
  tools::Verbosity verbosity;
  tools::AddNetworkFlags(app, net);
  tools::AddVerbosityFlags(app, verbosity);
  std::string queue, mode = "consume";
  double lease_s = 30;
  bool follow = false, list = false, trace = false, step = false, json = false;
  uint64_t max = 0;
  size_t batch = 1;
  app.add_option("QUEUE", queue, "Queue name")->required();
  app.add_option("--mode", mode, "consume (at-most-once) or lease (at-least-once)")
      ->capture_default_str()
      ->check(CLI::IsMember({"consume", "lease"}));
  app.add_option("--lease", lease_s,
                 "Lease in seconds (lease mode: renewed by dsrun while it runs)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_flag("--follow,-f", follow,
               "Keep claiming; wait for new functions when the queue is empty");
  app.add_option("--max", max, "Stop after N claims (0: no limit)");
  app.add_option("--batch", batch,
                 "Claim up to B functions per message round (one lock-read-delete per unit "
                 "carrying B keys, each decided by its own quorum)")
      ->capture_default_str()
      ->check(CLI::Range(size_t{1}, wire::kMaxBatchKeys));
  app.add_flag("--list", list, "Print the queue's keys in claim order without claiming");
  app.add_flag("--trace", trace, "Print every claim request and reply on stderr");
  app.add_flag("--step", step, "Pause before each protocol phase until Enter (on a terminal)");
  app.add_flag("--json", json,
               "Print claims as JSON lines (the default when stdout is a terminal)");
  if (int rc = tools::ParseArgs(app, argc, argv); rc >= 0) return rc;
  if (Status s = wire::ValidateName(queue); !s.ok()) return tools::Fail(kTool, s.With("queue"));

  auto nodes = tools::ResolveNodes(net);
  if (!nodes.ok()) return tools::Fail(kTool, nodes.status());
  auto keys = tools::ResolveKeys(net);
  if (!keys.ok()) return tools::Fail(kTool, keys.status());
  net::Cluster cluster(*nodes, tools::TimeoutOf(net), *keys);

  if (list) {
    auto entries = client::ListObjects(cluster, queue + "/", 1);
    if (!entries.ok()) return tools::Fail(kTool, entries.status());
    for (const auto& e : *entries) std::printf("%s\n", e.name.c_str());
    return entries->empty() ? kExitNothing : kExitOk;
  }

  claim::ClaimOptions o;
  o.mode = mode == "lease" ? wire::ClaimMode::kLease : wire::ClaimMode::kConsume;
  o.lease_ms = static_cast<uint32_t>(lease_s * 1000);
  if (trace) o.trace = [&cluster](const claim::TraceEvent& e) { PrintTrace(e, cluster); };
  std::ifstream tty;
  if (step && ::isatty(STDERR_FILENO) == 1) {
    tty.open("/dev/tty");
    o.step = [&tty](const std::string& phase) {
      std::fprintf(stderr, "%s: next: %s  [Enter]", kTool, phase.c_str());
      std::string ignored;
      std::getline(tty, ignored);
    };
  }
  // Claims wait in the pipe until dsrun reads them; a claim in a pipe buffer is owned but not
  // running. Shrink the buffer to one page so dsclaim stays only a claim or two ahead.
  (void)::fcntl(STDOUT_FILENO, F_SETPIPE_SZ, 4096);
  claim::Claimer claimer(cluster, o);
  const bool as_json = json || ::isatty(STDOUT_FILENO) == 1;
  uint64_t claimed = 0;
  auto idle = std::chrono::milliseconds(20);
  // Hands one claim on to stdout (dsrun), as a record or a JSON line.
  auto hand_on = [&](const claim::Claim& c) {
    const std::string rec = claim::EncodeClaimRecord(c);
    if (!as_json)
      return WriteAll(STDOUT_FILENO, {reinterpret_cast<const uint8_t*>(rec.data()), rec.size()});
    msgpack::object_handle oh = msgpack::unpack(rec.data(), rec.size());
    const std::string line = wire::RecordToJson(oh.get()) + "\n";
    return WriteAll(STDOUT_FILENO, {reinterpret_cast<const uint8_t*>(line.data()), line.size()});
  };
  while (max == 0 || claimed < max) {
    const size_t want =
        max == 0 ? batch : static_cast<size_t>(std::min<uint64_t>(batch, max - claimed));
    auto got = want <= 1 ? [&]() -> Result<std::vector<claim::Claim>> {
      auto c = claimer.Next(queue);
      if (!c.ok()) return c.status();
      return std::vector<claim::Claim>{std::move(*c)};
    }()
        : claimer.NextBatch(queue, want);
    if (!got.ok()) {
      if (got.status().code() == Code::kNotFound && follow) {
        std::this_thread::sleep_for(idle);
        idle = std::min(idle * 2, std::chrono::milliseconds(500));
        continue;
      }
      if (got.status().code() == Code::kNotFound && claimed > 0) break;
      if (follow && got.status().code() == Code::kUnavailable) {
        // A unit down or slow: say so and keep following; the network may heal.
        tools::Diag(kTool, got.status().message());
        std::this_thread::sleep_for(std::chrono::milliseconds(500));
        continue;
      }
      return tools::Fail(kTool, got.status());
    }
    idle = std::chrono::milliseconds(20);
    for (size_t i = 0; i < got->size(); ++i) {
      const claim::Claim& c = (*got)[i];
      ++claimed;
      if (Status st = hand_on(c); !st.ok()) {
        // Nobody reads our claims any more. Lease mode: let them come back now rather than
        // after the lease; consume mode: they are consumed and lost, like any owner dying
        // after commit (with --batch, every claim of this batch not handed on yet).
        if (o.mode == wire::ClaimMode::kLease) {
          for (size_t j = i; j < got->size(); ++j) claim::Release(cluster, (*got)[j]);
        }
        return tools::Fail(kTool, st.With("claim " + c.key + " could not be handed on"));
      }
      if (verbosity.level >= 2)
        tools::Diag(kTool, "claimed " + c.key + " token " + std::to_string(c.ballot.n));
    }
  }
  if (verbosity.level >= 2) {
    const auto& s = claimer.stats();
    tools::Diag(kTool, "won " + std::to_string(s.won) + ", lost " + std::to_string(s.lost) +
                           ", rounds " + std::to_string(s.rounds) + ", found decided for others " +
                           std::to_string(s.decided_other));
  }
  return kExitOk;
}
