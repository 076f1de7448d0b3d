// dsnode: one storage unit. Serves a directory over ZeroMQ until SIGINT or SIGTERM.
// All behaviour lives in lib/store and lib/node; this file parses flags, checks the listen
// address, wires signals to a file descriptor, serves the metrics when asked, and logs.
#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <functional>
#include <memory>
#include <span>
#include <string>

#include "cli_common.h"
#include "metrics_http.h"
#include "net/endpoint.h"
#include "node/free_space.h"
#include "node/metrics.h"
#include "node/server.h"
#include "node/service.h"
#include "sd_notify.h"
#include "store/file_util.h"
#include "store/slice_store.h"

namespace {

using dstk::node::LogLevel;

const char* LevelName(LogLevel l) {
  switch (l) {
    case LogLevel::kError:
      return "error";
    case LogLevel::kWarn:
      return "warn";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kDebug:
      return "debug";
  }
  return "?";
}

// Loopback-only unless told otherwise: with no keys configured the protocol is unauthenticated,
// so anything but a loopback or ipc endpoint exposes the unit to the network.
bool IsLocalEndpoint(const dstk::net::Endpoint& ep) {
  if (ep.scheme == "ipc") return true;
  return ep.host.rfind("127.", 0) == 0 || ep.host == "[::1]";
}

// The command line, as parsed.
struct NodeArgs {
  std::string dir, listen = "tcp://127.0.0.1:7100", level = "info";
  bool insecure = false;
  std::string key_file, allow_file;
  size_t max_inflight = dstk::node::InflightLimits{}.per_client;
  std::string metrics_text;
  std::string ready_file;
};

void AddNodeFlags(CLI::App& app, NodeArgs& a) {
  app.add_option("--dir", a.dir, "Directory holding this unit's slices (created if missing)")
      ->required();
  app.add_option("--listen", a.listen, "ZeroMQ endpoint to bind")->capture_default_str();
  app.add_option("--log-level", a.level, "error, warn, info or debug")
      ->capture_default_str()
      ->check(CLI::IsMember({"error", "warn", "info", "debug"}));
  app.add_option("--key", a.key_file,
                 "CurveZMQ secret key file of this unit (dsenc keygen): encrypt and authenticate");
  app.add_option("--allow", a.allow_file,
                 "File of client public keys allowed in, one a line, each with the rights it "
                 "grants (with --key; see man dsnode, ALLOW-LIST)");
  app.add_flag("--insecure-listen-any", a.insecure,
               "Allow binding a non-loopback address without authentication (anyone who can "
               "reach the port can read and write slices)");
  app.add_option("--max-inflight", a.max_inflight,
                 "Requests one client may have in flight (read, not yet answered); past it the "
                 "unit answers busy at once")
      ->capture_default_str()
      ->check(CLI::Range(size_t{1}, size_t{100000}));
  app.add_option("--metrics", a.metrics_text,
                 "Serve Prometheus metrics over HTTP at [ADDR:]PORT/metrics (ADDR defaults to "
                 "127.0.0.1; off unless given)");
  app.add_option("--ready-file", a.ready_file,
                 "Once the endpoint is bound, write it (one line) to this file, atomically "
                 "(temp file and rename): something to wait on before using the unit");
  app.set_version_flag("--version", dstk::tools::Version());
  // Every flag can also come from an INI/TOML file: `dir = "/srv/unit0"`, `listen = ...`.
  app.set_config("--config", "", "Read options from FILE (key = value, the long flag names)");
}

// --key and --allow into `opts`, and the refusal to listen beyond loopback unauthenticated.
dstk::Status SecurityOptions(const NodeArgs& a, const dstk::net::Endpoint& endpoint,
                             dstk::node::ServerOptions& opts) {
  if (!a.key_file.empty()) {
    auto keys = dstk::net::ReadSecretKey(a.key_file);
    if (!keys.ok()) return keys.status();
    if (a.allow_file.empty()) {
      return dstk::Status::Invalid("--key needs --allow FILE: the client keys to let in");
    }
    auto allow = dstk::node::ReadAllowList(a.allow_file);
    if (!allow.ok()) return allow.status();
    opts.keys = *keys;
    opts.allow = *allow;
  } else if (!a.allow_file.empty()) {
    return dstk::Status::Invalid("--allow needs --key");
  }
  if (!opts.keys && !IsLocalEndpoint(endpoint) && !a.insecure) {
    return dstk::Status::Invalid("refusing to listen on " + endpoint.ToString() +
                                 " without authentication; use a loopback address "
                                 "(tcp://127.0.0.1:PORT) or pass --insecure-listen-any");
  }
  return dstk::Status::Ok();
}

// Signals become readable bytes on a file descriptor the server polls: no handler, no global
// flag, and a request in progress always finishes before we stop.
dstk::Result<int> StopSignalFd() {
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGINT);
  sigaddset(&mask, SIGTERM);
  sigprocmask(SIG_BLOCK, &mask, nullptr);
  signal(SIGPIPE, SIG_IGN);
  const int stop_fd = signalfd(-1, &mask, SFD_CLOEXEC);
  if (stop_fd < 0) {
    return dstk::Status::IoError(std::string("signalfd: ") + std::strerror(errno));
  }
  return stop_fd;
}

