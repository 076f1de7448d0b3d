// Unit tests of lib/codec: CRC32C, Cauchy Reed-Solomon erasure coding, segment encoding and
// decoding, and slice header verification.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdint>
#include <cstring>
#include <memory>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "codec/crc32c.h"
#include "codec/erasure.h"
#include "codec/segment.h"
#include "codec/slice.h"
#include "util/status.h"

namespace {

using dstk::Code;
using dstk::codec::Crc32c;
using dstk::codec::DecodeSegment;
using dstk::codec::ErasureCoder;
using dstk::codec::SegmentEncoder;
using dstk::codec::SliceHeader;

std::vector<uint8_t> RandomBytes(std::mt19937_64& rng, size_t n) {
  std::vector<uint8_t> out(n);
  for (auto& b : out) b = static_cast<uint8_t>(rng());
  return out;
}

std::span<const uint8_t> AsBytes(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

std::shared_ptr<const ErasureCoder> MakeCoder(int k, int n) {
  auto coder = ErasureCoder::Create(k, n);
  REQUIRE(coder.ok());
  REQUIRE(coder.value()->k() == k);
  REQUIRE(coder.value()->n() == n);
  return coder.value();
}

// Encodes `segment` and returns owned copies of the n payloads (the encoder's views are only
// valid until its next call).
std::vector<std::vector<uint8_t>> EncodeCopy(SegmentEncoder& enc,
                                             const std::vector<uint8_t>& segment) {
  const auto& views = enc.Encode(segment);
  std::vector<std::vector<uint8_t>> out;
  for (const auto& v : views) out.emplace_back(v.begin(), v.end());
  return out;
}

// Decodes from the pillars in `pillars` (exactly k of them, any order).
dstk::Status DecodeFrom(const ErasureCoder& coder, size_t seglen,
                        const std::vector<std::vector<uint8_t>>& slices,
                        const std::vector<int>& pillars, std::vector<uint8_t>& out) {
  std::vector<std::span<const uint8_t>> payloads;
  for (int p : pillars) payloads.emplace_back(slices[static_cast<size_t>(p)]);
  return DecodeSegment(coder, seglen, pillars, payloads, out);
}

// Every subset of {0..n-1} with exactly k members, as bit masks.
std::vector<std::vector<int>> Subsets(int n, int k) {
  std::vector<std::vector<int>> out;
  for (uint32_t mask = 0; mask < (1u << n); ++mask) {
    if (__builtin_popcount(mask) != k) continue;
    std::vector<int> s;
    for (int i = 0; i < n; ++i) {
      if (mask & (1u << i)) s.push_back(i);
    }
    out.push_back(std::move(s));
  }
  return out;
}

uint64_t Binomial(int n, int k) {
  uint64_t r = 1;
  for (int i = 1; i <= k; ++i) r = r * static_cast<uint64_t>(n - k + i) / static_cast<uint64_t>(i);
  return r;
}

SliceHeader SampleHeader(std::span<const uint8_t> payload, uint32_t k) {
  SliceHeader h;
  h.name = "logs/2026-11-25";
  h.rev = 7;
  h.seg = 2;
  h.segs = 5;
  h.idx = 1;
  h.k = k;
  h.n = k + 2;
  h.size = 4u * 1000 + 123;
  h.seglen = static_cast<uint32_t>(payload.size() * k);
  h.segsize = 1000;
  h.crc = dstk::codec::ComputeSliceCrc(h, payload);
  return h;
}

}  // namespace

// ------------------------------------------------------------------------------------------
// CRC32C

TEST_CASE("crc32c matches the standard check value and RFC 3720 vectors", "[codec][crc]") {
  const std::string check = "123456789";
  CHECK(Crc32c(AsBytes(check)) == 0xE3069283u);

  std::vector<uint8_t> zeros(32, 0x00), ones(32, 0xff), inc(32), dec(32);
  for (size_t i = 0; i < 32; ++i) {
    inc[i] = static_cast<uint8_t>(i);
    dec[i] = static_cast<uint8_t>(31 - i);
  }
  CHECK(Crc32c(zeros) == 0x8A9136AAu);
  CHECK(Crc32c(ones) == 0x62A8AB43u);
  CHECK(Crc32c(inc) == 0x46DD794Eu);
  CHECK(Crc32c(dec) == 0x113FDB5Cu);

  // The empty input leaves the running value alone.
  CHECK(Crc32c({}) == 0u);
  CHECK(Crc32c({}, 0xE3069283u) == 0xE3069283u);
}

TEST_CASE("crc32c chains: Crc32c(b, Crc32c(a)) == Crc32c(a + b)", "[codec][crc]") {
  const std::string check = "123456789";
  for (size_t cut = 0; cut <= check.size(); ++cut) {
    const auto all = AsBytes(check);
    CHECK(Crc32c(all.subspan(cut), Crc32c(all.first(cut))) == 0xE3069283u);
  }

  std::mt19937_64 rng(20261125);
  for (int round = 0; round < 200; ++round) {
    const size_t len = rng() % 5000;
    const auto data = RandomBytes(rng, len + 7);
    // Odd offsets exercise unaligned heads and tails in the SSE4.2 path.
    const size_t off = rng() % 8;
    std::span<const uint8_t> s(data.data() + off, len);
    const uint32_t whole = Crc32c(s);
    const size_t a = len == 0 ? 0 : rng() % (len + 1);
    const size_t b = a + (len - a == 0 ? 0 : rng() % (len - a + 1));
    const uint32_t chained = Crc32c(s.subspan(b), Crc32c(s.subspan(a, b - a), Crc32c(s.first(a))));
    REQUIRE(chained == whole);
  }
}

TEST_CASE("crc32c detects every single-bit flip of a small buffer", "[codec][crc]") {
  std::mt19937_64 rng(1);
  auto data = RandomBytes(rng, 64);
  const uint32_t good = Crc32c(data);
  for (size_t bit = 0; bit < data.size() * 8; ++bit) {
    data[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
    CHECK(Crc32c(data) != good);
    data[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
  }
  CHECK(Crc32c(data) == good);
}

// ------------------------------------------------------------------------------------------
// ErasureCoder

TEST_CASE("ErasureCoder::Create validates k and n", "[codec][erasure]") {
  CHECK(ErasureCoder::Create(0, 0).status().code() == Code::kInvalidArgument);
  CHECK(ErasureCoder::Create(0, 4).status().code() == Code::kInvalidArgument);
  CHECK(ErasureCoder::Create(-1, 4).status().code() == Code::kInvalidArgument);
  CHECK(ErasureCoder::Create(5, 4).status().code() == Code::kInvalidArgument);
  CHECK(ErasureCoder::Create(2, 1).status().code() == Code::kInvalidArgument);
  CHECK(ErasureCoder::Create(1, 256).status().code() == Code::kInvalidArgument);
  CHECK(ErasureCoder::Create(10, 256).status().code() == Code::kInvalidArgument);
  CHECK(ErasureCoder::Create(256, 256).status().code() == Code::kInvalidArgument);
  CHECK_FALSE(ErasureCoder::Create(4, 3).status().message().empty());

  CHECK(ErasureCoder::Create(1, 1).ok());
  CHECK(ErasureCoder::Create(1, 255).ok());
  CHECK(ErasureCoder::Create(255, 255).ok());
  CHECK(ErasureCoder::Create(10, 14).ok());
}

TEST_CASE("ErasureCoder::SliceLength is ceil(segment_len / k)", "[codec][erasure]") {
  auto c = MakeCoder(3, 5);
  CHECK(c->SliceLength(0) == 0);
  CHECK(c->SliceLength(1) == 1);
  CHECK(c->SliceLength(2) == 1);
  CHECK(c->SliceLength(3) == 1);
  CHECK(c->SliceLength(4) == 2);
  CHECK(c->SliceLength(6) == 2);
  CHECK(c->SliceLength(7) == 3);
  auto one = MakeCoder(1, 3);
  CHECK(one->SliceLength(12345) == 12345);
}

TEST_CASE("ErasureCoder::Decode rejects bad survivor sets", "[codec][erasure]") {
  auto c = MakeCoder(3, 5);
  std::vector<uint8_t> a(8), b(8), d(8), o0(8), o1(8), o2(8);
  std::vector<const uint8_t*> src = {a.data(), b.data(), d.data()};
  std::vector<uint8_t*> out = {o0.data(), o1.data(), o2.data()};

  CHECK(c->Decode(8, {0, 1, 1}, src, out).code() == Code::kInvalidArgument);     // repeated
  CHECK(c->Decode(8, {0, 1, 5}, src, out).code() == Code::kInvalidArgument);     // >= n
  CHECK(c->Decode(8, {0, -1, 2}, src, out).code() == Code::kInvalidArgument);    // negative
  CHECK(c->Decode(8, {0, 1}, src, out).code() == Code::kInvalidArgument);        // too few
  CHECK(c->Decode(8, {0, 1, 2, 3}, src, out).code() == Code::kInvalidArgument);  // too many
  CHECK(c->Decode(8, {0, 1, 2}, {a.data(), b.data()}, out).code() == Code::kInvalidArgument);
  CHECK(c->Decode(8, {0, 1, 2}, src, {o0.data()}).code() == Code::kInvalidArgument);
  CHECK(c->Decode(8, {4, 3, 0}, src, out).ok());
}

// ------------------------------------------------------------------------------------------
// SegmentEncoder + DecodeSegment

TEST_CASE("every erasure pattern decodes for all 1 <= k <= n <= 8", "[codec][segment]") {
  std::mt19937_64 rng(42);
  uint64_t decodes = 0;
  for (int n = 1; n <= 8; ++n) {
    for (int k = 1; k <= n; ++k) {
      auto coder = MakeCoder(k, n);
      SegmentEncoder enc(coder);
      const auto uk = static_cast<size_t>(k);
      // 0, 1, multiples of k and one byte around them, and a random not-a-multiple-of-k.
      std::vector<size_t> lens = {0, 1, uk, 3 * uk - 1, 3 * uk + 1, 64 * uk, 1000 + rng() % 3000};
      if (k > 1) {
        while (lens.back() % uk == 0) ++lens.back();
      }
      const auto subsets = Subsets(n, k);
      REQUIRE(subsets.size() == Binomial(n, k));
      for (size_t len : lens) {
        INFO("k=" << k << " n=" << n << " seglen=" << len);
        const auto segment = RandomBytes(rng, len);
        const auto slices = EncodeCopy(enc, segment);
        REQUIRE(slices.size() == static_cast<size_t>(n));
        for (const auto& s : slices) REQUIRE(s.size() == coder->SliceLength(len));
        // Systematic: data pillar i is segment bytes [i*len/k, ...) verbatim, zero padded.
        const size_t sl = coder->SliceLength(len);
        for (size_t i = 0; i < uk; ++i) {
          for (size_t j = 0; j < sl; ++j) {
            const size_t pos = i * sl + j;
            const uint8_t want = pos < len ? segment[pos] : 0;
            if (slices[i][j] != want) FAIL("data pillar " << i << " byte " << j << " differs");
          }
        }
        for (const auto& survivors : subsets) {
          std::vector<uint8_t> out(3, 0xee);  // stale content must be replaced
          auto st = DecodeFrom(*coder, len, slices, survivors, out);
          if (!st.ok()) FAIL("decode failed: " << st.message());
          if (out != segment) {
            std::string who;
            for (int p : survivors) who += std::to_string(p) + " ";
            FAIL("decode from pillars " << who << "gave different bytes");
          }
          ++decodes;
        }
      }
    }
  }
  // sum over n of (2^n - 1) survivor sets, times 7 segment lengths.
  CHECK(decodes == 502u * 7u);
}

TEST_CASE("decoding does not depend on the order of the survivors", "[codec][segment]") {
  std::mt19937_64 rng(7);
  auto coder = MakeCoder(4, 7);
  SegmentEncoder enc(coder);
  const auto segment = RandomBytes(rng, 4099);
  const auto slices = EncodeCopy(enc, segment);
  for (int round = 0; round < 200; ++round) {
    std::vector<int> all = {0, 1, 2, 3, 4, 5, 6};
    std::shuffle(all.begin(), all.end(), rng);
    all.resize(4);
    std::vector<uint8_t> out;
    REQUIRE(DecodeFrom(*coder, segment.size(), slices, all, out).ok());
    REQUIRE(out == segment);
  }
}

TEST_CASE("k = 1 (any one pillar suffices) and k = n (no parity)", "[codec][segment]") {
  std::mt19937_64 rng(11);
  SECTION("k = 1: any single pillar rebuilds the whole segment") {
    for (int n = 1; n <= 6; ++n) {
      auto coder = MakeCoder(1, n);
      SegmentEncoder enc(coder);
      const auto segment = RandomBytes(rng, 777);
      const auto slices = EncodeCopy(enc, segment);
      CHECK(slices[0] == segment);  // systematic: pillar 0 is the segment itself
      for (int p = 0; p < n; ++p) {
        CHECK(slices[static_cast<size_t>(p)].size() == segment.size());
        std::vector<uint8_t> out;
        REQUIRE(DecodeFrom(*coder, segment.size(), slices, {p}, out).ok());
        CHECK(out == segment);
      }
    }
  }
  SECTION("k = n: the slices are exactly the cut segment, and all of them are needed") {
    for (int n = 1; n <= 8; ++n) {
      auto coder = MakeCoder(n, n);
      SegmentEncoder enc(coder);
      const auto segment = RandomBytes(rng, 100 * static_cast<size_t>(n) + 3);
      const auto slices = EncodeCopy(enc, segment);
      std::vector<uint8_t> joined;
      for (const auto& s : slices) joined.insert(joined.end(), s.begin(), s.end());
      REQUIRE(joined.size() >= segment.size());
      CHECK(std::equal(segment.begin(), segment.end(), joined.begin()));
      CHECK(std::all_of(joined.begin() + static_cast<std::ptrdiff_t>(segment.size()), joined.end(),
                        [](uint8_t b) { return b == 0; }));
      std::vector<int> all(static_cast<size_t>(n));
      for (int i = 0; i < n; ++i) all[static_cast<size_t>(i)] = n - 1 - i;
      std::vector<uint8_t> out;
      REQUIRE(DecodeFrom(*coder, segment.size(), slices, all, out).ok());
      CHECK(out == segment);
      if (n > 1) {
        all.pop_back();
        CHECK(DecodeFrom(*coder, segment.size(), slices, all, out).code() ==
              Code::kInvalidArgument);
      }
    }
  }
}

TEST_CASE("parity slices actually depend on the data", "[codec][segment]") {
  // A coder that wrote zeros (or copied data) as parity would pass decode tests that only drop
  // parity pillars; check that every parity pillar changes when one data byte changes.
  std::mt19937_64 rng(5);
  auto coder = MakeCoder(3, 6);
  SegmentEncoder enc(coder);
  auto segment = RandomBytes(rng, 300);
  const auto before = EncodeCopy(enc, segment);
  segment[150] ^= 0x01;  // data pillar 1, byte 50
  const auto after = EncodeCopy(enc, segment);
  CHECK(before[0] == after[0]);
  CHECK(before[1] != after[1]);
  CHECK(before[2] == after[2]);
  for (size_t p = 3; p < 6; ++p) {
    CHECK(before[p] != after[p]);
    for (size_t j = 0; j < before[p].size(); ++j) {
      if (j != 50) REQUIRE(before[p][j] == after[p][j]);
    }
  }
}

TEST_CASE("segment lengths around multiples of k decode from parity only", "[codec][segment]") {
  std::mt19937_64 rng(99);
  for (const auto& [k, n] : std::vector<std::pair<int, int>>{{2, 4}, {3, 6}, {5, 10}, {7, 14}}) {
    auto coder = MakeCoder(k, n);
    SegmentEncoder enc(coder);
    std::vector<int> parity;
    for (int p = n - k; p < n; ++p) parity.push_back(p);  // the last k pillars: mostly parity
    const auto uk = static_cast<size_t>(k);
    for (size_t m : {1u, 2u, 17u, 1024u}) {
      for (size_t len : {m * uk - 1, m * uk, m * uk + 1}) {
        INFO("k=" << k << " n=" << n << " seglen=" << len);
        const auto segment = RandomBytes(rng, len);
        const auto slices = EncodeCopy(enc, segment);
        CHECK(slices[0].size() == (len + uk - 1) / uk);
        std::vector<uint8_t> out;
        REQUIRE(DecodeFrom(*coder, len, slices, parity, out).ok());
        CHECK(out == segment);
      }
    }
  }
}

TEST_CASE("an object split at the segment size rebuilds exactly", "[codec][segment]") {
  // The producer cuts an object into segments of `segsize` bytes, the last one shorter; each is
  // encoded on its own. Object lengths of segsize-1, segsize, segsize+1 and a few multiples.
  std::mt19937_64 rng(3);
  auto coder = MakeCoder(4, 6);
  SegmentEncoder enc(coder);
  const size_t segsize = 4096 + 3;  // deliberately not a multiple of k
  for (size_t objlen : {size_t{0}, size_t{1}, segsize - 1, segsize, segsize + 1, 2 * segsize - 1,
                        2 * segsize, 2 * segsize + 1, 5 * segsize + 17}) {
    INFO("object length " << objlen);
    const auto object = RandomBytes(rng, objlen);
    const size_t segs = (objlen + segsize - 1) / segsize;
    std::vector<uint8_t> rebuilt;
    for (size_t s = 0; s < segs; ++s) {
      const size_t begin = s * segsize;
      const size_t seglen = std::min(segsize, objlen - begin);
      REQUIRE(seglen > 0);
      std::vector<uint8_t> segment(object.begin() + static_cast<std::ptrdiff_t>(begin),
                                   object.begin() + static_cast<std::ptrdiff_t>(begin + seglen));
      const auto slices = EncodeCopy(enc, segment);
      std::vector<uint8_t> out;
      const std::vector<int> survivors = {5, 1, 4, 2};  // pillars 0 and 3 lost
      REQUIRE(DecodeFrom(*coder, seglen, slices, survivors, out).ok());
      rebuilt.insert(rebuilt.end(), out.begin(), out.end());
    }
    CHECK(rebuilt == object);
  }
}

TEST_CASE("wide codes: k=20 n=255 decodes from the last 20 pillars", "[codec][segment]") {
  std::mt19937_64 rng(255);
  auto coder = MakeCoder(20, 255);
  SegmentEncoder enc(coder);
  const auto segment = RandomBytes(rng, 20 * 64 + 5);
  const auto slices = EncodeCopy(enc, segment);
  REQUIRE(slices.size() == 255);
  std::vector<int> survivors;
  for (int p = 235; p < 255; ++p) survivors.push_back(p);
  std::vector<uint8_t> out;
  REQUIRE(DecodeFrom(*coder, segment.size(), slices, survivors, out).ok());
  CHECK(out == segment);
  // A mix of data and parity pillars.
  survivors.clear();
  for (int p = 0; p < 20; ++p) survivors.push_back(p * 12 + (p % 3));
  REQUIRE(DecodeFrom(*coder, segment.size(), slices, survivors, out).ok());
  CHECK(out == segment);
}

TEST_CASE("DecodeSegment rejects wrong payload lengths and counts", "[codec][segment]") {
  std::mt19937_64 rng(8);
  auto coder = MakeCoder(3, 5);
  SegmentEncoder enc(coder);
  const auto segment = RandomBytes(rng, 100);
  auto slices = EncodeCopy(enc, segment);
  std::vector<uint8_t> out;
  // Too few and too many payloads.
  CHECK(DecodeFrom(*coder, 100, slices, {0, 1}, out).code() == Code::kInvalidArgument);
  CHECK(DecodeFrom(*coder, 100, slices, {0, 1, 2, 3}, out).code() == Code::kInvalidArgument);
  // The wrong seglen implies a different slice length.
  CHECK(DecodeFrom(*coder, 200, slices, {0, 1, 4}, out).code() == Code::kCorruption);
  // One payload a byte short.
  slices[4].pop_back();
  CHECK(DecodeFrom(*coder, 100, slices, {0, 1, 4}, out).code() == Code::kCorruption);
  CHECK(DecodeFrom(*coder, 100, slices, {0, 1, 3}, out).ok());
  CHECK(out == segment);
  // A bad pillar index from the decode layer below.
  CHECK(DecodeFrom(*coder, 100, slices, {0, 0, 1}, out).code() == Code::kInvalidArgument);
}

TEST_CASE("SegmentEncoder views stay valid until the next call", "[codec][segment]") {
  std::mt19937_64 rng(12);
  auto coder = MakeCoder(2, 3);
  SegmentEncoder enc(coder);
  // Big first, then small and empty: the scratch buffer shrinks and regrows.
  for (size_t len : {size_t{10001}, size_t{3}, size_t{0}, size_t{1}, size_t{20000}, size_t{2}}) {
    const auto segment = RandomBytes(rng, len);
    const auto& views = enc.Encode(segment);
    REQUIRE(views.size() == 3);
    std::vector<std::span<const uint8_t>> two = {views[2], views[0]};
    std::vector<uint8_t> out;
    REQUIRE(DecodeSegment(*coder, len, {2, 0}, two, out).ok());
    CHECK(out == segment);
  }
}

// ------------------------------------------------------------------------------------------
// Slice headers

TEST_CASE("VerifySlice accepts a good slice and catches flipped bits", "[codec][slice]") {
  std::mt19937_64 rng(21);
  auto payload = RandomBytes(rng, 250);
  const SliceHeader good = SampleHeader(payload, 4);
  REQUIRE(dstk::codec::VerifySlice(good, payload).ok());
  REQUIRE(good.PayloadLength() == 250);

  SECTION("every single-bit flip of the payload") {
    for (size_t bit = 0; bit < payload.size() * 8; ++bit) {
      payload[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
      auto st = dstk::codec::VerifySlice(good, payload);
      payload[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
      if (st.code() != Code::kCorruption) FAIL("payload bit " << bit << " flip not detected");
    }
    CHECK(dstk::codec::VerifySlice(good, payload).ok());
  }
  SECTION("a changed header field (consistent, but not what the CRC covered)") {
    auto check = [&](const char* what, auto mutate) {
      SliceHeader h = good;
      mutate(h);
      INFO(what);
      REQUIRE(dstk::codec::CheckSliceFields(h, payload.size()).ok());  // only the CRC can tell
      CHECK(dstk::codec::VerifySlice(h, payload).code() == Code::kCorruption);
    };
    check("name", [](SliceHeader& h) { h.name = "logs/2026-11-26"; });
    check("rev", [](SliceHeader& h) { h.rev ^= 1; });
    check("seg", [](SliceHeader& h) { h.seg = 3; });
    check("segs", [](SliceHeader& h) { h.segs = 6; });
    check("segs unknown", [](SliceHeader& h) { h.segs = dstk::codec::kUnknownCount; });
    check("idx", [](SliceHeader& h) { h.idx = 0; });
    check("n", [](SliceHeader& h) { h.n = 7; });
    check("size", [](SliceHeader& h) { h.size += 1; });
    check("size unknown", [](SliceHeader& h) { h.size = dstk::codec::kUnknownSize; });
    check("seglen", [](SliceHeader& h) { h.seglen -= 1; });  // same payload length
    check("segsize", [](SliceHeader& h) { h.segsize = 1001; });
    check("crc bit", [](SliceHeader& h) { h.crc ^= 0x80000000u; });
  }
  SECTION("the wrong payload length") {
    std::vector<uint8_t> longer = payload;
    longer.push_back(0);
    CHECK(dstk::codec::VerifySlice(good, longer).code() == Code::kCorruption);
    std::span<const uint8_t> shorter(payload.data(), payload.size() - 1);
    CHECK(dstk::codec::VerifySlice(good, shorter).code() == Code::kCorruption);
    CHECK(dstk::codec::VerifySlice(good, {}).code() == Code::kCorruption);
    CHECK(dstk::codec::CheckSliceFields(good, payload.size() + 1).code() == Code::kCorruption);
  }
}

TEST_CASE("CheckSliceFields refuses inconsistent headers", "[codec][slice]") {
  std::vector<uint8_t> payload(25, 0x5a);
  const SliceHeader good = SampleHeader(payload, 4);  // seglen 100, segsize 1000, k 4, n 6
  REQUIRE(dstk::codec::CheckSliceFields(good, 25).ok());
  auto bad = [&](const char* what, auto mutate) {
    SliceHeader h = good;
    mutate(h);
    h.crc = dstk::codec::ComputeSliceCrc(h, payload);  // a valid CRC does not help
    INFO(what);
    CHECK(dstk::codec::CheckSliceFields(h, h.PayloadLength()).code() == Code::kCorruption);
    CHECK(dstk::codec::VerifySlice(h, payload).code() == Code::kCorruption);
  };
  bad("k = 0", [](SliceHeader& h) { h.k = 0; });
  bad("n < k", [](SliceHeader& h) { h.n = 3; });
  bad("n > 255", [](SliceHeader& h) { h.n = 256; });
  bad("idx = n", [](SliceHeader& h) { h.idx = 6; });
  bad("segsize = 0", [](SliceHeader& h) { h.segsize = 0; });
  bad("segsize too large", [](SliceHeader& h) { h.segsize = dstk::codec::kMaxSegmentSize + 1; });
  bad("seglen > segsize", [](SliceHeader& h) { h.segsize = 99; });
  bad("seg = segs", [](SliceHeader& h) { h.seg = 5; });

  // A zero-length segment is fine (an empty object has one empty segment).
  SliceHeader empty = good;
  empty.seglen = 0;
  empty.crc = dstk::codec::ComputeSliceCrc(empty, {});
  CHECK(empty.PayloadLength() == 0);
  CHECK(dstk::codec::VerifySlice(empty, {}).ok());
  // The limits themselves are accepted.
  SliceHeader edge = good;
  edge.k = 1;
  edge.n = 255;
  edge.idx = 254;
  edge.segsize = dstk::codec::kMaxSegmentSize;
  edge.seglen = 25;
  CHECK(dstk::codec::CheckSliceFields(edge, 25).ok());
}

TEST_CASE("ComputeSliceCrc is the CRC of the header fields followed by the payload",
          "[codec][slice]") {
  // Pins the documented layout (little-endian fixed widths, name length first), which is what
  // other implementations of the format must reproduce.
  SliceHeader h;
  h.name = "ab";
  h.rev = 0x0102030405060708ull;
  h.seg = 1;
  h.segs = 2;
  h.idx = 3;
  h.k = 4;
  h.n = 5;
  h.size = 6;
  h.seglen = 7;
  h.segsize = 8;
  const std::vector<uint8_t> payload = {0xde, 0xad};
  std::vector<uint8_t> bytes = {2, 0, 0, 0, 'a', 'b', 8, 7, 6, 5, 4, 3, 2, 1};
  for (uint32_t v : {1u, 2u, 3u, 4u, 5u}) {
    for (int i = 0; i < 4; ++i) bytes.push_back(static_cast<uint8_t>(v >> (8 * i)));
  }
  for (int i = 0; i < 8; ++i) bytes.push_back(i == 0 ? 6 : 0);
  for (uint32_t v : {7u, 8u}) {
    for (int i = 0; i < 4; ++i) bytes.push_back(static_cast<uint8_t>(v >> (8 * i)));
  }
  bytes.insert(bytes.end(), payload.begin(), payload.end());
  CHECK(dstk::codec::ComputeSliceCrc(h, payload) == Crc32c(bytes));
}
