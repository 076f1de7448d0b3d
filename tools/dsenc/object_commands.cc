// dsenc put, get, rm, ls and stat: the network-facing subcommands.
#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "claim/signing.h"
#include "client/find.h"
#include "client/integrity.h"
#include "client/object_io.h"
#include "client/rebalance.h"
#include "client/repair.h"
#include "client/scrub.h"
#include "codec/digest.h"
#include "commands.h"
#include "json_line.h"
#include "net/gather.h"
#include "progress.h"
#include "util/unique_fd.h"

namespace dstk::tools::dsenc {

Result<Session> Connect(const Common& c) {
  auto settings = ResolveNetwork(c.net);
  if (!settings.ok()) return settings.status();
  Session s;
  s.t = settings->t;
  s.cluster = std::make_unique<net::Cluster>(settings->nodes, settings->timeout, settings->keys);
  return s;
}

Result<UniqueFd> OpenInput(const std::string& file) {
  UniqueFd opened;
  if (file.empty() || file == "-") return opened;
  opened.reset(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
  if (!opened.valid()) return Status::Invalid("cannot open " + file + ": " + std::strerror(errno));
  return opened;
}

namespace {

constexpr const char* kTool = "dsenc";

std::string Human(uint64_t bytes) {
  char buf[32];
  if (bytes < 1024)
    std::snprintf(buf, sizeof buf, "%llu B", static_cast<unsigned long long>(bytes));
  else if (bytes < (1u << 20))
    std::snprintf(buf, sizeof buf, "%.1f KiB", static_cast<double>(bytes) / 1024);
  else if (bytes < (1u << 30))
    std::snprintf(buf, sizeof buf, "%.1f MiB", static_cast<double>(bytes) / (1 << 20));
  else
    std::snprintf(buf, sizeof buf, "%.2f GiB", static_cast<double>(bytes) / (1 << 30));
  return buf;
}

}  // namespace

int Put(const Common& c, Session& s, const std::string& name, const std::string& file) {
  auto opened = OpenInput(file);
  if (!opened.ok()) return Fail(kTool, opened.status());
  const int fd = opened->valid() ? opened->get() : STDIN_FILENO;
  client::PutOptions o;
  o.t = s.t;
  o.segment_size = c.segment_size;
  o.token = c.token;
  // Stored, but with fewer slices than n: say where redundancy is missing and how to restore it.
  std::vector<std::string> left_out;
  o.left_out = [&left_out](size_t, const std::string& why) { left_out.push_back(why); };
  auto view = client::WriteView(*s.cluster, name, s.t.n);
  if (!view.ok()) return Fail(kTool, view.status());
  Result<wire::Manifest> m = Status::Invalid("not stored");
  {
    ProgressBar bar(kTool, "put " + name, c.verbosity.level > 0);
    m = client::PutObject(*view, name, fd, o, [&bar](uint64_t d, uint64_t t) { bar.Update(d, t); });
  }  // the bar is erased before anything else is said
  // Read whole: no need to hold it open while the rest is reported.
  opened->reset();
  if (!m.ok()) return Fail(kTool, m.status());
  if (!left_out.empty() && c.verbosity.level > 0) {
    for (const auto& why : left_out) Diag(kTool, "put " + name + ": left out " + why);
    Diag(kTool, "put " + name + ": stored on " + std::to_string(view->size() - left_out.size()) +
                    " of " + std::to_string(view->size()) + " units; `dsenc repair " + name +
                    "` gives the others their slices once they can take them");
  }
  if (c.json) {
    std::printf("%s\n", JsonLine(nlohmann::json{{"name", name},
                                                {"rev", m->rev},
                                                {"size", m->size},
                                                {"segs", m->segs},
                                                {"k", m->k},
                                                {"n", m->n}})
                            .c_str());
  } else if (c.verbosity.level >= 2) {
    Diag(kTool,
         "stored " + name + " revision " + std::to_string(m->rev) + " (" + Human(m->size) + ")");
  }
  return kExitOk;
}

int Get(const Common& c, Session& s, const std::string& name) {
  client::GetOptions o;
  o.t = s.t;
  client::ReadReport report;
  o.report = &report;
  auto m = [&] {
    ProgressBar bar(kTool, "get " + name, c.verbosity.level > 0);  // erased before the warnings
    return client::ReadObject(*s.cluster, name, STDOUT_FILENO, o,
                              [&bar](uint64_t d, uint64_t t) { bar.Update(d, t); });
  }();
  // A lying unit is worth a warning even when the read went around it: stat names it too.
  for (const auto& note : report.notes) Diag(kTool, "warning: get " + name + ": " + note);
  if (!m.ok()) return Fail(kTool, m.status());
  return kExitOk;
}

int Remove(Session& s, const std::string& name) {
  client::Found f = client::FindObject(*s.cluster, name, s.t.n, false, false);
  Status st = client::RemoveObject(f.view, name, s.t);
  return st.ok() ? kExitOk : Fail(kTool, st);
}

int List(const Common& c, Session& s, const std::string& prefix, bool nul) {
  auto entries = client::ListObjects(*s.cluster, prefix, s.t.k, 0, "", 0, client::TrustCopies(s.t));
  if (!entries.ok()) return Fail(kTool, entries.status());
  for (const auto& e : *entries) {
    if (c.json) {
      std::printf("%s\n", JsonLine(nlohmann::json{{"name", e.name},
                                                  {"rev", e.manifest.rev},
                                                  {"size", e.manifest.size}})
                              .c_str());
    } else {
      std::fwrite(e.name.data(), 1, e.name.size(), stdout);
      std::fputc(nul ? '\0' : '\n', stdout);
    }
  }
  return entries->empty() ? kExitNothing : kExitOk;
}

namespace {

// Each unit's stat reply (none when it did not answer) and how long it took.
struct UnitStats {
  std::vector<std::optional<net::Response>> got;
  std::vector<double> ms;
  // Up: answered stat with the unit's figures.
  bool up(size_t u) const { return got[u] && got[u]->reply.ok() && got[u]->reply.unit; }
};

// One stat round to every unit of `cl`.
UnitStats AskEveryUnit(net::Cluster& cl) {
  std::vector<net::Clock::time_point> sent(cl.size());
  UnitStats stats{std::vector<std::optional<net::Response>>(cl.size()),
                  std::vector<double>(cl.size(), 0)};
  std::vector<size_t> all(cl.size());
  for (size_t u = 0; u < cl.size(); ++u) all[u] = u;
  net::GatherOptions g;
  // The latency is taken as each reply arrives, not when the round ends.
  g.on_reply = [&](const net::Response& resp) {
    stats.ms[resp.unit] =
        std::chrono::duration<double, std::milli>(net::Clock::now() - sent[resp.unit]).count();
  };
  net::Gathered round = net::Gather(
      cl, all,
      [&](size_t u) {
        wire::Request r;
        r.op = wire::Op::kStat;
        sent[u] = net::Clock::now();
        return cl.Send(u, r);
      },
      g);
  for (net::Response& resp : round.replies) {
    const size_t u = resp.unit;
    stats.got[u] = std::move(resp);
  }
  return stats;
}

// Unit `u`'s entry in `dsenc stat --json`'s "units".
nlohmann::ordered_json HealthJson(const net::Cluster& cl, const UnitStats& stats, size_t u) {
  const bool ok = stats.up(u);
  nlohmann::ordered_json j{{"unit", u}, {"endpoint", cl.endpoint(u)}, {"reachable", ok}};
  if (ok) {
    const auto& i = *stats.got[u]->reply.unit;
    j.update({{"latency_ms", stats.ms[u]},
              {"id", stats.got[u]->reply.unit_id},
              {"version", i.version},
              {"objects", i.objects},
              {"slices", i.slices},
              {"bytes_used", i.bytes_used},
              {"bytes_free", i.bytes_free},
              {"uptime_s", i.uptime_s}});
  }
  return j;
}

// Unit `u`'s line of `dsenc stat`'s table, after the table's head for the first unit.
void PrintHealthLine(const net::Cluster& cl, const UnitStats& stats, size_t u) {
  if (u == 0) {
    std::printf("%-3s %-28s %-11s %8s %8s %10s %10s %10s %s\n", "#", "endpoint", "state", "latency",
                "objects", "slices", "used", "free", "version");
  }
  if (!stats.up(u)) {
    std::printf("%-3zu %-28s %-11s\n", u, cl.endpoint(u).c_str(), "unreachable");
    return;
  }
  const auto& i = *stats.got[u]->reply.unit;
  std::printf("%-3zu %-28s %-11s %6.1fms %8llu %10llu %10s %10s %s\n", u, cl.endpoint(u).c_str(),
              "up", stats.ms[u], static_cast<unsigned long long>(i.objects),
              static_cast<unsigned long long>(i.slices), Human(i.bytes_used).c_str(),
              Human(i.bytes_free).c_str(), i.version.c_str());
}

// `dsenc stat` without a name: each unit's reachability, latency, slices, bytes, version.
int Health(const Common& c, net::Cluster& cl, const client::Thresholds& t) {
  const UnitStats stats = AskEveryUnit(cl);
  size_t up = 0;
  nlohmann::ordered_json units = nlohmann::ordered_json::array();
  for (size_t u = 0; u < cl.size(); ++u) {
    up += stats.up(u);
    if (c.json) {
      units.push_back(HealthJson(cl, stats, u));
    } else {
      PrintHealthLine(cl, stats, u);
    }
  }
  std::vector<std::string> ids(cl.size());
  for (size_t u = 0; u < cl.size(); ++u) {
    if (stats.got[u]) ids[u] = stats.got[u]->reply.unit_id;
  }
  const Status one_each = client::CheckOneUnitEach(cl, ids);
  const char* verdict = !one_each.ok()    ? "one unit listed twice"
                        : up == cl.size() ? "healthy"
                        : up >= t.w       ? "degraded (writes and reads go on)"
                        : up >= t.k       ? "degraded (reads only: below w)"
                                          : "down (below k)";
  if (c.json) {
    std::printf("%s\n", JsonLine(nlohmann::ordered_json{{"units", units},
                                                        {"up", up},
                                                        {"n", cl.size()},
                                                        {"k", t.k},
                                                        {"w", t.w},
                                                        {"health", verdict}})
                            .c_str());
  } else {
    std::printf("network: %zu of %zu units up (k=%u, w=%u): %s\n", up, cl.size(), t.k, t.w,
                verdict);
  }
  if (!one_each.ok()) return Fail(kTool, one_each);
  return up >= t.k ? kExitOk : kExitUnavailable;
}

// One unit's row of `dsenc stat NAME`.
struct UnitRow {
  std::string state;  // ok, lies, unconfirmed, corrupt, partial, missing or unreachable
  uint32_t good = 0, bad = 0, lied = 0;
  std::string note;
};

UnitRow RowOf(const client::UnitView& v, const client::ScrubResult& scrub, bool unconfirmed,
              const wire::Manifest& m, uint32_t copies) {
  UnitRow r;
  r.lied = scrub.lied;
  r.good = r.lied > 0 ? scrub.good : v.SlicesOf(m.rev);
  r.bad = std::max(v.BadOf(m.rev), scrub.bad);
  if (!v.answered)
    r.state = "unreachable";
  else if (r.lied > 0)
    r.state = "lies";
  else if (unconfirmed)
    r.state = "unconfirmed";
  else if (r.good == m.segs)
    r.state = "ok";
  else if (r.bad > 0)
    r.state = "corrupt";
  else if (r.good > 0)
    r.state = "partial";
  else
    r.state = "missing";
  if (r.lied > 0) r.note = " (" + std::to_string(r.lied) + " made up: the digest does not match)";
  if (r.bad > 0) r.note += " (" + std::to_string(r.bad) + " bad)";
  if (unconfirmed && v.committed) {
    r.note += v.committed->tomb ? " (reports a removal"
                                : " (reports revision " + std::to_string(v.committed->rev);
    r.note += " that fewer than " + std::to_string(copies) + " units confirm)";
  }
  return r;
}

// stat of a name with no revision to show: not found when that is certain, else unavailable.
int StatAbsent(const std::string& name, const net::Cluster& cl, const client::Location& loc,
               uint32_t copies, const client::Thresholds& t) {
  std::string why = loc.Failures(cl);
  for (size_t u : loc.unconfirmed) {
    why += (why.empty() ? "" : "; ") + cl.Describe(u) + " reports what fewer than " +
           std::to_string(copies) + " units confirm";
  }
  if (!client::AbsenceIsCertain(loc.answered - loc.unconfirmed.size(), cl.size(), t.w)) {
    return Fail(kTool,
                Status::Unavailable("stat " + name + ": only " + std::to_string(loc.answered) +
                                    " units answered and too few have it (" + why + ")"));
  }
  if (!loc.unconfirmed.empty()) Diag(kTool, "stat " + name + ": " + why);
  return Fail(kTool, Status::NotFound("no object " + name));
}

}  // namespace

int Stat(const Common& c, Session& s, const std::string& name) {
  if (name.empty()) return Health(c, *s.cluster, s.t);
  client::Found f = client::FindObject(*s.cluster, name, s.t.n, /*verify=*/true, false);
  net::Cluster& cl = f.view;
  client::Location& loc = f.loc;
  const uint32_t copies = client::TrustCopies(s.t);
  client::TrustLocation(loc, copies);
  if (!loc.manifest || loc.manifest->tomb) return StatAbsent(name, cl, loc, copies, s.t);
  const wire::Manifest& m = *loc.manifest;
  // Every slice read back and checked here too: a unit that lies passes its own verify.
  const std::vector<size_t> holders = loc.Holders();
  const std::vector<client::ScrubResult> scrub = client::ScrubObject(cl, name, m, holders);
  size_t complete = 0;
  nlohmann::ordered_json units = nlohmann::ordered_json::array();
  std::string table;
  for (size_t u = 0; u < cl.size(); ++u) {
    const bool unconfirmed =
        std::find(loc.unconfirmed.begin(), loc.unconfirmed.end(), u) != loc.unconfirmed.end();
    const UnitRow r = RowOf(loc.units[u], scrub[u], unconfirmed, m, copies);
    complete += r.state == "ok" ? 1 : 0;
    const size_t line_no = cl.NetworkIndex(u);
    const bool listed = line_no != net::Cluster::kNoUnit;
    units.push_back({{"unit", listed ? nlohmann::ordered_json(line_no) : nlohmann::ordered_json()},
                     {"pillar", u},
                     {"endpoint", cl.endpoint(u)},
                     {"state", r.state},
                     {"good", r.good},
                     {"bad", r.bad},
                     {"made_up", r.lied}});
    char line[768];
    std::snprintf(line, sizeof line, "  %-3s %-28s %-12s %u/%u slices%s\n",
                  listed ? std::to_string(line_no).c_str() : "-",
                  listed ? cl.endpoint(u).c_str() : "(not in the node list)", r.state.c_str(),
                  r.good, m.segs, r.note.c_str());
    table += line;
  }
  // Readable when every segment has k good slices; counted per unit as a conservative bound.
  const bool readable = complete >= m.k;
  const std::string health = complete == cl.size() ? "healthy" : readable ? "degraded" : "at risk";
  if (c.json) {
    nlohmann::ordered_json j{{"name", name},
                             {"rev", m.rev},
                             {"size", m.size},
                             {"segs", m.segs},
                             {"segsize", m.segsize},
                             {"k", m.k},
                             {"n", m.n},
                             {"health", health},
                             {"complete_units", complete},
                             {"root", codec::HexOf(m.root)},
                             {"units", units}};
    std::printf("%s\n", JsonLine(j).c_str());
  } else {
    std::printf(
        "name:     %s\nrevision: %llu\nsize:     %llu bytes (%s) in %u segments of %s\n"
        "coding:   k=%u of n=%u\nroot:     %s\nunits:\n%shealth:   %s: %zu of %zu units hold "
        "every slice, %u needed to read\n",
        name.c_str(), static_cast<unsigned long long>(m.rev),
        static_cast<unsigned long long>(m.size), Human(m.size).c_str(), m.segs,
        Human(m.segsize).c_str(), m.k, m.n,
        m.hashed() ? ("sha256:" + codec::HexOf(m.root)).c_str() : "none (written without digests)",
        table.c_str(), health.c_str(), complete, cl.size(), m.k);
  }
  return readable ? kExitOk : kExitUnavailable;
}

int Keygen(const std::string& file, bool sign) {
  if (sign) {
    auto key = claim::GenerateSigningKey();
    if (!key.ok()) return Fail(kTool, key.status());
    if (Status st = claim::WriteSigningKey(file, *key); !st.ok()) return Fail(kTool, st);
    std::printf("%s\n", key->public_hex.c_str());
    return kExitOk;
  }
  auto keys = net::GenerateKeyPair();
  if (!keys.ok()) return Fail(kTool, keys.status());
  if (Status st = net::WriteKeyPair(file, *keys); !st.ok()) return Fail(kTool, st);
  std::printf("%s\n", keys->public_z85.c_str());
  return kExitOk;
}

int Repair(const Common& c, Session& s, const std::string& name, bool all) {
  std::vector<std::string> names;
  if (all) {
    auto entries = client::ListObjects(*s.cluster, name, s.t.k, 0, "", 0, client::TrustCopies(s.t));
    if (!entries.ok()) return Fail(kTool, entries.status());
    for (const auto& e : *entries) names.push_back(e.name);
  } else {
    if (name.empty()) return Fail(kTool, Status::Invalid("repair needs NAME or --all"));
    names.push_back(name);
  }
  const auto start = std::chrono::steady_clock::now();
  uint64_t bytes = 0;
  size_t repaired = 0, failed = 0, healthy = 0;
  int rc = kExitOk;
  // Pillars on units gone from the node list (a replaced disk) get a new home first.
  auto answered = client::LiveUnits(*s.cluster);
  if (!answered.ok()) return Fail(kTool, answered.status());
  const std::vector<size_t>& live = *answered;
  client::RebalanceOptions rehome;
  rehome.t = s.t;
  rehome.only_gone = true;
  for (const auto& n : names) {
    client::RebalanceReport moved;
    if (Status st = client::RebalanceObject(*s.cluster, live, n, rehome, moved); !st.ok()) {
      rc = Fail(kTool, st);
      continue;
    }
    for (const auto& why : moved.failures) Diag(kTool, "repair " + why);
    client::Found f = client::FindObject(*s.cluster, n, s.t.n, /*verify=*/false, false);
    auto r = client::RepairObject(f.view, n, s.t);
    if (!r.ok()) {
      rc = Fail(kTool, r.status());
      continue;
    }
    bytes += r->bytes;
    repaired += r->units_repaired;
    failed += r->units_failed;
    if (r->units_repaired + r->units_failed == 0) ++healthy;
    if (c.json) {
      std::printf("%s\n", JsonLine(nlohmann::json{{"name", n},
                                                  {"units_repaired", r->units_repaired},
                                                  {"units_failed", r->units_failed},
                                                  {"failures", r->failures},
                                                  {"bytes", r->bytes}})
                              .c_str());
    } else if (r->units_repaired + r->units_failed > 0 || c.verbosity.level >= 2) {
      std::printf("%s: %zu units repaired, %zu failed\n", n.c_str(), r->units_repaired,
                  r->units_failed);
    }
    for (const auto& why : r->failures) Diag(kTool, "repair " + n + ": " + why);
    for (const auto& note : r->notes) Diag(kTool, "warning: repair " + n + ": " + note);
  }
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (c.verbosity.level > 0 && !c.json) {
    Diag(kTool, std::to_string(names.size()) + " objects checked, " + std::to_string(healthy) +
                    " healthy, " + std::to_string(repaired) + " unit copies rebuilt (" +
                    Human(bytes) + " decoded, " +
                    std::to_string(static_cast<int>(static_cast<double>(bytes) / (1 << 20) /
                                                    std::max(secs, 1e-6))) +
                    " MiB/s)");
  }
  if (rc == kExitOk && failed > 0) rc = kExitUnavailable;
  return rc;
}

}  // namespace dstk::tools::dsenc
