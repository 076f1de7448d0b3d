#include "client/find.h"

#include <algorithm>

#include "client/placement.h"

namespace dstk::client {
namespace {

std::vector<size_t> AllUnits(const net::Cluster& network) {
  std::vector<size_t> all(network.network_size());
  for (size_t u = 0; u < all.size(); ++u) all[u] = u;
  return all;
}

// The placed units for `width`, or every unit when the network cannot place that many.
std::vector<size_t> PlacedOrAll(net::Cluster& network, const std::string& name, uint32_t width) {
  if (width < network.network_size()) LearnUnitIds(network);
  auto placed = Place(network, PlacementKey(name), width);
  return placed.ok() ? *placed : AllUnits(network);
}

// The pillar units of `m`, learning ids first when the manifest names one the list does not.
std::vector<size_t> PillarUnits(net::Cluster& network, const wire::Manifest& m) {
  std::vector<size_t> units = UnitsOf(network, m);
  if (std::find(units.begin(), units.end(), net::Cluster::kNoUnit) != units.end()) {
    LearnUnitIds(network);
    units = UnitsOf(network, m);
  }
  return units;
}

// The answers in `loc` (a Locate on `asked`) of the units `wanted`, as if located on them; a
// unit not asked counts as not answered.
Location Subset(const Location& loc, const std::vector<size_t>& asked,
                const std::vector<size_t>& wanted) {
  Location out;
  out.manifest = loc.manifest;
  out.units.resize(wanted.size());
  for (size_t i = 0; i < wanted.size(); ++i) {
    auto at = std::find(asked.begin(), asked.end(), wanted[i]);
    if (at == asked.end()) continue;
    out.units[i] = loc.units[static_cast<size_t>(at - asked.begin())];
    out.answered += out.units[i].answered;
  }
  return out;
}

}  // namespace

Found FindObject(net::Cluster& network, const std::string& name, uint32_t width, bool verify,
                 bool early) {
  const std::vector<size_t> placed = PlacedOrAll(network, name, width);
  Found f{network.View(placed), {}};
  // A manifest that names other units (another width, an older list) ends this round at once.
  auto elsewhere = [&](const wire::Manifest& m) {
    if (m.tomb) return false;
    const std::vector<size_t> units = UnitsOf(network, m);
    return units != placed &&
           std::find(units.begin(), units.end(), net::Cluster::kNoUnit) == units.end();
  };
  f.loc = Locate(f.view, name, verify, early, 0, elsewhere);
  if (!f.loc.manifest && placed.size() < network.network_size()) {
    // Not on its units: written before the list changed, or with another width. Ask everyone.
    f.view = network.View(AllUnits(network));
    f.loc = Locate(f.view, name, verify, early);
  }
  if (!f.loc.manifest || f.loc.manifest->tomb) return f;
  const std::vector<size_t> pillars = PillarUnits(network, *f.loc.manifest);
  if (pillars == f.view.members()) return f;
  // When the pillars' units were asked already, their answers are the location if they settle
  // it as a Locate of them would (all answered; or for a reader, more than n-k answered and k
  // hold the revision): no second round for a reader that guessed a wider width, say.
  Location mine = Subset(f.loc, f.view.members(), pillars);
  const size_t k = f.loc.manifest->k;
  const bool settled = mine.answered == pillars.size() ||
                       (early && mine.answered + k > pillars.size() && mine.Holders().size() >= k);
  f.view = network.View(pillars);
  f.loc = settled ? std::move(mine) : Locate(f.view, name, verify, early);
  return f;
}

Result<net::Cluster> WriteView(net::Cluster& network, const std::string& name, uint32_t n) {
  if (n < network.network_size()) LearnUnitIds(network);
  auto placed = Place(network, PlacementKey(name), n);
  if (!placed.ok()) return placed.status();
  net::Cluster view = network.View(*placed);
  return view;
}

Result<wire::Manifest> ReadObject(net::Cluster& network, const std::string& name, int fd,
                                  const GetOptions& o, const ProgressSink& progress) {
  Found f = FindObject(network, name, o.t.n, /*verify=*/false, /*early=*/true);
  GetOptions located = o;
  located.located = &f.loc;
  return GetObject(f.view, name, fd, located, progress);
}

}  // namespace dstk::client
