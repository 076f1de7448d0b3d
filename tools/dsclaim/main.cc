// dsclaim: walk a queue in order and claim functions by lock-read-delete quorum; print each
// claim as a record on stdout (for dsrun). The algorithm is lib/claim/claimer.h.
#include <unistd.h>

#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <thread>

#include "claim/claim_record.h"
#include "claim/claimer.h"
#include "claim/lease.h"
#include "cli_common.h"
#include "client/find.h"
#include "client/object_io.h"
#include "handoff.h"
#include "msc_chart.h"
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
      if (e.view->state != wire::ClaimPhase::kPending) {
        line += ' ';
        line += wire::ClaimPhaseName(e.view->state);
      }
    }
  }
  std::fprintf(stderr, "%s\n", line.c_str());
}

// One write per line: the lines of several claimers may share one pipe (dsclaim(1), CHART).
void PrintMscTrace(const claim::TraceEvent& e) {
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  const std::string line =
      tools::MscArrowLine(e, std::chrono::duration_cast<std::chrono::microseconds>(now).count());
  [[maybe_unused]] ssize_t ignored = ::write(STDERR_FILENO, line.data(), line.size());
}

// --msc-chart: the arrow lines on stdin as one chart on stdout.
int PrintMscChart() {
  tools::MscChart chart;
  std::string line;
  for (size_t n = 1; std::getline(std::cin, line); ++n) {
    if (Status s = chart.Add(line, n); !s.ok()) return tools::Fail(kTool, s.With("stdin"));
  }
  auto text = chart.Render();
  if (!text.ok()) return tools::Fail(kTool, text.status());
  std::fwrite(text->data(), 1, text->size(), stdout);
  return std::fflush(stdout) == 0 ? kExitOk : tools::Fail(kTool, Status::IoError("stdout"));
}

// The command line, as parsed.
struct ClaimArgs {
  std::string queue, mode = "consume";
  double lease_s = 30;
  bool follow = false, list = false, step = false, json = false, msc_chart = false;
  std::string trace;  // "", or --trace's format: "true" (plain --trace, text) or "msc"
  uint64_t max = 0;
  size_t batch = 1;
};

void AddClaimFlags(CLI::App& app, ClaimArgs& a) {
  // Required, except by --msc-chart (checked after parsing).
  auto* queue_opt = app.add_option("QUEUE", a.queue, "Queue name");
  app.add_option("--mode", a.mode, "consume (at-most-once) or lease (at-least-once)")
      ->capture_default_str()
      ->check(CLI::IsMember({"consume", "lease"}));
  app.add_option("--lease", a.lease_s,
                 "Lease in seconds (lease mode: renewed by dsrun while it runs)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_flag("--follow,-f", a.follow,
               "Keep claiming; wait for new functions when the queue is empty");
  app.add_option("--max", a.max, "Stop after N claims (0: no limit)");
  app.add_option("--batch", a.batch,
                 "Claim up to B functions per message round (one lock-read-delete per unit "
                 "carrying B keys, each decided by its own quorum)")
      ->capture_default_str()
      ->check(CLI::Range(size_t{1}, wire::kMaxBatchKeys));
  app.add_flag("--list", a.list, "Print the queue's keys in claim order without claiming");
  // A flag with an optional value: plain --trace never takes the next word as its value (it
  // may be QUEUE), so the format only comes with "=" (docs/decisions.md).
  app.add_flag("--trace", a.trace,
               "Print every claim request and reply on stderr; --trace=msc: as timestamped "
               "mscgen arrow lines for --msc-chart")
      ->check([](const std::string& v) {
        return v == "true" || v == "text" || v == "msc" ? std::string()
                                                        : "--trace=FORMAT is text or msc, not " + v;
      });
  app.add_flag("--msc-chart", a.msc_chart,
               "Read --trace=msc lines (of any number of claimers) on stdin and print them as "
               "one message sequence chart for mscgen, in time order");
  app.add_flag("--step", a.step, "Pause before each protocol phase until Enter (on a terminal)");
  app.add_flag("--json", a.json,
               "Print claims as JSON lines (the default when stdout is a terminal)");
  app.callback([&a, queue_opt] {
    // Checked here rather than by CLI11, whose help would then clutter both options' lines.
    if (!a.msc_chart && queue_opt->count() == 0) throw CLI::RequiredError("QUEUE");
    if (a.msc_chart && queue_opt->count() > 0) throw CLI::ExcludesError("--msc-chart", "QUEUE");
  });
}

// The claimer's options: mode, lease, the --trace printer and the --step pause (which reads
// Enter from `tty`).
claim::ClaimOptions OptionsOf(const ClaimArgs& a, const net::Cluster& cluster, std::ifstream& tty) {
  claim::ClaimOptions o;
  o.mode = a.mode == "lease" ? wire::ClaimMode::kLease : wire::ClaimMode::kConsume;
  o.lease_ms = static_cast<uint32_t>(a.lease_s * 1000);
  if (a.trace == "msc") {
    o.trace = PrintMscTrace;
  } else if (!a.trace.empty()) {
    o.trace = [&cluster](const claim::TraceEvent& e) { PrintTrace(e, cluster); };
  }
  if (a.step && ::isatty(STDERR_FILENO) == 1) {
    tty.open("/dev/tty");
    o.step = [&tty](const std::string& phase) {
      std::fprintf(stderr, "%s: next: %s  [Enter]", kTool, phase.c_str());
      std::string ignored;
      std::getline(tty, ignored);
    };
  }
  return o;
}

