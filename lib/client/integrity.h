// End-to-end integrity: what a writer records of every slice and what a reader checks, and the
// rule by which a reader trusts one unit's word about an object.
//
// A unit may lie: serve made-up slices with a valid CRC, report a revision nobody wrote, or a
// tombstone. Slices are caught by their digests in the manifest (codec/digest.h). Manifests are
// caught by counting: a reader believes a manifest only when `TrustCopies` units answered with
// identical ones, so up to `TolerableLiars` units cannot make one up, and a committed revision
// (on >= w units) still gets enough honest copies. man/dstk-protocol.7 (INTEGRITY) states it.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "client/locate.h"
#include "client/options.h"
#include "util/status.h"
#include "util/work_crew.h"
#include "wire/message.h"

namespace dstk::client {

// Appends the digest of each of a segment's n slice payloads, in pillar order; with a crew,
// the payloads are hashed side by side on it.
void AppendSliceHashes(const std::vector<std::span<const uint8_t>>& payloads, std::string& hashes,
                       WorkCrew* crew = nullptr);

// Sets m.hashes and m.root (the digest of the list).
void SealHashes(wire::Manifest& m, std::string hashes);

// The most segments a manifest of width n can carry the digests of (wire::kMaxManifestHashes).
uint64_t MaxHashedSegments(uint32_t n);

// kCorruption when `payload` is not the slice `idx` of segment `seg` the manifest's writer
// stored. Always ok for a manifest without hashes (written before manifests carried them).
Status CheckSliceHash(const wire::Manifest& m, uint32_t seg, uint32_t idx,
                      std::span<const uint8_t> payload);

// How many lying units a reader with these thresholds tolerates: f = min((w-1)/2, w-k).
// A committed revision is on >= w units, of which >= w-f are honest: f+1 of them vouch for its
// manifest (w-f >= f+1) and k of them serve good slices (w-f >= k).
uint32_t TolerableLiars(const Thresholds& t);
// Identical manifests a reader needs before it believes them: f+1.
uint32_t TrustCopies(const Thresholds& t);

// One unit's answer about an object, as Locate saw it.
struct ManifestVote {
  size_t unit = 0;
  wire::Manifest manifest;
};

// What the answers, counted, say.
struct ManifestChoice {
  // The newest revision at least `copies` units vouch for (of its copies, the one with the
  // highest placement generation); nullopt when none has enough.
  std::optional<wire::Manifest> trusted;
  // Units whose committed revision is newer than `trusted` (or which disagree with the copies
  // of its revision) but too few units vouch for: liars, or a put or rm still being published.
  std::vector<size_t> unconfirmed;
  // The newest revision any unit reported (what a reader without the rule would take).
  std::optional<wire::Manifest> newest;
};

ManifestChoice ChooseManifest(const std::vector<ManifestVote>& votes, uint32_t copies);

// Applies the rule to a Locate: loc.manifest becomes the trusted choice (nullopt when no
// revision has `copies` copies) and loc.unconfirmed the units the rule overruled.
void TrustLocation(Location& loc, uint32_t copies);

}  // namespace dstk::client
