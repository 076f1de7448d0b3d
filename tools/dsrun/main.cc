// dsrun: read claim records (from dsclaim) on stdin and run each claimed function: decode it,
// stream its inputs, store its output fenced by the claim token, finish or retry it.
// The logic is lib/claim/run_claim.h; this file reads records, runs --jobs at once and counts
// the outcomes for --metrics (worker_metrics.h).
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <functional>
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

// The command line, as parsed (the rest goes straight into claim::RunOptions).
struct RunArgs {
  unsigned jobs = 1;
  double mem_mib = 0;
  std::string trust_file;
  std::string metrics_text;
};

void AddRunFlags(CLI::App& app, RunArgs& a, claim::RunOptions& o) {
  app.add_option("--jobs,-j", a.jobs, "Functions run at once")
      ->capture_default_str()
      ->check(CLI::Range(1, 256));
  app.add_option("--worker", o.worker, "Name recorded as the worker (default host:pid)");
  app.add_option("--trust", a.trust_file,
                 "Run only functions signed by a key listed in FILE (public keys of dsenc keygen "
                 "--sign); others go to QUEUE.failed unrun");
  app.add_option("--scratch", o.scratch_parent, "Where per-run scratch directories are made")
      ->capture_default_str();
  app.add_option("--default-timeout", o.default_timeout_s,
                 "Seconds a function may run when it names no timeout")
      ->capture_default_str();
  app.add_option("--cpu", o.cpu_seconds, "CPU seconds per run (RLIMIT_CPU, 0: none)");
  app.add_option("--memory", a.mem_mib, "Address space per run in MiB (RLIMIT_AS, 0: none)");
  app.add_option("--metrics", a.metrics_text,
                 "Serve Prometheus metrics over HTTP at [ADDR:]PORT/metrics (ADDR defaults to "
                 "127.0.0.1; off unless given)");
}

// What --metrics serves, alive as long as main: the exposer goes before the counters.
struct MetricsServer {
  std::shared_ptr<prometheus::Registry> registry;
  std::unique_ptr<tools::WorkerMetrics> metrics;
  std::unique_ptr<prometheus::Exposer> exposer;
};

Status StartMetrics(const std::string& address_text, MetricsServer& m) {
  auto address = tools::ParseMetricsAddress(address_text);
  if (!address.ok()) return address.status();
  m.registry = std::make_shared<prometheus::Registry>();
  m.metrics = std::make_unique<tools::WorkerMetrics>(*m.registry);
  auto served = tools::ServeMetrics(*address, m.registry);
  if (!served.ok()) return served.status();
  m.exposer = std::move(*served);
  return Status::Ok();
}

// The rest of the run options: the network, the trusted keys and the worker's name.
Status CompleteOptions(const tools::NetworkFlags& net, const RunArgs& a, claim::RunOptions& o) {
  o.memory_bytes = static_cast<uint64_t>(a.mem_mib * 1024 * 1024);
  if (!a.trust_file.empty()) {
    auto trusted = claim::ReadTrustFile(a.trust_file);
    if (!trusted.ok()) return trusted.status();
    o.trusted = std::move(trusted).value();
  }
  auto settings = tools::ResolveNetwork(net);
  if (!settings.ok()) return settings.status();
  o.nodes = settings->nodes;
  o.keys = settings->keys;
  o.net_timeout = settings->timeout;
  o.t = settings->t;
  if (o.worker.empty()) {
    char host[256] = "?";
    ::gethostname(host, sizeof host - 1);
    o.worker = std::string(host) + ":" + std::to_string(::getpid());
  }
  return Status::Ok();
}

// The worst exit code of the runs so far (the lowest non-zero one), shared by the job threads.
class WorstExit {
 public:
  void Note(int code) {
    int cur = worst_.load();
    while (code != kExitOk && (cur == kExitOk || code < cur) &&
           !worst_.compare_exchange_weak(cur, code)) {
    }
  }
  int Get() const { return worst_.load(); }

 private:
  std::atomic<int> worst_{kExitOk};
};

// One job thread: runs the claims it is handed until the queue closes, printing a JSON report
// line for each.
void RunJobs(ClaimQueue& queue, const claim::RunOptions& o, tools::WorkerMetrics* metrics,
             const tools::Verbosity& verbosity, std::mutex& out_mu, WorstExit& worst) {
  claim::Connections conn(o);  // kept from one claim to the next
  claim::Claim c;
  while (queue.Pop(c)) {
    auto r = claim::RunClaim(c, o, conn);
    if (metrics != nullptr && r.ok()) {
      metrics->Ran(r->outcome, static_cast<double>(r->elapsed_ms) / 1000);
    }
    if (metrics != nullptr && !r.ok()) metrics->Errored();
    std::lock_guard<std::mutex> g(out_mu);
    if (!r.ok()) {
      tools::Diag(kTool, r.status().message());
      worst.Note(ExitCodeFor(r.status()));
      continue;
    }
    std::printf("%s\n", claim::ReportJson(*r, o.worker).c_str());
    std::fflush(stdout);
    if (!r->ok()) {
      worst.Note(kExitFunction);
      if (verbosity.level > 0) tools::Diag(kTool, c.key + ": " + r->outcome + ": " + r->detail);
    }
  }
}

// Reads claim records from stdin, one only when a job thread waits for it, until EOF.
int ReadClaims(ClaimQueue& queue) {
  wire::RecordReader reader(STDIN_FILENO);
  for (;;) {
    queue.WaitForTaker();
    auto rec = reader.Next();
    if (!rec.ok()) return tools::Fail(kTool, rec.status().With("stdin"));
    if (!rec->has_value()) return kExitOk;
    auto c = claim::DecodeClaimRecord((*rec)->get());
    if (!c.ok()) return tools::Fail(kTool, c.status().With("stdin"));
    queue.Push(std::move(*c));
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"dsrun - run claimed functions read from stdin (dsclaim QUEUE --follow | dsrun)",
               "dsrun"};
  tools::NetworkFlags net;
  tools::Verbosity verbosity;
  tools::AddToolFlags(app, net, verbosity);
  RunArgs a;
  claim::RunOptions o;
  AddRunFlags(app, a, o);
  if (int rc = tools::ParseArgs(app, argc, argv); rc >= 0) return rc;
  // Declared before the job threads, so that it outlives them.
  MetricsServer metrics;
  if (!a.metrics_text.empty()) {
    if (Status st = StartMetrics(a.metrics_text, metrics); !st.ok()) return tools::Fail(kTool, st);
  }
  if (Status st = CompleteOptions(net, a, o); !st.ok()) return tools::Fail(kTool, st);

  ClaimQueue queue;
  std::mutex out_mu;
  WorstExit worst;
  std::vector<std::thread> workers;
  for (unsigned i = 0; i < a.jobs; ++i) {
    workers.emplace_back(RunJobs, std::ref(queue), std::cref(o), metrics.metrics.get(),
                         std::cref(verbosity), std::ref(out_mu), std::ref(worst));
  }
  const int rc = ReadClaims(queue);
  queue.Close();
  for (auto& w : workers) w.join();
  return rc != kExitOk ? rc : worst.Get();
}