// Claims until --max, or the queue is empty (without --follow), handing each claim on as soon
// as the reader has taken the last. Returns the exit code.
int ClaimLoop(const ClaimArgs& a, claim::Claimer& claimer, tools::Handoff& handoff,
              const tools::Verbosity& verbosity) {
  uint64_t claimed = 0;
  auto idle = std::chrono::milliseconds(20);
  while (a.max == 0 || claimed < a.max) {
    // The next claim only once the reader has taken the last: a claim is made when it can be
    // started, never left to wait in the pipe (handoff.h).
    if (Status st = handoff.WaitUntilTaken(); !st.ok()) return tools::Fail(kTool, st);
    const size_t want =
        a.max == 0 ? a.batch : static_cast<size_t>(std::min<uint64_t>(a.batch, a.max - claimed));
    auto got = want <= 1 ? [&]() -> Result<std::vector<claim::Claim>> {
      auto c = claimer.Next(a.queue);
      if (!c.ok()) return c.status();
      return std::vector<claim::Claim>{std::move(*c)};
    }()
        : claimer.NextBatch(a.queue, want);
    if (!got.ok()) {
      if (got.status().code() == Code::kNotFound && a.follow) {
        std::this_thread::sleep_for(idle);
        idle = std::min(idle * 2, std::chrono::milliseconds(500));
        continue;
      }
      if (got.status().code() == Code::kNotFound && claimed > 0) break;
      if (a.follow && got.status().code() == Code::kUnavailable) {
        // A unit down or slow: say so and keep following; the network may heal.
        tools::Diag(kTool, got.status().message());
        std::this_thread::sleep_for(std::chrono::milliseconds(500));
        continue;
      }
      return tools::Fail(kTool, got.status());
    }
    idle = std::chrono::milliseconds(20);
    claimed += got->size();
    if (verbosity.level >= 2) {
      for (const auto& c : *got)
        tools::Diag(kTool, "claimed " + c.key + " token " + std::to_string(c.ballot.n));
    }
    // Nobody reads our claims any more: HandOn releases the leases not taken, so they come
    // back now rather than after the lease; consume-mode claims are consumed and lost, like
    // any owner dying after commit.
    if (Status st = handoff.HandOn(std::move(*got)); !st.ok()) return tools::Fail(kTool, st);
  }
  // Lease mode: keep the last leases until the reader has taken them.
  if (a.mode == "lease") {
    if (Status st = handoff.WaitUntilTaken(); !st.ok()) return tools::Fail(kTool, st);
  }
  return kExitOk;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "dsclaim - claim the next functions of a queue, in order, by lock-read-delete quorum",
      "dsclaim"};
  tools::NetworkFlags net;
  tools::Verbosity verbosity;
  tools::AddToolFlags(app, net, verbosity);
  ClaimArgs a;
  AddClaimFlags(app, a);
  if (int rc = tools::ParseArgs(app, argc, argv); rc >= 0) return rc;
  if (a.msc_chart) return PrintMscChart();
  if (Status s = wire::ValidateName(a.queue); !s.ok()) return tools::Fail(kTool, s.With("queue"));

  auto settings = tools::ResolveNetwork(net);
  if (!settings.ok()) return tools::Fail(kTool, settings.status());
  net::Cluster network(settings->nodes, settings->timeout, settings->keys);
  // The queue's units: where its functions are pushed (client/placement.h).
  auto queue_units = client::WriteView(network, a.queue, settings->t.n);
  if (!queue_units.ok()) return tools::Fail(kTool, queue_units.status());
  net::Cluster& cluster = *queue_units;

  if (a.list) {
    auto entries = client::ListObjects(cluster, a.queue + "/", 1);
    if (!entries.ok()) return tools::Fail(kTool, entries.status());
    for (const auto& e : *entries) std::printf("%s\n", e.name.c_str());
    return entries->empty() ? kExitNothing : kExitOk;
  }

  std::ifstream tty;
  claim::Claimer claimer(cluster, OptionsOf(a, cluster, tty));
  const bool as_json = a.json || ::isatty(STDOUT_FILENO) == 1;
  // One claim as a record (for dsrun) or a JSON line.
  auto encode = [as_json](const claim::Claim& c) {
    std::string rec = claim::EncodeClaimRecord(c);
    if (!as_json) return rec;
    msgpack::object_handle oh = msgpack::unpack(rec.data(), rec.size());
    return wire::RecordToJson(oh.get()) + "\n";
  };
  tools::Handoff handoff(STDOUT_FILENO, cluster, encode,
                         [](const std::string& m) { tools::Diag(kTool, m); });
  const int rc = ClaimLoop(a, claimer, handoff, verbosity);
  if (rc == kExitOk && verbosity.level >= 2) {
    const auto& s = claimer.stats();
    tools::Diag(kTool, "won " + std::to_string(s.won) + ", lost " + std::to_string(s.lost) +
                           ", rounds " + std::to_string(s.rounds) + ", found decided for others " +
                           std::to_string(s.decided_other) + ", listings " +
                           std::to_string(s.listings) + " of " + std::to_string(s.listed) +
                           " names, keys retried one at a time " + std::to_string(s.retried) +
                           ", lane moves " + std::to_string(s.lane_moves));
  }
  return rc;
}
