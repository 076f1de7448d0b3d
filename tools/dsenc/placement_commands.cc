// dsenc nodes, place and rebalance: the node list, where objects go, and moving them when the
// list changes.
#include <cstdio>
#include <nlohmann/json.hpp>

#include "client/placement.h"
#include "client/rebalance.h"
#include "commands.h"
#include "json_line.h"
#include "progress.h"

namespace dstk::tools::dsenc {
namespace {

constexpr const char* kTool = "dsenc";

}  // namespace

int Nodes(const Common& c, Session& s) {
  net::Cluster network = s.cluster->Network();
  // Every unit is asked, also those the list gives an id for: a replaced disk answers with a
  // new one, which the printed list must carry.
  wire::Request stat;
  stat.op = wire::Op::kStat;
  const auto outcomes = network.CallAll(stat);
  size_t unknown = 0;
  for (size_t u = 0; u < network.size(); ++u) {
    net::NodeEntry e = network.Entry(u);
    const bool answered = outcomes[u].status.ok() && outcomes[u].response->reply.ok();
    const std::string reported = answered ? outcomes[u].response->reply.unit_id : "";
    if (!reported.empty() && reported != e.id) {
      if (!e.id.empty()) {
        Diag(kTool, network.Describe(u) + ": the list says id=" + e.id + ", the unit says " +
                        reported + " (a replaced disk?): printing the unit's");
      }
      e.id = reported;
    }
    unknown += e.id.empty();
    if (c.json) {
      std::printf("%s\n", JsonLine(nlohmann::ordered_json{{"unit", u},
                                                          {"endpoint", e.endpoint},
                                                          {"id", e.id},
                                                          {"domain", e.domain},
                                                          {"leaving", e.leaving},
                                                          {"answered", answered}})
                              .c_str());
    } else {
      // The note goes on a line of its own: a '#' after an entry is not a comment.
      if (e.id.empty()) std::printf("# no answer from the next unit: its id is unknown\n");
      std::printf("%s\n", e.ToLine().c_str());
    }
  }
  if (unknown > 0) {
    Diag(kTool, std::to_string(unknown) + " units did not answer: their ids are unknown");
    return kExitUnavailable;
  }
  return kExitOk;
}

int Place(const Common& c, Session& s, const std::string& name) {
  net::Cluster& network = *s.cluster;
  if (s.t.n < network.network_size()) client::LearnUnitIds(network);
  const std::string key = client::PlacementKey(name);
  auto units = client::Place(network, key, s.t.n);
  if (!units.ok()) return Fail(kTool, units.status());
  for (size_t p = 0; p < units->size(); ++p) {
    const size_t u = (*units)[p];
    const net::NodeEntry& e = network.Entry(u);
    if (c.json) {
      std::printf("%s\n", JsonLine(nlohmann::ordered_json{{"pillar", p},
                                                          {"unit", u},
                                                          {"endpoint", e.endpoint},
                                                          {"id", e.id},
                                                          {"domain", e.domain}})
                              .c_str());
    } else {
      std::printf("%-3zu %-3zu %-28s %s%s\n", p, u, e.endpoint.c_str(), e.id.c_str(),
                  e.domain.empty() ? "" : (" domain=" + e.domain).c_str());
    }
  }
  return kExitOk;
}

int Rebalance(const Common& c, Session& s, const std::string& prefix) {
  client::RebalanceOptions o;
  o.t = s.t;
  Result<client::RebalanceReport> r = Status::Invalid("not run");
  {
    ProgressBar bar(kTool, "rebalance", c.verbosity.level > 0, "objects");
    r = client::Rebalance(*s.cluster, prefix, o,
                          [&bar](uint64_t d, uint64_t t) { bar.Update(d, t); });
  }
  if (!r.ok()) return Fail(kTool, r.status());
  for (const auto& why : r->failures) Diag(kTool, "rebalance " + why);
  if (c.json) {
    std::printf("%s\n", JsonLine(nlohmann::ordered_json{{"objects", r->objects},
                                                        {"objects_moved", r->objects_moved},
                                                        {"slices_moved", r->slices_moved},
                                                        {"minimum", r->minimum},
                                                        {"dropped", r->dropped},
                                                        {"republished", r->republished},
                                                        {"failures", r->failures.size()}})
                            .c_str());
  } else if (c.verbosity.level > 0) {
    std::printf(
        "%zu objects, %zu moved: %zu slices moved (placement requires %zu), %zu old "
        "copies dropped\n",
        r->objects, r->objects_moved, r->slices_moved, r->minimum, r->dropped);
  }
  return r->failures.empty() ? kExitOk : kExitUnavailable;
}

}  // namespace dstk::tools::dsenc
