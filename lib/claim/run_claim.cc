#include "claim/run_claim.h"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <thread>
#include <tuple>

#include "claim/claim_record.h"
#include "claim/lease.h"
#include "claim/push.h"
#include "claim/signing.h"
#include "client/find.h"
#include "client/object_io.h"
#include "exec/runner.h"
#include "util/fd_io.h"
#include "util/temp_file.h"

namespace dstk::claim {
namespace {

// Renews the lease every third of it on its own thread, through `renewer` (Connections), which
// nothing else uses meanwhile (a Cluster is not thread-safe; Stop joins the thread). `lost` turns
// true when renewal fails; the run is then cancelled.
class Renewer {
 public:
  Renewer(const Claim& c, const RunOptions& o, net::Cluster& renewer)
      : claim_(c), opts_(o), network_(renewer) {
    if (c.mode == wire::ClaimMode::kLease) thread_ = std::thread([this] { Loop(); });
  }
  ~Renewer() { Stop(); }
  void Stop() {
    {
      std::lock_guard<std::mutex> g(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
  }
  bool lost() const { return lost_.load(); }
  std::string why() const {
    std::lock_guard<std::mutex> g(mu_);
    return why_;
  }

 private:
  void Loop() {
    auto queue_units = client::WriteView(network_, claim_.queue, opts_.t.n);
    if (!queue_units.ok()) {
      std::lock_guard<std::mutex> g(mu_);
      why_ = queue_units.status().message();
      lost_ = true;
      return;
    }
    net::Cluster& cluster = *queue_units;
    const auto period = std::chrono::milliseconds(std::max<uint32_t>(claim_.lease_ms / 3, 50));
    std::unique_lock<std::mutex> lk(mu_);
    while (!cv_.wait_for(lk, period, [this] { return stop_; })) {
      lk.unlock();
      Status st = Renew(cluster, claim_);
      lk.lock();
      if (!st.ok()) {
        why_ = st.message();
        lost_ = true;
        return;
      }
    }
  }

  const Claim& claim_;
  const RunOptions& opts_;
  net::Cluster& network_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::atomic<bool> lost_{false};
  std::string why_;
  std::thread thread_;
};

std::string LeafOf(const std::string& key) {
  return key.substr(key.rfind('/') + 1);
}

// Stores `fd` (from its start) as object `name`, on the units it is placed on.
Result<wire::Manifest> PutPlaced(net::Cluster& network, const std::string& name, int fd,
                                 const client::PutOptions& o) {
  auto view = client::WriteView(network, name, o.t.n);
  if (!view.ok()) return view.status();
  return client::PutObject(*view, name, fd, o);
}

// Pushes `f` onto `queue`, on the queue's units.
Result<std::string> PushPlaced(net::Cluster& network, const client::Thresholds& t,
                               KeyGenerator& keys, const std::string& queue, const Function& f) {
  auto view = client::WriteView(network, queue, t.n);
  if (!view.ok()) return view.status();
  return PushFunction(*view, t, keys, queue, f);
}

std::string LogName(const Claim& c) {
  return c.queue + ".log/" + LeafOf(c.key);
}

// A run's log: a small JSON object per run, QUEUE.log/<key's leaf>, so that exit status and
// stderr survive.
client::NewObject LogOf(const Claim& c, const RunReport& r, const exec::RunResult* run,
                        const std::string& worker, bool fresh) {
  nlohmann::json j = nlohmann::json::parse(ReportJson(r, worker));
  if (run != nullptr) j["stderr"] = run->stderr_tail;
  client::NewObject log;
  log.name = LogName(c);
  log.bytes = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  // A consume-mode function is claimed once, so its log name is new on the success path. A
  // lease may run again and log to the same name, and a failure may follow a log already
  // written (see Succeeded): those go past any newer revision they meet (PutSmallObjects).
  log.exists_maybe = !fresh || c.mode != wire::ClaimMode::kConsume;
  return log;
}

// The options of every write a run makes: the worker's thresholds, fenced by the claim's token,
// small objects to the units' packs.
client::PutOptions WriteOptions(const Claim& c, const RunOptions& o) {
  client::PutOptions po;
  po.t = o.t;
  po.token = c.ballot.n;
  po.pack = true;
  return po;
}

// Stores `objects` (the log, and maybe the output), each on its units; one status each.
std::vector<Status> PutSmallPlaced(net::Cluster& network, const Claim& c, const RunOptions& o,
                                   std::vector<client::NewObject> objects) {
  return client::PutSmallObjects(network, std::move(objects), WriteOptions(c, o));
}

// Adds a failed log write to the report's detail. The log is a record for people, not part of
// the queue's state: a failed write does not undo the outcome, but the report says so (after
// the log's copy of it was made).
RunReport WithLogStatus(RunReport report, const Status& logged) {
  if (!logged.ok()) report.detail += "; log: " + logged.message();
  return report;
}

// Writes the run's log and returns the report, with a failed write said in it.
RunReport Logged(net::Cluster& network, const RunOptions& o, const Claim& c, RunReport report,
                 const exec::RunResult* run, bool fresh) {
  const Status logged = PutSmallPlaced(network, c, o, {LogOf(c, report, run, o.worker, fresh)})[0];
  return WithLogStatus(std::move(report), logged);
}

}  // namespace

std::string ReportJson(const RunReport& r, const std::string& worker) {
  nlohmann::ordered_json j{{"type", "result"},           {"key", r.key},
                           {"outcome", r.outcome},       {"exit", r.exit_code},
                           {"signal", r.signal},         {"output", r.output},
                           {"token", r.token},           {"worker", worker},
                           {"elapsed_ms", r.elapsed_ms}, {"detail", r.detail}};
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

namespace {

// The failure path: retry up to the function's attempts, then dead-letter it to QUEUE.failed.
// Consume mode re-pushes the function (the claim consumed it); lease mode releases it (or
// finishes it once dead-lettered). Either way nothing is lost.
// `network` is the whole node list, `cl` the claim's queue units. `refused`: never run (not
// trusted), so dead-lettered at once whatever its attempts.
Result<RunReport> Failed(net::Cluster& network, net::Cluster& cl, const Claim& claim,
                         const Function& f, const RunOptions& o, RunReport report,
                         const exec::RunResult* run, bool refused = false) {
  const uint32_t runs = claim.mode == wire::ClaimMode::kLease ? claim.attempts : f.attempt + 1;
  KeyGenerator keys;
  if (refused || runs >= f.attempts) {
    Function dead = f;
    dead.attempt = runs;  // like a re-queued copy: the runs it has had
    dead.reason =
        refused ? report.detail : report.detail + " (after " + std::to_string(runs) + " runs)";
    auto k = PushPlaced(network, o.t, keys, claim.queue + ".failed", dead);
    if (!k.ok()) return k.status().With("dead-letter " + claim.key);
    if (claim.mode == wire::ClaimMode::kLease) {
      // Dead-lettered already: a failed finish only leaves the lease to expire, and the copy in
      // QUEUE.failed stands. Said in the report, like the finish after a successful run.
      Status st = Finish(cl, claim);
      if (!st.ok()) report.detail += "; finish: " + st.message();
    }
    report.outcome = "dead-lettered";
  } else if (claim.mode == wire::ClaimMode::kLease) {
    Release(cl, claim);
    report.outcome = "failed";
  } else {
    Function again = f;
    again.attempt = runs;
    auto k = PushFunction(cl, o.t, keys, claim.queue, again);
    if (!k.ok()) return k.status().With("re-queue " + claim.key);
    report.outcome = "requeued";
  }
  // Not fresh: Succeeded may have logged this run as done before its output failed.
  return Logged(network, o, claim, std::move(report), run, /*fresh=*/false);
}

// What RunClaim runs: the function's argv in a clean environment and a scratch dir, under the
// worker's limits and the function's timeout (else the worker's default).
exec::RunSpec SpecFor(const Function& f, const RunOptions& o) {
  exec::RunSpec spec;
  spec.argv = f.argv;
  spec.env = exec::CleanEnv();
  spec.scratch_parent = o.scratch_parent;
  spec.limits.timeout = std::chrono::seconds(f.timeout_s != 0 ? f.timeout_s : o.default_timeout_s);
  spec.limits.cpu_seconds = o.cpu_seconds;
  spec.limits.memory_bytes = o.memory_bytes;
  return spec;
}

// Streams the input objects, in order, into the command's stdin. It runs on the runner's own
// thread, so it reads through `feeder` (Connections), which nothing else uses meanwhile.
exec::StdinFeeder InputFeeder(std::vector<std::string> inputs, const RunOptions& o,
                              net::Cluster& feeder) {
  return [inputs = std::move(inputs), &o, &feeder](int stdin_fd) -> Status {
    if (inputs.empty()) return Status::Ok();
    client::GetOptions g;
    g.t = o.t;
    for (const auto& in : inputs) {
      auto m = client::ReadObject(feeder, in, stdin_fd, g);
      if (!m.ok()) return m.status().With("input " + in);
    }
    return Status::Ok();
  };
}

// Outputs up to this size are stored with the run log in one put (client::PutSmallObjects:
// two fan-out rounds for both, not five); larger ones stream through PutObject.
constexpr uint64_t kSmallOutput = uint64_t{1} << 20;

// The output file's bytes (from its start) when it is at most kSmallOutput long.
std::optional<std::string> SmallOutput(int fd) {
  if (::lseek(fd, 0, SEEK_SET) != 0) return std::nullopt;  // the command wrote it to its end
  const uint64_t len = KnownLength(fd);
  if (len == kUnknownLength || len > kSmallOutput) return std::nullopt;
  std::string bytes(len, '\0');
  auto got = ReadFull(fd, {reinterpret_cast<uint8_t*>(bytes.data()), bytes.size()});
  if (!got.ok() || *got != len) return std::nullopt;
  return bytes;
}

// Stores the output, streamed from `out_file`, then the log (two puts).
std::pair<Status, Status> PutOutputThenLog(net::Cluster& network, const Claim& claim,
                                           const RunOptions& o, const RunReport& report,
                                           const exec::RunResult& run, const std::string& name,
                                           int out_fd) {
  if (::lseek(out_fd, 0, SEEK_SET) != 0) return {Status::IoError("lseek failed"), Status::Ok()};
  auto m = PutPlaced(network, name, out_fd, WriteOptions(claim, o));
  if (!m.ok()) return {m.status(), Status::Ok()};
  return {Status::Ok(), PutSmallPlaced(network, claim, o,
                                       {LogOf(claim, report, &run, o.worker,
                                              /*fresh=*/true)})[0]};
}

// A run that exited 0: its stdout stored as the output object (fenced by the claim's token),
// the log written and, in lease mode, the function finished. A small output and the log go in
// one put (each on its own units); the log then says "done" before the output's fate is known,
// and a failure below writes it again (past that revision). A failed store goes the way of a
// failed run (Failed), except a fenced one in lease mode: a newer owner has it.
Result<RunReport> Succeeded(net::Cluster& network, net::Cluster& cl, const Claim& claim,
                            const Function& f, const RunOptions& o, RunReport& report,
                            const exec::RunResult& run, UniqueFd out_file) {
  report.outcome = "done";
  report.output = f.output;
  Status stored = Status::Ok();
  Status logged = Status::Ok();
  bool log_written = false;
  if (f.output.empty()) {
    logged = PutSmallPlaced(network, claim, o,
                            {LogOf(claim, report, &run, o.worker, /*fresh=*/true)})[0];
  } else if (auto small = SmallOutput(out_file.get()); small) {
    client::NewObject output;
    output.name = f.output;
    output.bytes = std::move(*small);
    output.exists_maybe = true;
    auto both =
        PutSmallPlaced(network, claim, o,
                       {std::move(output), LogOf(claim, report, &run, o.worker, /*fresh=*/true)});
    stored = both[0];
    logged = both[1];
    log_written = logged.ok();
  } else {
    std::tie(stored, logged) =
        PutOutputThenLog(network, claim, o, report, run, f.output, out_file.get());
  }
  out_file.reset();
  if (!stored.ok()) {
    report.output.clear();
    report.detail = "output not stored: " + stored.message();
    if (stored.code() != Code::kFenced || claim.mode != wire::ClaimMode::kLease) {
      return Failed(network, cl, claim, f, o, report, &run);
    }
    report.outcome = "fenced";  // a newer owner has it; it is theirs to finish
    // The log may say "done": say "fenced" past it (else no log, as before the put).
    return log_written ? Logged(network, o, claim, report, &run, /*fresh=*/false) : report;
  }
  report = WithLogStatus(std::move(report), logged);
  if (claim.mode == wire::ClaimMode::kLease) {
    Status st = Finish(cl, claim);
    if (!st.ok()) report.detail += "; finish: " + st.message();
  }
  return report;
}

}  // namespace

Result<RunReport> RunClaim(const Claim& claim, const RunOptions& o, Connections& conn) {
  RunReport report;
  report.key = claim.key;
  report.token = claim.ballot.n;
  net::Cluster& network = conn.network;
  auto queue_units = client::WriteView(network, claim.queue, o.t.n);
  if (!queue_units.ok()) return queue_units.status().With("claim " + claim.key);
  net::Cluster& cl = *queue_units;
  auto f = FunctionOf(claim);
  if (!f.ok()) return f.status().With("claim " + claim.key);
  if (o.trusted) {
    if (Status trust = VerifyFunction(*f, claim.queue, *o.trusted); !trust.ok()) {
      report.detail = "not run: " + trust.message();
      return Failed(network, cl, claim, *f, o, report, nullptr, /*refused=*/true);
    }
  }
  // Lease mode: renew before starting. A claim may have waited (in a pipe, behind busy jobs);
  // one whose lease another walker took over meanwhile is not ours to run any more.
  if (claim.mode == wire::ClaimMode::kLease) {
    if (Status st = Renew(cl, claim); !st.ok()) {
      report.outcome = "lease-lost";
      report.detail = "not run: the lease could not be renewed at the start: " + st.message();
      return report;
    }
  }

  // Stdout goes to an unlinked temp file (in $TMPDIR: see TempDir()), stored only if the run
  // succeeds. Closed on every return by its owner; the early closes below only free its space
  // before the slower steps that follow (re-queueing, logging).
  auto out = OpenUnlinkedTempFile("dstk-out");
  if (!out.ok()) return out.status().With("claim " + claim.key + ": output");
  UniqueFd out_file = std::move(out).value();
  const int out_fd = out_file.get();

  const exec::RunSpec spec = SpecFor(*f, o);
  const exec::StdinFeeder feed = InputFeeder(f->inputs, o, conn.feeder);
  Renewer renewer(claim, o, conn.renewer);
  auto run = exec::Run(spec, feed, out_fd, [&renewer] { return renewer.lost(); });
  renewer.Stop();
  if (!run.ok()) {
    out_file.reset();
    report.detail = "could not run: " + run.status().message();
    return Failed(network, cl, claim, *f, o, report, nullptr);
  }
  report.exit_code = run->exit_code;
  report.signal = run->signal;
  report.elapsed_ms = run->elapsed.count();
  report.detail = run->start_error.empty() ? run->Describe() : run->start_error;

  if (renewer.lost()) {
    out_file.reset();
    report.outcome = "lease-lost";
    report.detail = "lease lost, output discarded: " + renewer.why();
    return report;
  }
  if (run->ok()) return Succeeded(network, cl, claim, *f, o, report, *run, std::move(out_file));
  out_file.reset();
  return Failed(network, cl, claim, *f, o, report, &*run);
}

}  // namespace dstk::claim