// What the store found when it opened: its size, and any damage a crash or bit rot left.
void LogStoreState(const std::string& dir, dstk::store::SliceStore& store,
                   const dstk::node::LogSink& log) {
  const auto info = store.Info();
  log(LogLevel::kInfo, "serving " + dir + ": " + std::to_string(info.objects) + " objects, " +
                           std::to_string(info.slices) + " slices, " +
                           std::to_string(info.bytes_used) + " bytes");
  if (store.claim_journal_tail_was_torn()) {
    log(LogLevel::kWarn,
        "claims.journal ended in a write cut short by a crash (never "
        "acknowledged to a claimer); zeroed it and carried on");
  }
  if (const uint64_t torn = store.packs().torn_tail_bytes(); torn > 0) {
    log(LogLevel::kWarn, "the newest pack ended in a write cut short by a crash (" +
                             std::to_string(torn) + " bytes, never acknowledged); cut it off");
  }
  for (const auto& damage : store.packs().damaged()) {
    log(LogLevel::kError, damage + ": the records after it are not served (bitrot?)");
  }
}

void LogSecurity(const dstk::node::ServerOptions& opts, const dstk::net::Endpoint& endpoint,
                 const dstk::node::LogSink& log) {
  if (opts.keys) {
    size_t limited = 0;
    for (const auto& [key, rights] : opts.allow) limited += rights.unrestricted() ? 0 : 1;
    log(LogLevel::kInfo, "CurveZMQ on: public key " + opts.keys->public_z85 + ", " +
                             std::to_string(opts.allow.size()) + " client keys allowed, " +
                             std::to_string(limited) + " of them with limited rights");
  } else if (!IsLocalEndpoint(endpoint)) {
    log(LogLevel::kWarn, "listening on a non-loopback address WITHOUT authentication");
  }
}

// What --metrics serves, alive as long as main; destroyed exposer first, after the service
// stops using the counters.
struct MetricsServer {
  std::shared_ptr<prometheus::Registry> registry;
  std::unique_ptr<dstk::node::UnitMetrics> metrics;
  std::shared_ptr<dstk::node::FreeSpaceCollectable> free_space;
  std::unique_ptr<prometheus::Exposer> exposer;
};

dstk::Status StartMetrics(const std::string& address, const std::string& dir,
                          const std::string& unit_id, MetricsServer& m) {
  m.registry = std::make_shared<prometheus::Registry>();
  m.metrics = std::make_unique<dstk::node::UnitMetrics>(*m.registry, unit_id);
  m.free_space = std::make_shared<dstk::node::FreeSpaceCollectable>(dir, unit_id);
  auto served = dstk::tools::ServeMetrics(address, m.registry);
  if (!served.ok()) return served.status();
  m.exposer = std::move(*served);
  m.exposer->RegisterCollectable(m.free_space);
  return dstk::Status::Ok();
}

