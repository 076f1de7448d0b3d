#include "client/placement.h"

#include <sodium.h>

#include <algorithm>
#include <map>
#include <numeric>
#include <unordered_map>

namespace dstk::client {
namespace {

bool IsHex(const std::string& s, size_t from, size_t len) {
  return std::all_of(s.begin() + static_cast<std::ptrdiff_t>(from),
                     s.begin() + static_cast<std::ptrdiff_t>(from + len),
                     [](char ch) { return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f'); });
}

// Units that can be placed on: known id, not leaving.
std::vector<size_t> Placeable(const net::Cluster& network) {
  std::vector<size_t> out;
  for (size_t u = 0; u < network.network_size(); ++u) {
    const net::NodeEntry& e = network.Entry(u);
    if (!e.leaving && !e.id.empty()) out.push_back(u);
  }
  return out;
}

}  // namespace

uint32_t DefaultWidth(size_t units) {
  return static_cast<uint32_t>(std::min<size_t>(units, kDefaultMaxWidth));
}

std::string PlacementKey(const std::string& name) {
  // "<queue>/" + 16 hex + "-" + 8 hex
  constexpr size_t kKeyLength = 1 + 16 + 1 + 8;
  if (name.size() <= kKeyLength) return name;
  const size_t at = name.size() - kKeyLength;
  if (name[at] != '/' || name[at + 17] != '-' || !IsHex(name, at + 1, 16) ||
      !IsHex(name, at + 18, 8))
    return name;
  return name.substr(0, at);
}

uint64_t PlacementScore(const std::string& key, const std::string& unit_id) {
  // SipHash-2-4 under a fixed key: a stable, well-mixed 64-bit hash (not a secret: anyone may
  // compute placement). The unit id and the placement key are separated by a NUL, which
  // neither can contain.
  static constexpr unsigned char kHashKey[crypto_shorthash_KEYBYTES] = {
      'd', 's', 't', 'k', '-', 'p', 'l', 'a', 'c', 'e', 'm', 'e', 'n', 't', '-', '1'};
  std::string input = unit_id;
  input.push_back('\0');
  input += key;
  unsigned char out[crypto_shorthash_BYTES];
  crypto_shorthash(out, reinterpret_cast<const unsigned char*>(input.data()), input.size(),
                   kHashKey);
  uint64_t score = 0;
  for (unsigned char b : out) score = score << 8 | b;
  return score;
}

Result<std::vector<size_t>> Place(const net::Cluster& network, const std::string& key, size_t n) {
  const size_t total = network.network_size();
  bool any_leaving = false;
  for (size_t u = 0; u < total; ++u) any_leaving |= network.Entry(u).leaving;
  if (n == total && !any_leaving) {
    std::vector<size_t> all(total);
    std::iota(all.begin(), all.end(), size_t{0});
    return all;
  }
  std::vector<size_t> units = Placeable(network);
  if (units.size() < n) {
    return Status::Invalid("width n=" + std::to_string(n) + " needs " + std::to_string(n) +
                           " units to place on; the node list has " + std::to_string(units.size()) +
                           " with a known id that are not leaving (dsenc nodes prints ids)");
  }
  std::vector<std::pair<uint64_t, size_t>> ranked;
  ranked.reserve(units.size());
  for (size_t u : units) ranked.emplace_back(PlacementScore(key, network.Entry(u).id), u);
  // Highest score first; equal scores (never in practice) by line, so every client agrees.
  std::sort(ranked.begin(), ranked.end(), [](const auto& a, const auto& b) {
    return a.first != b.first ? a.first > b.first : a.second < b.second;
  });
  // A unit without a domain is a domain of its own, named by its line so it cannot collide.
  auto domain_of = [&](size_t u) {
    const std::string& d = network.Entry(u).domain;
    if (!d.empty()) return d;
    std::string own = "\n";  // (appended, not "\n" + ...: GCC 12's -Wrestrict misfires on that)
    own += std::to_string(u);
    return own;
  };
  std::map<std::string, size_t> per_domain;
  for (size_t u : units) per_domain[domain_of(u)] = 0;
  const size_t cap = (n + per_domain.size() - 1) / per_domain.size();
  std::vector<size_t> chosen;
  std::vector<bool> taken(ranked.size(), false);
  for (size_t i = 0; i < ranked.size() && chosen.size() < n; ++i) {
    size_t& count = per_domain[domain_of(ranked[i].second)];
    if (count >= cap) continue;
    ++count;
    taken[i] = true;
    chosen.push_back(ranked[i].second);
  }
  // Domains too few or too small for the cap: the best of the rest.
  for (size_t i = 0; i < ranked.size() && chosen.size() < n; ++i) {
    if (!taken[i]) chosen.push_back(ranked[i].second);
  }
  return chosen;
}

std::vector<std::string> PlacementIds(const net::Cluster& view) {
  std::vector<std::string> ids;
  for (size_t u = 0; u < view.size(); ++u) {
    const size_t net_unit = view.NetworkIndex(u);
    if (net_unit == net::Cluster::kNoUnit || view.Entry(net_unit).id.empty()) return {};
    ids.push_back(view.Entry(net_unit).id);
  }
  return ids;
}

std::vector<size_t> UnitsOf(const net::Cluster& network, const wire::Manifest& m) {
  std::vector<size_t> out;
  if (m.placement.empty()) {
    for (size_t p = 0; p < m.n; ++p)
      out.push_back(p < network.network_size() ? p : net::Cluster::kNoUnit);
    return out;
  }
  std::unordered_map<std::string, size_t> by_id;
  for (size_t u = 0; u < network.network_size(); ++u) {
    if (!network.Entry(u).id.empty()) by_id.emplace(network.Entry(u).id, u);
  }
  const size_t total = network.network_size();
  for (size_t p = 0; p < m.placement.size(); ++p) {
    auto it = by_id.find(m.placement[p]);
    if (it != by_id.end()) {
      out.push_back(it->second);
    } else if (m.n == total && std::find(m.placement.begin(), m.placement.end(),
                                         network.Entry(p).id) == m.placement.end()) {
      // A whole-list object has pillar i on line i: the unit there now is a replaced disk (a
      // new id, refilled by repair) or one that has not answered yet.
      out.push_back(p);
    } else {
      out.push_back(net::Cluster::kNoUnit);
    }
  }
  return out;
}

void LearnUnitIds(net::Cluster& network) {
  net::Cluster all = network.Network();
  std::vector<size_t> unknown;
  for (size_t u = 0; u < all.size(); ++u) {
    if (all.Entry(u).id.empty()) unknown.push_back(u);
  }
  if (unknown.empty()) return;
  wire::Request stat;
  stat.op = wire::Op::kStat;  // without a name: the unit's own state, with its id
  auto outcomes = all.CallEach(stat, unknown);
  for (size_t i = 0; i < unknown.size(); ++i) {
    if (outcomes[i].response && outcomes[i].response->reply.ok())
      all.NoteUnitId(unknown[i], outcomes[i].response->reply.unit_id);
  }
}

}  // namespace dstk::client
