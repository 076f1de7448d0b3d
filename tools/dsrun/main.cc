// dsrun: read claim records (from dsclaim) on stdin and run each claimed function: decode it,
// stream its inputs, store its output fenced by the claim token, finish or retry it.
// The logic is lib/claim/run_claim.h; this file reads records, runs --jobs at once and counts
// the outcomes for --metrics (worker_metrics.h).
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>

#include "claim/claim_record.h"
#include "claim/run_claim.h"
#include "claim/signing.h"
#include "cli_common.h"
#include "metrics_http.h"
#include "wire/record.h"
#include "worker_metrics.h"

namespace {

constexpr const char* kTool = "dsrun";
using namespace dstk;

// Hands claims from the reader to the job threads. The reader takes the next claim off stdin
// only when a job thread waits for one: dsrun never holds a claim it cannot start at once. A
// claim read is a claim owned, and in lease mode its lease is renewed only while it runs; what
// dsrun has not read yet stays in the pipe, where dsclaim renews it (tools/dsclaim/handoff.h).
class ClaimQueue {
 public:
  // Blocks until a job thread waits for a claim that nobody has handed it yet.
  void WaitForTaker() {
    std::unique_lock<std::mutex> lk(mu_);
    cv_.wait(lk, [this] { return waiting_ > q_.size(); });
  }
  void Push(claim::Claim c) {
    std::lock_guard<std::mutex> g(mu_);
    q_.push_back(std::move(c));
    cv_.notify_all();
  }
  // A job thread's wait for its next claim; false once the reader is done.
  bool Pop(claim::Claim& c) {
    std::unique_lock<std::mutex> lk(mu_);
    ++waiting_;
    cv_.notify_all();
    cv_.wait(lk, [this] { return !q_.empty() || closed_; });
    --waiting_;
    if (q_.empty()) return false;
    c = std::move(q_.front());
    q_.pop_front();
    return true;
  }
  void Close() {
    std::lock_guard<std::mutex> g(mu_);
    closed_ = true;
    cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<claim::Claim> q_;
  size_t waiting_ = 0;
  bool closed_ = false;
};

}  // namespace

int main(int argc, char** argv) {
  signal(SIGPIPE, SIG_IGN);
  CLI::App app{"dsrun - run claimed functions read from stdin (dsclaim QUEUE --follow | dsrun)",
               "dsrun"};
  app.set_version_flag("--version", tools::Version());
  tools::NetworkFlags net;
  tools::Verbosity verbosity;
  tools::AddNetworkFlags(app, net);
  tools::AddVerbosityFlags(app, verbosity);
  unsigned jobs = 1;
  claim::RunOptions o;
  double mem_mib = 0;
  app.add_option("--jobs,-j", jobs, "Functions run at once")
      ->capture_default_str()
      ->check(CLI::Range(1, 256));
  app.add_option("--worker", o.worker, "Name recorded as the worker (default host:pid)");
  std::string trust_file;
  app.add_option("--trust", trust_file,
                 "Run only functions signed by a key listed in FILE (public keys of dsenc keygen "
                 "--sign); others go to QUEUE.failed unrun");
  app.add_option("--scratch", o.scratch_parent, "Where per-run scratch directories are made")
      ->capture_default_str();
  app.add_option("--default-timeout", o.default_timeout_s,
                 "Seconds a function may run when it names no timeout")
      ->capture_default_str();
  app.add_option("--cpu", o.cpu_seconds, "CPU seconds per run (RLIMIT_CPU, 0: none)");
  app.add_option("--memory", mem_mib, "Address space per run in MiB (RLIMIT_AS, 0: none)");
  std::string metrics_text;
  app.add_option("--metrics", metrics_text,
                 "Serve Prometheus metrics over HTTP at [ADDR:]PORT/metrics (ADDR defaults to "
                 "127.0.0.1; off unless given)");
  if (int rc = tools::ParseArgs(app, argc, argv); rc >= 0) return rc;
  // Declared before the job threads, so that they outlive them; the exposer goes first.
  std::shared_ptr<prometheus::Registry> registry;
  std::unique_ptr<tools::WorkerMetrics> metrics;
  std::unique_ptr<prometheus::Exposer> exposer;
  if (!metrics_text.empty()) {
    auto address = tools::ParseMetricsAddress(metrics_text);
    if (!address.ok()) return tools::Fail(kTool, address.status());
    registry = std::make_shared<prometheus::Registry>();
    metrics = std::make_unique<tools::WorkerMetrics>(*registry);
    auto served = tools::ServeMetrics(*address, registry);
    if (!served.ok()) return tools::Fail(kTool, served.status());
    exposer = std::move(*served);
  }
  o.memory_bytes = static_cast<uint64_t>(mem_mib * 1024 * 1024);

  if (!trust_file.empty()) {
    auto trusted = claim::ReadTrustFile(trust_file);
    if (!trusted.ok()) return tools::Fail(kTool, trusted.status());
    o.trusted = std::move(trusted).value();
  }
  auto nodes = tools::ResolveNodes(net);
  if (!nodes.ok()) return tools::Fail(kTool, nodes.status());
  auto t = tools::ThresholdsOf(net, nodes->size());
  if (!t.ok()) return tools::Fail(kTool, t.status());
  o.nodes = *nodes;
  auto keys = tools::ResolveKeys(net);
  if (!keys.ok()) return tools::Fail(kTool, keys.status());
  o.keys = *keys;
  o.net_timeout = tools::TimeoutOf(net);
  o.t = *t;
  if (o.worker.empty()) {
    char host[256] = "?";
    ::gethostname(host, sizeof host - 1);
    o.worker = std::string(host) + ":" + std::to_string(::getpid());
  }

  ClaimQueue queue;
  std::mutex out_mu;
  std::atomic<int> worst{kExitOk};
  auto note = [&](int code) {
    int cur = worst.load();
    while (code != kExitOk && (cur == kExitOk || code < cur) &&
           !worst.compare_exchange_weak(cur, code)) {
    }
  };
  std::vector<std::thread> workers;
  for (unsigned i = 0; i < jobs; ++i) {
    workers.emplace_back([&] {
      claim::Claim c;
      while (queue.Pop(c)) {
        auto r = claim::RunClaim(c, o);
        if (metrics && r.ok()) metrics->Ran(r->outcome, static_cast<double>(r->elapsed_ms) / 1000);
        if (metrics && !r.ok()) metrics->Errored();
        std::lock_guard<std::mutex> g(out_mu);
        if (!r.ok()) {
          tools::Diag(kTool, r.status().message());
          note(ExitCodeFor(r.status()));
          continue;
        }
        std::printf("%s\n", claim::ReportJson(*r, o.worker).c_str());
        std::fflush(stdout);
        if (!r->ok()) {
          note(kExitFunction);
          if (verbosity.level > 0) tools::Diag(kTool, c.key + ": " + r->outcome + ": " + r->detail);
        }
      }
    });
  }
  wire::RecordReader reader(STDIN_FILENO);
  int rc = kExitOk;
  for (;;) {
    queue.WaitForTaker();
    auto rec = reader.Next();
    if (!rec.ok()) {
      rc = tools::Fail(kTool, rec.status().With("stdin"));
      break;
    }
    if (!rec->has_value()) break;
    auto c = claim::DecodeClaimRecord((*rec)->get());
    if (!c.ok()) {
      rc = tools::Fail(kTool, c.status().With("stdin"));
      break;
    }
    queue.Push(std::move(*c));
  }
  queue.Close();
  for (auto& w : workers) w.join();
  return rc != kExitOk ? rc : worst.load();
}