// Ready once the socket is bound (Serve's on_ready, before it polls for requests): tell systemd
// (Type=notify) and write --ready-file. The "listening on" log line stays for people. The file
// first, so that whoever heard READY=1 finds it too.
std::function<void(const std::string&)> OnReady(const std::string& ready_file,
                                                const dstk::node::LogSink& log) {
  return [ready_file, log](const std::string& bound) {
    if (!ready_file.empty()) {
      const std::string line = bound + "\n";
      const std::span<const uint8_t> bytes(reinterpret_cast<const uint8_t*>(line.data()),
                                           line.size());
      if (dstk::Status st = dstk::store::WriteFileAtomic(ready_file, {bytes}); !st.ok()) {
        log(LogLevel::kWarn, "cannot write --ready-file: " + st.message());
      }
    }
    if (auto err = dstk::tools::NotifySystemd("READY=1\nSTATUS=listening on " + bound);
        !err.empty()) {
      log(LogLevel::kWarn, "cannot tell systemd we are ready: " + err);
    }
  };
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"dsnode - serve one dstk storage unit (a directory) over ZeroMQ", "dsnode"};
  NodeArgs a;
  AddNodeFlags(app, a);
  if (int rc = dstk::tools::ParseArgs(app, argc, argv); rc >= 0) return rc;

  const int max_level = a.level == "error" ? 0 : a.level == "warn" ? 1 : a.level == "info" ? 2 : 3;
  // Info and debug lines are buffered and written by the server between groups of requests
  // (ServerOptions::flush_log): the audit lines of a batched claim in one write(2) instead of
  // one each, about a seventh of a unit's CPU per batched claim. Warnings and errors go at once.
  std::setvbuf(stderr, nullptr, _IOFBF, size_t{64} << 10);
  const dstk::node::LogSink log = [max_level](LogLevel l, const std::string& msg) {
    if (static_cast<int>(l) > max_level) return;
    std::fprintf(stderr, "dsnode: %s: %s\n", LevelName(l), msg.c_str());
    if (l <= LogLevel::kWarn) std::fflush(stderr);
  };

  auto endpoint = dstk::net::ParseEndpoint(a.listen, dstk::net::EndpointUse::kBind);
  if (!endpoint.ok()) return dstk::tools::Fail("dsnode", endpoint.status().With("--listen"));
  std::string metrics_address;
  if (!a.metrics_text.empty()) {
    auto parsed = dstk::tools::ParseMetricsAddress(a.metrics_text);
    if (!parsed.ok()) return dstk::tools::Fail("dsnode", parsed.status());
    metrics_address = *parsed;
  }
  dstk::node::ServerOptions opts;
  if (dstk::Status st = SecurityOptions(a, *endpoint, opts); !st.ok()) {
    return dstk::tools::Fail("dsnode", st);
  }
  auto stop_fd = StopSignalFd();
  if (!stop_fd.ok()) return dstk::tools::Fail("dsnode", stop_fd.status());

  auto store = dstk::store::SliceStore::Open(a.dir);
  if (!store.ok()) return dstk::tools::Fail("dsnode", store.status());
  LogStoreState(a.dir, **store, log);
  LogSecurity(opts, *endpoint, log);
  // The metrics, when asked for: made after the signals are blocked (the exposer's threads
  // inherit the mask).
  MetricsServer metrics;
  if (!metrics_address.empty()) {
    if (dstk::Status st = StartMetrics(metrics_address, a.dir, (*store)->unit_id(), metrics);
        !st.ok()) {
      return dstk::tools::Fail("dsnode", st);
    }
    log(LogLevel::kInfo, "metrics on http://" + metrics_address + "/metrics");
  }
  dstk::node::Service service(**store, log, dstk::tools::Version(), metrics.metrics.get());
  opts.metrics = metrics.metrics.get();
  opts.listen = endpoint->ToString();
  opts.stop_fd = *stop_fd;
  opts.limits.per_client = a.max_inflight;
  opts.on_ready = OnReady(a.ready_file, log);
  opts.flush_log = [] { std::fflush(stderr); };
  dstk::Status st = dstk::node::Serve(service, opts, log);
  if (!st.ok()) return dstk::tools::Fail("dsnode", st);
  if (auto err = dstk::tools::NotifySystemd("STOPPING=1"); !err.empty()) {
    log(LogLevel::kWarn, "cannot tell systemd we are stopping: " + err);
  }
  log(LogLevel::kInfo, "stopped cleanly");
  return 0;
}
