// Running a claimed function: decode it, stream its inputs into the command, store its output
// fenced with the claim token, record how it went, then finish, release or re-queue it.
//
// Lease mode renews the lease every third of it while the command runs; a run whose lease is
// lost is killed and stores nothing (another worker may own the function by then).
#pragma once

#include <chrono>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "claim/claimer.h"
#include "client/options.h"
#include "net/cluster.h"
#include "net/keys.h"
#include "util/status.h"

namespace dstk::claim {

struct RunOptions {
  std::vector<std::string> nodes;  // every thread makes its own Cluster(s) from these
  std::chrono::milliseconds net_timeout{2000};
  std::optional<net::KeyPair> keys;     // CurveZMQ client keys, when the units have keys
  client::Thresholds t;                 // for output and log writes and re-pushes
  std::string worker;                   // who runs it, recorded in the log
  std::string scratch_parent = "/tmp";  // per-run scratch directories go here
  uint32_t default_timeout_s = 600;     // when the function names none
  uint64_t cpu_seconds = 0;             // RLIMIT_CPU (0: none)
  uint64_t memory_bytes = 0;            // RLIMIT_AS (0: none)
  // Public keys whose signatures are trusted (claim/signing.h): when set, a function not signed
  // by one of them is dead-lettered unrun. Unset: every function runs.
  std::optional<std::set<std::string>> trusted;
};

struct RunReport {
  std::string key;
  std::string outcome;  // done | failed | requeued | dead-lettered | lease-lost | fenced
  int exit_code = -1;
  int signal = 0;
  std::string detail;  // one line: what happened
  std::string output;  // the output object written, if any
  uint64_t token = 0;
  int64_t elapsed_ms = 0;
  bool ok() const { return outcome == "done"; }
};

// The connections one job thread keeps from one claim to the next, so that a function costs no
// ZeroMQ context, TCP connection or CurveZMQ handshake of its own. `network` serves the queue's
// units, the output and the log, from the job thread; `feeder` streams the inputs from the
// runner's feeder thread, which exec::Run joins before it returns, and `renewer` renews a lease
// from the renewal thread, joined before the output is stored (so no two threads ever use one
// Cluster at once). One per job thread: a Cluster is not thread-safe. A reply that
// arrives after its request was given up (a unit slower than the timeout) is dropped by the
// Cluster, so one claim's late replies never answer the next claim's requests.
struct Connections {
  explicit Connections(const RunOptions& o)
      : network(o.nodes, o.net_timeout, o.keys),
        feeder(o.nodes, o.net_timeout, o.keys),
        renewer(o.nodes, o.net_timeout, o.keys) {}
  net::Cluster network;
  net::Cluster feeder;
  net::Cluster renewer;  // lease mode only; connects on first use
};

// Never throws; infrastructure failures (units unreachable) come back as a non-ok Status,
// the function's own failure as a RunReport with outcome failed/requeued/dead-lettered.
Result<RunReport> RunClaim(const Claim& claim, const RunOptions& options, Connections& conn);

// The JSON line dsrun prints for a report.
std::string ReportJson(const RunReport& r, const std::string& worker);

}  // namespace dstk::claim
