// The integrity rules of client/integrity.h: slice digests and the count that makes a reader
// believe a manifest.
#include "client/integrity.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "codec/digest.h"

namespace {

using dstk::client::ChooseManifest;
using dstk::client::ManifestVote;
using dstk::client::Thresholds;
using dstk::wire::Manifest;

std::span<const uint8_t> Bytes(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

// A sealed manifest of revision `rev` whose two slices (one segment, n=2) are `a` and `b`.
Manifest Sealed(uint64_t rev, const std::string& a, const std::string& b) {
  Manifest m;
  m.rev = rev;
  m.size = a.size() + b.size();
  m.segs = 1;
  m.k = 1;
  m.n = 2;
  std::string hashes;
  dstk::client::AppendSliceHashes({Bytes(a), Bytes(b)}, hashes);
  dstk::client::SealHashes(m, std::move(hashes));
  return m;
}

}  // namespace

TEST_CASE("a slice is checked against its own digest in the manifest", "[client]") {
  const Manifest m = Sealed(5, "first", "second");
  REQUIRE(m.hashed());
  CHECK(m.hashes.size() == 2 * dstk::codec::kDigestSize);
  CHECK(m.root == dstk::codec::DigestBytes(dstk::codec::Sha256(Bytes(m.hashes))));
  CHECK(dstk::client::CheckSliceHash(m, 0, 0, Bytes("first")).ok());
  CHECK(dstk::client::CheckSliceHash(m, 0, 1, Bytes("second")).ok());
  // Another slice's bytes, one flipped byte, a pillar or segment out of range: all refused.
  CHECK(dstk::client::CheckSliceHash(m, 0, 0, Bytes("second")).code() == dstk::Code::kCorruption);
  CHECK_FALSE(dstk::client::CheckSliceHash(m, 0, 0, Bytes("firsT")).ok());
  CHECK_FALSE(dstk::client::CheckSliceHash(m, 0, 2, Bytes("first")).ok());
  CHECK_FALSE(dstk::client::CheckSliceHash(m, 1, 0, Bytes("first")).ok());
  // A manifest written before digests existed checks nothing.
  Manifest old = m;
  old.hashes.clear();
  old.root.clear();
  CHECK(dstk::client::CheckSliceHash(old, 0, 0, Bytes("anything")).ok());
}

TEST_CASE("the liars a reader tolerates follow from n, k and w", "[client]") {
  CHECK(dstk::client::TolerableLiars(Thresholds{6, 4, 5}) == 1);
  CHECK(dstk::client::TolerableLiars(Thresholds{8, 6, 7}) == 1);
  CHECK(dstk::client::TolerableLiars(Thresholds{12, 6, 11}) == 5);
  CHECK(dstk::client::TolerableLiars(Thresholds{7, 3, 7}) == 3);
  CHECK(dstk::client::TolerableLiars(Thresholds{3, 1, 2}) == 0);  // w=2: one copy only
  CHECK(dstk::client::TolerableLiars(Thresholds{4, 4, 4}) == 0);  // w=k: no slice to spare
  for (uint32_t n = 1; n <= 16; ++n) {
    for (uint32_t k = 1; k <= n; ++k) {
      for (uint32_t w = k; w <= n; ++w) {
        const uint32_t f = dstk::client::TolerableLiars(Thresholds{n, k, w});
        INFO("n=" << n << " k=" << k << " w=" << w);
        // f liars cannot make f+1 copies, and the honest holders still give f+1 copies and k
        // good slices.
        CHECK(w - f >= f + 1);
        CHECK(w - f >= k);
        CHECK(dstk::client::TrustCopies(Thresholds{n, k, w}) == f + 1);
      }
    }
  }
}

TEST_CASE("a reader believes the newest revision enough units vouch for", "[client]") {
  const Manifest r1 = Sealed(1, "a", "b");
  const Manifest r2 = Sealed(2, "c", "d");
  Manifest fake = r2;
  fake.rev = 1000;  // one unit's invention
  Manifest tomb;
  tomb.rev = 1001;
  tomb.tomb = true;

  SECTION("one liar's newer revision is overruled, and named") {
    auto c = ChooseManifest({{0, r2}, {1, r2}, {2, r2}, {3, fake}, {4, r1}}, 2);
    REQUIRE(c.trusted);
    CHECK(c.trusted->rev == 2);
    CHECK(c.unconfirmed == std::vector<size_t>{3});
    REQUIRE(c.newest);
    CHECK(c.newest->rev == 1000);
  }
  SECTION("a lone tombstone does not hide the object") {
    auto c = ChooseManifest({{0, r2}, {1, tomb}, {2, r2}}, 2);
    REQUIRE(c.trusted);
    CHECK_FALSE(c.trusted->tomb);
    CHECK(c.unconfirmed == std::vector<size_t>{1});
  }
  SECTION("the same revision with other digests is not a copy") {
    Manifest forged = Sealed(2, "x", "y");
    auto c = ChooseManifest({{0, r2}, {1, forged}, {2, r2}}, 2);
    REQUIRE(c.trusted);
    CHECK(c.trusted->root == r2.root);
    CHECK(c.unconfirmed == std::vector<size_t>{1});
  }
  SECTION("copies that differ only in placement count together; the newest placement wins") {
    Manifest moved = r2;
    moved.pgen = 3;
    auto c = ChooseManifest({{0, r2}, {1, moved}}, 2);
    REQUIRE(c.trusted);
    CHECK(c.trusted->pgen == 3);
    CHECK(c.unconfirmed.empty());
  }
  SECTION("two liars agreeing make a revision believed (past the tolerance of 1)") {
    auto c = ChooseManifest({{0, r2}, {1, r2}, {2, fake}, {3, fake}}, 2);
    REQUIRE(c.trusted);
    CHECK(c.trusted->rev == 1000);
  }
  SECTION("no revision with enough copies: nothing is believed") {
    auto c = ChooseManifest({{0, r2}, {1, r1}}, 2);
    CHECK_FALSE(c.trusted);
    CHECK(c.unconfirmed.size() == 2);
  }
  SECTION("with one copy needed, the newest is taken as before") {
    auto c = ChooseManifest({{0, r1}, {1, fake}}, 1);
    REQUIRE(c.trusted);
    CHECK(c.trusted->rev == 1000);
    CHECK(c.unconfirmed.empty());
  }
}
