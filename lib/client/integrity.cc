#include "client/integrity.h"

#include "codec/digest.h"
#include "wire/limits.h"

namespace dstk::client {

void AppendSliceHashes(const std::vector<std::span<const uint8_t>>& payloads, std::string& hashes,
                       WorkCrew* crew) {
  std::vector<codec::Digest> digests(payloads.size());
  const auto hash = [&](size_t i) { digests[i] = codec::Sha256(payloads[i]); };
  if (crew != nullptr) {
    crew->Run(payloads.size(), hash);
  } else {
    for (size_t i = 0; i < payloads.size(); ++i) hash(i);
  }
  for (const auto& d : digests) hashes += codec::DigestBytes(d);
}

void SealHashes(wire::Manifest& m, std::string hashes) {
  m.root = codec::DigestBytes(
      codec::Sha256({reinterpret_cast<const uint8_t*>(hashes.data()), hashes.size()}));
  m.hashes = std::move(hashes);
}

uint64_t MaxHashedSegments(uint32_t n) {
  return n == 0 ? 0 : wire::kMaxManifestHashes / (uint64_t{n} * codec::kDigestSize);
}

Status CheckSliceHash(const wire::Manifest& m, uint32_t seg, uint32_t idx,
                      std::span<const uint8_t> payload) {
  if (!m.hashed()) return Status::Ok();
  const std::string_view want = m.SliceHash(seg, idx);
  if (!want.empty() && codec::DigestBytes(codec::Sha256(payload)) == want) return Status::Ok();
  return Status::Corruption("slice " + std::to_string(idx) + " of segment " + std::to_string(seg) +
                            " does not match the manifest's digest");
}

uint32_t TolerableLiars(const Thresholds& t) {
  if (t.w == 0 || t.w < t.k) return 0;
  return std::min((t.w - 1) / 2, t.w - t.k);
}

uint32_t TrustCopies(const Thresholds& t) {
  return TolerableLiars(t) + 1;
}

ManifestChoice ChooseManifest(const std::vector<ManifestVote>& votes, uint32_t copies) {
  ManifestChoice out;
  // Distinct contents, with the units vouching for each.
  struct Group {
    const wire::Manifest* best;  // of the identical copies, the newest placement
    std::vector<size_t> units;
  };
  std::vector<Group> groups;
  for (const ManifestVote& v : votes) {
    if (!out.newest || out.newest->rev < v.manifest.rev) out.newest = v.manifest;
    Group* g = nullptr;
    for (auto& each : groups) {
      if (each.best->SameContents(v.manifest)) g = &each;
    }
    if (g == nullptr) {
      groups.push_back({&v.manifest, {}});
      g = &groups.back();
    }
    g->units.push_back(v.unit);
    if (g->best->pgen < v.manifest.pgen) g->best = &v.manifest;
  }
  const Group* chosen = nullptr;
  for (const auto& g : groups) {
    if (g.units.size() < copies) continue;
    if (chosen == nullptr || chosen->best->rev < g.best->rev ||
        (chosen->best->rev == g.best->rev && chosen->units.size() < g.units.size())) {
      chosen = &g;
    }
  }
  if (chosen != nullptr) out.trusted = *chosen->best;
  for (const auto& g : groups) {
    if (&g == chosen) continue;
    if (chosen == nullptr || g.best->rev >= chosen->best->rev) {
      out.unconfirmed.insert(out.unconfirmed.end(), g.units.begin(), g.units.end());
    }
  }
  return out;
}

void TrustLocation(Location& loc, uint32_t copies) {
  std::vector<ManifestVote> votes;
  for (size_t u = 0; u < loc.units.size(); ++u) {
    if (loc.units[u].answered && loc.units[u].committed)
      votes.push_back({u, *loc.units[u].committed});
  }
  ManifestChoice choice = ChooseManifest(votes, copies);
  loc.manifest = std::move(choice.trusted);
  loc.unconfirmed = std::move(choice.unconfirmed);
}

}  // namespace dstk::client
