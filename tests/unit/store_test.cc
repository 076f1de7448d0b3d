// Unit tests of lib/store: the slice file format and the SliceStore a dsnode serves, including
// recovery after kill -9 in the middle of writes.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "codec/erasure.h"
#include "codec/segment.h"
#include "codec/slice.h"
#include "node/service.h"
#include "store/file_util.h"
#include "store/slice_file.h"
#include "store/slice_store.h"
#include "temp_dir.h"
#include "util/status.h"
#include "wire/limits.h"
#include "wire/message.h"
#include "wire/name.h"

namespace fs = std::filesystem;

namespace {

using dstk::Code;
using dstk::Status;
using dstk::codec::SliceHeader;
using dstk::store::SliceStore;
using dstk::test::TempDir;
using dstk::wire::Manifest;

struct TestSlice {
  SliceHeader h;
  std::vector<uint8_t> payload;
};

// Object geometry used throughout: k=2, n=3, segments of kSegsize bytes.
constexpr uint32_t kK = 2, kN = 3, kSegsize = 4096;

std::shared_ptr<const dstk::codec::ErasureCoder> Coder() {
  static auto coder = dstk::codec::ErasureCoder::Create(kK, kN).value();
  return coder;
}

// Pillar `idx` of segment `seg` of a real encoding of `segment`.
TestSlice MakeSlice(const std::string& name, uint64_t rev, uint32_t seg, uint32_t segs,
                    uint32_t idx, const std::vector<uint8_t>& segment) {
  dstk::codec::SegmentEncoder enc(Coder());
  const auto& views = enc.Encode(segment);
  TestSlice s;
  s.payload.assign(views[idx].begin(), views[idx].end());
  s.h.name = name;
  s.h.rev = rev;
  s.h.seg = seg;
  s.h.segs = segs;
  s.h.idx = idx;
  s.h.k = kK;
  s.h.n = kN;
  s.h.size = uint64_t{segs - 1} * kSegsize + segment.size();
  s.h.seglen = static_cast<uint32_t>(segment.size());
  s.h.segsize = kSegsize;
  s.h.crc = dstk::codec::ComputeSliceCrc(s.h, s.payload);
  return s;
}

std::vector<uint8_t> RandomBytes(std::mt19937_64& rng, size_t n) {
  std::vector<uint8_t> out(n);
  for (auto& b : out) b = static_cast<uint8_t>(rng());
  return out;
}

TestSlice RandomSlice(std::mt19937_64& rng, const std::string& name, uint64_t rev, uint32_t seg,
                      uint32_t segs = 4, uint32_t idx = 1) {
  const size_t len = seg + 1 == segs ? 1 + rng() % kSegsize : kSegsize;
  return MakeSlice(name, rev, seg, segs, idx, RandomBytes(rng, len));
}

Manifest MakeManifest(uint64_t rev, uint32_t segs = 4, bool tomb = false) {
  Manifest m;
  m.rev = rev;
  m.segs = tomb ? 0 : segs;
  m.size = tomb ? 0 : uint64_t{segs} * kSegsize;
  m.segsize = kSegsize;
  m.k = tomb ? 0 : kK;
  m.n = tomb ? 0 : kN;
  m.tomb = tomb;
  return m;
}

std::unique_ptr<SliceStore> OpenStore(const std::string& dir) {
  auto s = SliceStore::Open(dir);
  INFO(s.status().message());
  REQUIRE(s.ok());
  return std::move(s).value();
}

// The store ops, made durable at once (SyncFiles) as a unit does at the end of each group.
Status SyncedIfOk(SliceStore& store, Status st) {
  return st.ok() ? store.SyncFiles() : st;
}
Status PublishNow(SliceStore& store, const std::string& name, const Manifest& m) {
  return SyncedIfOk(store, store.Publish(name, m));
}
Status DeleteRevisionNow(SliceStore& store, const std::string& name, uint64_t rev) {
  return SyncedIfOk(store, store.DeleteRevision(name, rev));
}
Status PutSliceNow(SliceStore& store, const SliceHeader& h, std::span<const uint8_t> payload) {
  return SyncedIfOk(store, store.PutSlice(h, payload));
}

void Put(SliceStore& store, const TestSlice& s) {
  auto st = PutSliceNow(store, s.h, s.payload);
  INFO(s.h.name << " rev " << s.h.rev << " seg " << s.h.seg << ": " << st.message());
  REQUIRE(st.ok());
}

// Reads a slice back and checks it is the one that was put.
void CheckGet(SliceStore& store, const TestSlice& s) {
  SliceHeader h;
  std::vector<uint8_t> file;
  std::span<const uint8_t> payload;
  auto st = store.GetSlice(s.h.name, s.h.rev, s.h.seg, h, file, payload);
  INFO(s.h.name << " rev " << s.h.rev << " seg " << s.h.seg << ": " << st.message());
  REQUIRE(st.ok());
  CHECK(h.name == s.h.name);
  CHECK(h.rev == s.h.rev);
  CHECK(h.seg == s.h.seg);
  CHECK(h.segs == s.h.segs);
  CHECK(h.idx == s.h.idx);
  CHECK(h.k == s.h.k);
  CHECK(h.n == s.h.n);
  CHECK(h.size == s.h.size);
  CHECK(h.seglen == s.h.seglen);
  CHECK(h.segsize == s.h.segsize);
  CHECK(h.crc == s.h.crc);
  REQUIRE(payload.size() == s.payload.size());
  CHECK(std::equal(payload.begin(), payload.end(), s.payload.begin()));
  // The payload is a view into `file`.
  CHECK(payload.data() >= file.data());
  CHECK(payload.data() + payload.size() == file.data() + file.size());
}

Code GetCode(SliceStore& store, const std::string& name, uint64_t rev, uint32_t seg) {
  SliceHeader h;
  std::vector<uint8_t> file;
  std::span<const uint8_t> payload;
  return store.GetSlice(name, rev, seg, h, file, payload).code();
}

std::string SlicePath(const std::string& dir, const std::string& name, uint64_t rev, uint32_t seg) {
  return dir + "/objects/" + name + "/" + dstk::store::SliceFileName(rev, seg);
}

std::string ManifestPath(const std::string& dir, const std::string& name, uint64_t rev) {
  return dir + "/objects/" + name + "/" + dstk::store::ManifestFileName(rev);
}

std::vector<uint8_t> ReadAll(const std::string& path) {
  auto r = dstk::store::ReadFile(path);
  REQUIRE(r.ok());
  return r.value();
}

void WriteAll(const std::string& path, const std::vector<uint8_t>& data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size()));
  REQUIRE(out.good());
}

// Regular files under `dir` whose basename satisfies `pred`, as paths relative to `dir`.
template <typename Pred>
std::vector<std::string> FilesWhere(const std::string& dir, Pred pred) {
  std::vector<std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (e.is_regular_file() && pred(e.path().filename().string())) {
      out.push_back(fs::relative(e.path(), dir).string());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

bool StartsWith(const std::string& s, const std::string& p) {
  return s.rfind(p, 0) == 0;
}
bool EndsWith(const std::string& s, const std::string& p) {
  return s.size() >= p.size() && s.compare(s.size() - p.size(), p.size(), p) == 0;
}

std::vector<std::string> Names(const dstk::store::ListPage& page) {
  std::vector<std::string> out;
  for (const auto& e : page.entries) out.push_back(e.name);
  return out;
}

using Held = std::vector<std::pair<uint64_t, std::pair<uint32_t, uint32_t>>>;  // rev, slices, bad

Held HeldOf(SliceStore& store, const std::string& name, bool verify = false) {
  auto st = store.Stat(name, verify);
  INFO(name << ": " << st.status().message());
  REQUIRE(st.ok());
  Held out;
  for (const auto& h : st->held) out.push_back({h.rev, {h.slices, h.bad}});
  return out;
}

}  // namespace

// ------------------------------------------------------------------------------------------
// Slice files

TEST_CASE("slice and manifest file names are fixed-width hex", "[store][file]") {
  CHECK(dstk::store::SliceFileName(1, 2) == "0000000000000001.00000002.slice");
  CHECK(dstk::store::SliceFileName(0xfedcba9876543210ull, 0xffffffffu) ==
        "fedcba9876543210.ffffffff.slice");
  CHECK(dstk::store::ManifestFileName(0xabc) == "0000000000000abc.manifest");
}

TEST_CASE("a slice file round-trips and every corruption of it is caught", "[store][file]") {
  std::mt19937_64 rng(1);
  const TestSlice s = RandomSlice(rng, "dir/file", 9, 3, 4, 2);
  const std::string prefix = dstk::store::EncodeSliceFilePrefix(s.h);
  REQUIRE(prefix.substr(0, 4) == "DSS1");
  std::vector<uint8_t> file(prefix.begin(), prefix.end());
  file.insert(file.end(), s.payload.begin(), s.payload.end());

  SliceHeader h;
  std::span<const uint8_t> payload;
  REQUIRE(dstk::store::DecodeSliceFile(file, h, payload).ok());
  CHECK(h.name == s.h.name);
  CHECK(h.crc == s.h.crc);
  CHECK(payload.size() == s.payload.size());
  CHECK(std::equal(payload.begin(), payload.end(), s.payload.begin()));

  SECTION("every truncation") {
    for (size_t len = 0; len < file.size(); ++len) {
      const std::span<const uint8_t> cut(file.data(), len);
      if (dstk::store::DecodeSliceFile(cut, h, payload).code() != Code::kCorruption) {
        FAIL("truncation to " << len << " bytes not detected");
      }
    }
  }
  SECTION("every byte of the header and the first payload bytes, flipped") {
    const size_t upto = std::min(file.size(), prefix.size() + 64);
    for (size_t i = 0; i < upto; ++i) {
      for (uint8_t mask : {uint8_t{0x01}, uint8_t{0x80}, uint8_t{0xff}}) {
        std::vector<uint8_t> bad = file;
        bad[i] ^= mask;
        const auto st = dstk::store::DecodeSliceFile(bad, h, payload);
        if (st.code() != Code::kCorruption) {
          FAIL("flip of byte " << i << " with mask " << int{mask} << " not detected");
        }
      }
    }
  }
  SECTION("trailing bytes") {
    std::vector<uint8_t> longer = file;
    longer.push_back(0);
    CHECK(dstk::store::DecodeSliceFile(longer, h, payload).code() == Code::kCorruption);
  }
  SECTION("a header length pointing past the end") {
    std::vector<uint8_t> bad = file;
    bad[4] = 0xff, bad[5] = 0xff, bad[6] = 0xff, bad[7] = 0xff;
    CHECK(dstk::store::DecodeSliceFile(bad, h, payload).code() == Code::kCorruption);
  }
}

// ------------------------------------------------------------------------------------------
// SliceStore

TEST_CASE("put and get round-trip real encoded slices", "[store]") {
  TempDir tmp;
  std::mt19937_64 rng(2);
  // Three units, one pillar each, as a client would spread one object.
  std::vector<std::unique_ptr<SliceStore>> units;
  for (uint32_t u = 0; u < kN; ++u)
    units.push_back(OpenStore(tmp.path() + "/unit" + std::to_string(u)));

  const uint32_t segs = 3;
  std::vector<std::vector<uint8_t>> segments;
  std::vector<std::vector<TestSlice>> slices(kN);
  for (uint32_t seg = 0; seg < segs; ++seg) {
    segments.push_back(RandomBytes(rng, seg + 1 == segs ? 1001 : kSegsize));
    for (uint32_t idx = 0; idx < kN; ++idx) {
      slices[idx].push_back(MakeSlice("photos/cat.jpg", 5, seg, segs, idx, segments.back()));
      Put(*units[idx], slices[idx].back());
    }
  }
  for (uint32_t idx = 0; idx < kN; ++idx) {
    for (const auto& s : slices[idx]) CheckGet(*units[idx], s);
  }
  // Any two units rebuild every segment.
  for (uint32_t seg = 0; seg < segs; ++seg) {
    std::vector<std::vector<uint8_t>> files(2);
    std::vector<std::span<const uint8_t>> payloads(2);
    const std::vector<int> pillars = {2, 0};
    for (size_t j = 0; j < 2; ++j) {
      SliceHeader h;
      REQUIRE(units[static_cast<size_t>(pillars[j])]
                  ->GetSlice("photos/cat.jpg", 5, seg, h, files[j], payloads[j])
                  .ok());
      CHECK(h.idx == static_cast<uint32_t>(pillars[j]));
    }
    std::vector<uint8_t> out;
    REQUIRE(
        dstk::codec::DecodeSegment(*Coder(), segments[seg].size(), pillars, payloads, out).ok());
    CHECK(out == segments[seg]);
  }

  SliceStore& store = *units[1];
  // What is not there.
  CHECK(GetCode(store, "photos/cat.jpg", 5, segs) == Code::kNotFound);
  CHECK(GetCode(store, "photos/cat.jpg", 4, 0) == Code::kNotFound);
  CHECK(GetCode(store, "photos/dog.jpg", 5, 0) == Code::kNotFound);
  CHECK(GetCode(store, "photos", 5, 0) == Code::kNotFound);
  // Rewriting the same slice is fine.
  Put(store, slices[1][0]);
  CheckGet(store, slices[1][0]);
  // A slice whose CRC or length does not match is refused and nothing is written.
  TestSlice bad = RandomSlice(rng, "bad", 1, 0);
  bad.h.crc ^= 1;
  CHECK(PutSliceNow(store, bad.h, bad.payload).code() == Code::kCorruption);
  TestSlice shorter = RandomSlice(rng, "bad", 1, 0);
  shorter.payload.pop_back();
  CHECK(PutSliceNow(store, shorter.h, shorter.payload).code() == Code::kCorruption);
  TestSlice badk = RandomSlice(rng, "bad", 1, 0);
  badk.h.k = 0;
  badk.h.crc = dstk::codec::ComputeSliceCrc(badk.h, badk.payload);
  CHECK(PutSliceNow(store, badk.h, badk.payload).code() == Code::kCorruption);
  CHECK_FALSE(fs::exists(store.dir() + "/objects/bad"));
  CHECK(store.Stat("bad", false).status().code() == Code::kNotFound);

  const auto info = store.Info();
  CHECK(info.slices == segs);
  CHECK(info.objects == 0);  // nothing published yet
  uint64_t on_disk = 0;
  for (uint32_t seg = 0; seg < segs; ++seg)
    on_disk += fs::file_size(SlicePath(store.dir(), "photos/cat.jpg", 5, seg));
  CHECK(info.bytes_used == on_disk);
  CHECK(info.bytes_free > 0);
}

TEST_CASE("a lane-filtered list names one lane's names, and bounds its scan", "[store]") {
  TempDir tmp;
  auto store = OpenStore(tmp.path() + "/unit");
  std::mt19937_64 rng(5);
  std::vector<std::string> names;
  for (int i = 0; i < 120; ++i) {
    char name[32];
    std::snprintf(name, sizeof name, "q/%016x-%08x", i, 7);
    names.emplace_back(name);
    Put(*store, RandomSlice(rng, name, 10, 0, 1));
    REQUIRE(PublishNow(*store, name, MakeManifest(10, 1)).ok());
  }
  const dstk::wire::ListLane lane{.lane = 2, .lanes = 4};
  std::vector<std::string> want;
  for (const auto& n : names) {
    if (dstk::wire::LaneOf(n, 4) == 2) want.push_back(n);
  }
  REQUIRE(want.size() > 10);
  // Every name of the lane, in order, and only those.
  auto all = store->List("q/", "", 1000, size_t{1} << 20, lane);
  CHECK(Names(all) == want);
  CHECK_FALSE(all.more);
  CHECK(all.scanned.empty());
  // No lanes, or one: every name.
  CHECK(store->List("q/", "", 1000, size_t{1} << 20, {.lane = 0, .lanes = 1}).entries.size() ==
        names.size());
  // Paged one name at a time, each page examines at most 1 * 4 * kListScanPerLane names; a page
  // cut short by that names where it stopped, and paging on from there (or from the last
  // entry) visits every name of the lane once.
  std::vector<std::string> seen;
  std::string after;
  int pages = 0;
  for (;;) {
    auto p = store->List("q/", after, 1, size_t{1} << 20, lane);
    REQUIRE(p.entries.size() <= 1);
    REQUIRE(++pages < 1000);
    for (const auto& e : p.entries) seen.push_back(e.name);
    if (!p.more) break;
    if (!p.scanned.empty()) {
      // Stopped after 16 names: where it stopped is past `after` and no further than that.
      const auto from = std::upper_bound(names.begin(), names.end(), after);
      const auto at = std::find(names.begin(), names.end(), p.scanned);
      REQUIRE(at != names.end());
      CHECK(at - from == static_cast<std::ptrdiff_t>(4 * dstk::wire::kListScanPerLane) - 1);
      after = p.scanned;
    } else {
      after = p.entries.back().name;
    }
  }
  CHECK(seen == want);
}

TEST_CASE("publish, stat and list: ordering, prefixes, paging and tombstones", "[store]") {
  TempDir tmp;
  auto store = OpenStore(tmp.path() + "/unit");
  std::mt19937_64 rng(3);
  const std::vector<std::string> names = {
      "logs/2", "b",      "a/b", "Z", "logs/1", "a", "logsx", "logs/3", "\xc3\xa9t\xc3\xa9",
      "c",      "logs/10"};
  for (const auto& name : names) {
    Put(*store, RandomSlice(rng, name, 10, 0, 1));
    if (name == "c") {
      REQUIRE(PublishNow(*store, name, MakeManifest(11, 0, true)).ok());
    } else {
      REQUIRE(PublishNow(*store, name, MakeManifest(10, 1)).ok());
    }
  }
  // Held but never published: not listed, but known to stat.
  Put(*store, RandomSlice(rng, "pending", 3, 0, 1));
  Put(*store, RandomSlice(rng, "logs/pending", 3, 0, 1));

  const std::vector<std::string> all = {"Z",
                                        "a",
                                        "a/b",
                                        "b",
                                        "c",
                                        "logs/1",
                                        "logs/10",
                                        "logs/2",
                                        "logs/3",
                                        "logsx",
                                        "\xc3\xa9t\xc3\xa9"};  // byte order
  auto page = store->List("", "", 100, size_t{1} << 20);
  CHECK(Names(page) == all);
  CHECK_FALSE(page.more);
  for (const auto& e : page.entries) {
    CHECK(e.manifest.tomb == (e.name == "c"));
    CHECK(e.manifest.rev == (e.name == "c" ? 11u : 10u));
  }

  SECTION("prefix") {
    auto logs = store->List("logs/", "", 100, size_t{1} << 20);
    CHECK(Names(logs) == std::vector<std::string>{"logs/1", "logs/10", "logs/2", "logs/3"});
    CHECK_FALSE(logs.more);
    CHECK(Names(store->List("logs", "", 100, size_t{1} << 20)) ==
          std::vector<std::string>{"logs/1", "logs/10", "logs/2", "logs/3", "logsx"});
    CHECK(Names(store->List("a", "", 100, size_t{1} << 20)) ==
          std::vector<std::string>{"a", "a/b"});
    CHECK(store->List("nothing/", "", 100, size_t{1} << 20).entries.empty());
    CHECK(store->List("pending", "", 100, size_t{1} << 20).entries.empty());
  }
  SECTION("paging with after and limit visits every name once") {
    std::vector<std::string> seen;
    std::string after;
    int pages = 0;
    for (;;) {
      auto p = store->List("", after, 3, size_t{1} << 20);
      REQUIRE(p.entries.size() <= 3);
      ++pages;
      for (const auto& e : p.entries) seen.push_back(e.name);
      if (!p.more) break;
      REQUIRE_FALSE(p.entries.empty());
      after = p.entries.back().name;
      REQUIRE(pages < 100);
    }
    CHECK(seen == all);
    CHECK(pages == 4);  // 3 + 3 + 3 + 2
    // A page that ends exactly at the last name.
    auto exact = store->List("logs/", "logs/1", 3, size_t{1} << 20);
    CHECK(Names(exact) == std::vector<std::string>{"logs/10", "logs/2", "logs/3"});
    CHECK_FALSE(exact.more);
    auto shorter = store->List("logs/", "logs/1", 2, size_t{1} << 20);
    CHECK(Names(shorter) == std::vector<std::string>{"logs/10", "logs/2"});
    CHECK(shorter.more);
    // `after` before the prefix starts at the prefix; after the end gives nothing.
    CHECK(Names(store->List("logs/", "a", 1, size_t{1} << 20)) ==
          std::vector<std::string>{"logs/1"});
    CHECK(store->List("logs/", "logs/9", 10, size_t{1} << 20).entries.empty());
    CHECK(store->List("", "\xff", 10, size_t{1} << 20).entries.empty());
    // `after` need not be a listed name.
    CHECK(Names(store->List("", "logs/1x", 2, size_t{1} << 20)) ==
          std::vector<std::string>{"logs/2", "logs/3"});
  }
  SECTION("stat") {
    auto a = store->Stat("a", false);
    REQUIRE(a.ok());
    REQUIRE(a->committed.has_value());
    CHECK(a->committed->rev == 10);
    CHECK(a->committed->segs == 1);
    CHECK(a->committed->k == kK);
    CHECK_FALSE(a->committed->tomb);
    CHECK(HeldOf(*store, "a") == Held{{10, {1, 0}}});
    // The tombstone (rev 11) dropped the slices of rev 10.
    auto c = store->Stat("c", false);
    REQUIRE(c.ok());
    REQUIRE(c->committed.has_value());
    CHECK(c->committed->tomb);
    CHECK(c->held.empty());
    CHECK_FALSE(fs::exists(SlicePath(store->dir(), "c", 10, 0)));
    auto p = store->Stat("pending", false);
    REQUIRE(p.ok());
    CHECK_FALSE(p->committed.has_value());
    CHECK(HeldOf(*store, "pending") == Held{{3, {1, 0}}});
    CHECK(store->Stat("nothing", false).status().code() == Code::kNotFound);
    CHECK(store->Stat("logs", false).status().code() == Code::kNotFound);  // a directory only
    const auto info = store->Info();
    CHECK(info.objects == all.size() - 1);  // the tombstone is not an object
    CHECK(info.slices == all.size() - 1 + 2);
  }
}

TEST_CASE("revisions: older publishes and puts conflict, publish drops older revisions",
          "[store]") {
  TempDir tmp;
  auto store = OpenStore(tmp.path() + "/unit");
  const std::string dir = store->dir();
  std::mt19937_64 rng(4);
  for (uint64_t rev : {3u, 5u, 7u}) {
    for (uint32_t seg = 0; seg < 2; ++seg) Put(*store, RandomSlice(rng, "obj", rev, seg, 2));
  }
  CHECK(HeldOf(*store, "obj") == Held{{3, {2, 0}}, {5, {2, 0}}, {7, {2, 0}}});

  REQUIRE(PublishNow(*store, "obj", MakeManifest(5, 2)).ok());
  CHECK(fs::exists(ManifestPath(dir, "obj", 5)));
  // Revision 3 is gone from the index and the disk; 5 and 7 stay.
  CHECK(HeldOf(*store, "obj") == Held{{5, {2, 0}}, {7, {2, 0}}});
  CHECK_FALSE(fs::exists(SlicePath(dir, "obj", 3, 0)));
  CHECK_FALSE(fs::exists(SlicePath(dir, "obj", 3, 1)));
  CHECK(GetCode(*store, "obj", 3, 0) == Code::kNotFound);
  CHECK(fs::exists(SlicePath(dir, "obj", 7, 1)));

  // Publishing the same revision again is fine; an older one is a conflict.
  CHECK(PublishNow(*store, "obj", MakeManifest(5, 2)).ok());
  CHECK(PublishNow(*store, "obj", MakeManifest(4, 2)).code() == Code::kConflict);
  CHECK(PublishNow(*store, "obj", MakeManifest(1, 2, true)).code() == Code::kConflict);
  // A put of an older revision than committed is a conflict; the committed one and newer are not.
  const TestSlice old = RandomSlice(rng, "obj", 4, 0, 2);
  CHECK(PutSliceNow(*store, old.h, old.payload).code() == Code::kConflict);
  CHECK_FALSE(fs::exists(SlicePath(dir, "obj", 4, 0)));
  Put(*store, RandomSlice(rng, "obj", 5, 1, 2));
  Put(*store, RandomSlice(rng, "obj", 9, 0, 2));

  // Publishing 7 drops 5 (slices and manifest) but keeps the pending 9.
  REQUIRE(PublishNow(*store, "obj", MakeManifest(7, 2)).ok());
  CHECK(HeldOf(*store, "obj") == Held{{7, {2, 0}}, {9, {1, 0}}});
  CHECK_FALSE(fs::exists(ManifestPath(dir, "obj", 5)));
  CHECK(fs::exists(ManifestPath(dir, "obj", 7)));
  CHECK(FilesWhere(dir + "/objects/obj", [](const std::string&) { return true; }) ==
        std::vector<std::string>{dstk::store::SliceFileName(7, 0), dstk::store::SliceFileName(7, 1),
                                 dstk::store::ManifestFileName(7),
                                 dstk::store::SliceFileName(9, 0)});
  auto st = store->Stat("obj", false);
  REQUIRE(st.ok());
  REQUIRE(st->committed.has_value());
  CHECK(st->committed->rev == 7);

  // A tombstone drops everything older than itself.
  REQUIRE(PublishNow(*store, "obj", MakeManifest(10, 0, true)).ok());
  CHECK(HeldOf(*store, "obj").empty());
  CHECK(FilesWhere(dir + "/objects/obj", [](const std::string&) { return true; }) ==
        std::vector<std::string>{dstk::store::ManifestFileName(10)});
  const TestSlice after_tomb = RandomSlice(rng, "obj", 9, 0, 2);
  CHECK(PutSliceNow(*store, after_tomb.h, after_tomb.payload).code() == Code::kConflict);
}

TEST_CASE("writes are staged: served at once, on disk only after SyncFiles, lost in a crash",
          "[store]") {
  TempDir tmp;
  const std::string unit = tmp.path() + "/unit";
  std::mt19937_64 rng(41);
  auto is_temp = [](const std::string& f) { return StartsWith(f, dstk::store::kTempPrefix); };
  const TestSlice a1 = RandomSlice(rng, "obj", 1, 0, 1);
  const TestSlice a2 = RandomSlice(rng, "obj", 2, 0, 1);
  {
    auto store = OpenStore(unit);
    const std::string dir = store->dir();
    REQUIRE(store->PutSlice(a1.h, a1.payload).ok());
    REQUIRE(store->Publish("obj", MakeManifest(1, 1)).ok());
    // Served and committed for readers, but only temp files on disk: nothing to acknowledge yet.
    CheckGet(*store, a1);
    CHECK(store->HasUnsyncedFiles());
    CHECK_FALSE(fs::exists(SlicePath(dir, "obj", 1, 0)));
    CHECK_FALSE(fs::exists(ManifestPath(dir, "obj", 1)));
    CHECK(FilesWhere(dir + "/objects", is_temp).size() == 2);
    REQUIRE(store->SyncFiles().ok());
    CHECK_FALSE(store->HasUnsyncedFiles());
    CHECK(fs::exists(SlicePath(dir, "obj", 1, 0)));
    CHECK(fs::exists(ManifestPath(dir, "obj", 1)));
    CHECK(FilesWhere(dir + "/objects", is_temp).empty());

    // A newer revision: the old manifest and slice stay on disk until the new ones are durable.
    REQUIRE(store->PutSlice(a2.h, a2.payload).ok());
    REQUIRE(store->Publish("obj", MakeManifest(2, 1)).ok());
    CHECK(GetCode(*store, "obj", 1, 0) == Code::kNotFound);
    CheckGet(*store, a2);
    CHECK(fs::exists(ManifestPath(dir, "obj", 1)));
    CHECK(fs::exists(SlicePath(dir, "obj", 1, 0)));
    // Dropped without SyncFiles: what a crash does (the store's temp files go with it).
  }
  {
    auto store = OpenStore(unit);
    const std::string dir = store->dir();
    auto st = store->Stat("obj", false);
    REQUIRE(st.ok());
    REQUIRE(st->committed.has_value());
    CHECK(st->committed->rev == 1);
    CheckGet(*store, a1);
    CHECK(FilesWhere(dir + "/objects", is_temp).empty());
    // The same again, synced: only revision 2's files are left.
    REQUIRE(store->PutSlice(a2.h, a2.payload).ok());
    REQUIRE(store->Publish("obj", MakeManifest(2, 1)).ok());
    REQUIRE(store->SyncFiles().ok());
    CHECK(FilesWhere(dir + "/objects/obj", [](const std::string&) { return true; }) ==
          std::vector<std::string>{dstk::store::SliceFileName(2, 0),
                                   dstk::store::ManifestFileName(2)});
    // A staged delete: the slices stay on disk until the commit, gone for readers at once.
    const TestSlice p = RandomSlice(rng, "obj", 3, 0, 1);
    Put(*store, p);
    REQUIRE(store->DeleteRevision("obj", 3).ok());
    CHECK(GetCode(*store, "obj", 3, 0) == Code::kNotFound);
    CHECK(fs::exists(SlicePath(dir, "obj", 3, 0)));
    REQUIRE(store->SyncFiles().ok());
    CHECK_FALSE(fs::exists(SlicePath(dir, "obj", 3, 0)));
    // Put then delete within one group leaves nothing behind, not even a temp file.
    const TestSlice q = RandomSlice(rng, "obj", 4, 0, 1);
    REQUIRE(store->PutSlice(q.h, q.payload).ok());
    REQUIRE(store->DeleteRevision("obj", 4).ok());
    REQUIRE(store->SyncFiles().ok());
    CHECK_FALSE(fs::exists(SlicePath(dir, "obj", 4, 0)));
    CHECK(FilesWhere(dir + "/objects", is_temp).empty());
  }
}

TEST_CASE("DeleteRevision removes one pending revision", "[store]") {
  TempDir tmp;
  auto store = OpenStore(tmp.path() + "/unit");
  const std::string dir = store->dir();
  std::mt19937_64 rng(5);
  for (uint32_t seg = 0; seg < 3; ++seg) {
    Put(*store, RandomSlice(rng, "x/y", 1, seg, 3));
    Put(*store, RandomSlice(rng, "x/y", 2, seg, 3));
  }
  REQUIRE(DeleteRevisionNow(*store, "x/y", 2).ok());
  CHECK(HeldOf(*store, "x/y") == Held{{1, {3, 0}}});
  for (uint32_t seg = 0; seg < 3; ++seg) {
    CHECK_FALSE(fs::exists(SlicePath(dir, "x/y", 2, seg)));
    CHECK(fs::exists(SlicePath(dir, "x/y", 1, seg)));
    CHECK(GetCode(*store, "x/y", 2, seg) == Code::kNotFound);
  }
  CHECK(DeleteRevisionNow(*store, "x/y", 2).code() == Code::kNotFound);
  CHECK(DeleteRevisionNow(*store, "x/z", 1).code() == Code::kNotFound);
  CHECK(DeleteRevisionNow(*store, "x", 1).code() == Code::kNotFound);
  // Deleting the last revision of an unpublished object forgets the object.
  REQUIRE(DeleteRevisionNow(*store, "x/y", 1).ok());
  CHECK(store->Stat("x/y", false).status().code() == Code::kNotFound);
  CHECK(FilesWhere(dir, [](const std::string& f) { return EndsWith(f, ".slice"); }).empty());
  // A published object stays known after its pending revision is deleted.
  Put(*store, RandomSlice(rng, "p", 1, 0, 1));
  REQUIRE(PublishNow(*store, "p", MakeManifest(1, 1)).ok());
  Put(*store, RandomSlice(rng, "p", 2, 0, 1));
  REQUIRE(DeleteRevisionNow(*store, "p", 2).ok());
  CHECK(HeldOf(*store, "p") == Held{{1, {1, 0}}});
  CHECK(Names(store->List("", "", 10, size_t{1} << 20)) == std::vector<std::string>{"p"});
}

TEST_CASE("a store directory is served by one SliceStore at a time", "[store]") {
  TempDir tmp;
  const std::string dir = tmp.path() + "/unit";
  {
    auto first = OpenStore(dir);
    auto second = SliceStore::Open(dir);
    CHECK(second.status().code() == Code::kConflict);
    CHECK_FALSE(second.status().message().empty());
    // The refused open left the first one working.
    std::mt19937_64 rng(6);
    Put(*first, RandomSlice(rng, "still", 1, 0, 1));
  }
  auto again = SliceStore::Open(dir);
  INFO(again.status().message());
  CHECK(again.ok());
  // Missing parents are created (dsnode --dir /srv/new/unit just works)...
  CHECK(SliceStore::Open(tmp.path() + "/no/such/parent").ok());
  // ...but a path under a regular file cannot be.
  { std::ofstream(tmp.path() + "/file") << "x"; }
  CHECK_FALSE(SliceStore::Open(tmp.path() + "/file/unit").ok());
}

TEST_CASE("open removes temp files and re-indexes everything after a restart", "[store]") {
  TempDir tmp;
  const std::string dir = tmp.path() + "/unit";
  std::mt19937_64 rng(7);
  std::vector<TestSlice> kept;
  std::map<std::string, Held> held_before;
  std::vector<std::string> listed_before;
  dstk::wire::UnitInfo info_before;
  {
    auto store = OpenStore(dir);
    for (const std::string name : {"a", "a/b", "a/b/c", "deep/er/still", "t"}) {
      for (uint64_t rev : {1u, 2u}) {
        for (uint32_t seg = 0; seg < 3; ++seg) {
          kept.push_back(RandomSlice(rng, name, rev, seg, 3));
          Put(*store, kept.back());
        }
      }
    }
    REQUIRE(PublishNow(*store, "a", MakeManifest(1, 3)).ok());
    REQUIRE(PublishNow(*store, "a/b/c", MakeManifest(2, 3)).ok());
    REQUIRE(PublishNow(*store, "gone", MakeManifest(4, 0, true)).ok());
    for (const std::string name : {"a", "a/b", "a/b/c", "deep/er/still", "t"}) {
      held_before[name] = HeldOf(*store, name);
    }
    listed_before = Names(store->List("", "", 100, size_t{1} << 20));
    info_before = store->Info();
  }
  // Leftovers of writes cut short, and files that are not the store's.
  const std::vector<std::string> temps = {"objects/a/.tmp.AbC123", "objects/a/b/.tmp.x",
                                          "objects/deep/er/still/.tmp.", "objects/.tmp.top"};
  for (const auto& t : temps) WriteAll(dir + "/" + t, {1, 2, 3});
  WriteAll(dir + "/objects/a/README", {'h', 'i'});
  WriteAll(dir + "/objects/a/zz.notes", {'h', 'i'});

  auto store = OpenStore(dir);
  for (const auto& t : temps) CHECK_FALSE(fs::exists(dir + "/" + t));
  CHECK(FilesWhere(dir, [](const std::string& f) { return StartsWith(f, ".tmp."); }).empty());
  CHECK(fs::exists(dir + "/objects/a/README"));
  CHECK(fs::exists(dir + "/objects/a/zz.notes"));

  // Publishing dropped revision 1 of a/b/c; everything else must be back.
  CHECK(Names(store->List("", "", 100, size_t{1} << 20)) == listed_before);
  CHECK(listed_before == std::vector<std::string>{"a", "a/b/c", "gone"});
  for (const auto& [name, held] : held_before) {
    INFO(name);
    CHECK(HeldOf(*store, name) == held);
  }
  auto a = store->Stat("a", false);
  REQUIRE(a.ok());
  REQUIRE(a->committed.has_value());
  CHECK(a->committed->rev == 1);
  CHECK(a->committed->segs == 3);
  auto gone = store->Stat("gone", false);
  REQUIRE(gone.ok());
  REQUIRE(gone->committed.has_value());
  CHECK(gone->committed->tomb);
  const auto info = store->Info();
  CHECK(info.objects == info_before.objects);
  CHECK(info.slices == info_before.slices);
  CHECK(info.bytes_used == info_before.bytes_used);
  size_t read_back = 0;
  for (const auto& s : kept) {
    if (s.h.name == "a/b/c" && s.h.rev == 1) continue;
    CheckGet(*store, s);
    ++read_back;
  }
  CHECK(read_back == 27);
}

TEST_CASE("a half-written or flipped slice is corruption, moved aside and never served again",
          "[store]") {
  TempDir tmp;
  const std::string dir = tmp.path() + "/unit";
  std::mt19937_64 rng(8);
  std::vector<TestSlice> slices;
  {
    auto store = OpenStore(dir);
    for (uint32_t seg = 0; seg < 4; ++seg) {
      slices.push_back(RandomSlice(rng, "obj", 1, seg, 4));
      Put(*store, slices.back());
    }
    REQUIRE(PublishNow(*store, "obj", MakeManifest(1, 4)).ok());
  }
  // seg 0: cut short (as a crash without atomic rename would leave it); seg 1: one payload
  // byte flipped; seg 2: one header byte flipped (the segment length); seg 3 untouched.
  const std::string p0 = SlicePath(dir, "obj", 1, 0), p1 = SlicePath(dir, "obj", 1, 1),
                    p2 = SlicePath(dir, "obj", 1, 2);
  fs::resize_file(p0, fs::file_size(p0) - 17);
  auto b1 = ReadAll(p1);
  b1[b1.size() - 100] ^= 0x10;
  WriteAll(p1, b1);
  auto b2 = ReadAll(p2);
  const std::string prefix = dstk::store::EncodeSliceFilePrefix(slices[2].h);
  const auto at = prefix.find("seglen");
  REQUIRE(at != std::string::npos);
  // The value follows the key; for 4096 it is a uint16 (0xcd 0x10 0x00). Make it 4095: the
  // header stays self-consistent (same payload length for k=2), so only the CRC can tell.
  REQUIRE(b2[at + 6] == 0xcd);
  REQUIRE(b2[at + 7] == 0x10);
  b2[at + 7] = 0x0f;
  b2[at + 8] = 0xff;
  WriteAll(p2, b2);

  auto store = OpenStore(dir);  // start-up does not read slices; they are all indexed
  CHECK(HeldOf(*store, "obj") == Held{{1, {4, 0}}});

  SECTION("GetSlice reports each as corruption once, then not found") {
    for (uint32_t seg = 0; seg < 3; ++seg) {
      INFO("seg " << seg);
      CHECK(GetCode(*store, "obj", 1, seg) == Code::kCorruption);
      CHECK(GetCode(*store, "obj", 1, seg) == Code::kNotFound);
      CHECK_FALSE(fs::exists(SlicePath(dir, "obj", 1, seg)));
      CHECK(fs::exists(SlicePath(dir, "obj", 1, seg) + ".corrupt"));
    }
    CheckGet(*store, slices[3]);
    CHECK(HeldOf(*store, "obj") == Held{{1, {1, 0}}});
  }
  SECTION("Stat with verify counts them bad and moves them aside") {
    CHECK(HeldOf(*store, "obj", true) == Held{{1, {1, 3}}});
    CHECK(HeldOf(*store, "obj", false) == Held{{1, {1, 0}}});
    CHECK(HeldOf(*store, "obj", true) == Held{{1, {1, 0}}});
    CHECK(FilesWhere(dir, [](const std::string& f) { return EndsWith(f, ".corrupt"); }).size() ==
          3);
  }
  // Either way the bad slices stay out of service after a restart, and the object stays listed.
  store.reset();
  store = OpenStore(dir);
  CHECK(HeldOf(*store, "obj") == Held{{1, {1, 0}}});
  for (uint32_t seg = 0; seg < 3; ++seg) CHECK(GetCode(*store, "obj", 1, seg) == Code::kNotFound);
  CheckGet(*store, slices[3]);
  CHECK(Names(store->List("", "", 10, size_t{1} << 20)) == std::vector<std::string>{"obj"});
  // A good copy can be written again in place of a bad one.
  Put(*store, slices[1]);
  CheckGet(*store, slices[1]);
}

TEST_CASE("a slice file holding a different slice than its name says is not served", "[store]") {
  TempDir tmp;
  const std::string dir = tmp.path() + "/unit";
  std::mt19937_64 rng(9);
  const TestSlice s0 = RandomSlice(rng, "obj", 1, 0, 2), s1 = RandomSlice(rng, "obj", 1, 1, 2);
  {
    auto store = OpenStore(dir);
    Put(*store, s0);
    Put(*store, s1);
  }
  // A valid slice file (seg 1) copied over seg 0's name.
  fs::copy_file(SlicePath(dir, "obj", 1, 1), SlicePath(dir, "obj", 1, 0),
                fs::copy_options::overwrite_existing);
  auto store = OpenStore(dir);
  CHECK(GetCode(*store, "obj", 1, 0) == Code::kCorruption);
  CheckGet(*store, s1);
}

TEST_CASE("names are validated before anything touches the disk", "[store]") {
  TempDir tmp;
  const std::string dir = tmp.path() + "/unit";
  auto store = OpenStore(dir);
  std::mt19937_64 rng(10);
  for (const std::string name :
       {"../x", "../../x", "a/../../x", "/abs", "a//b", "..", ".", "a/./b", ""}) {
    INFO("name '" << name << "'");
    const TestSlice s = RandomSlice(rng, name, 1, 0, 1);  // a valid CRC over the bad name
    CHECK(PutSliceNow(*store, s.h, s.payload).code() == Code::kInvalidArgument);
    CHECK(PublishNow(*store, name, MakeManifest(1, 1)).code() == Code::kInvalidArgument);
  }
  // Nothing was created next to the store or inside it.
  std::vector<std::string> top;
  for (const auto& e : fs::directory_iterator(tmp.path()))
    top.push_back(e.path().filename().string());
  CHECK(top == std::vector<std::string>{"unit"});
  std::set<std::string> inside;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    inside.insert(fs::relative(e.path(), dir).string());
  }
  CHECK(inside ==
        std::set<std::string>{"LOCK", "objects", "packs", "unit.id"});  // no pack file yet
  CHECK(store->List("", "", 10, size_t{1} << 20).entries.empty());
  CHECK(store->Info().slices == 0);
}

TEST_CASE("kill -9 during writes leaves only whole, valid slices", "[store][crash]") {
  TempDir tmp;
  const std::string dir = tmp.path() + "/unit";
  const std::vector<std::string> names = {"o0", "o1", "dir/o2", "dir/o3", "dir/sub/o4"};
  std::mt19937_64 rng(11);
  constexpr int kRounds = 20;
  size_t max_slices = 0, corrupt_total = 0, rounds_with_temps = 0;

  for (int round = 0; round < kRounds; ++round) {
    const uint64_t seed = rng();
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      // The child: write slices and publish revisions as fast as it can until killed. No
      // Catch2 here; any failure is an exit code the parent never sees (it kills us anyway).
      std::mt19937_64 crng(seed);
      auto opened = SliceStore::Open(dir);
      if (!opened.ok()) ::_exit(3);
      auto& store = *opened.value();
      for (uint64_t i = 0;; ++i) {
        const std::string& name = names[i % names.size()];
        const uint64_t rev = uint64_t(round + 1) * 1000000 + i;
        const uint32_t segs = 1 + static_cast<uint32_t>(crng() % 4);
        for (uint32_t seg = 0; seg < segs; ++seg) {
          const size_t len = 1 + crng() % (64u << 10);
          std::vector<uint8_t> segment(len);
          for (auto& b : segment) b = static_cast<uint8_t>(crng());
          TestSlice s =
              MakeSlice(name, rev, seg, segs, static_cast<uint32_t>(crng() % kN), segment);
          s.h.segsize = 64u << 10;
          s.h.crc = dstk::codec::ComputeSliceCrc(s.h, s.payload);
          if (!PutSliceNow(store, s.h, s.payload).ok()) ::_exit(4);
        }
        // Most revisions are published once all their slices are in; some stay pending.
        if (crng() % 4 != 0) {
          Manifest m = MakeManifest(rev, segs, crng() % 8 == 0);
          if (!PublishNow(store, name, m).ok()) ::_exit(5);
        }
      }
    }
    std::uniform_int_distribution<int> delay_us(0, 20000);
    ::usleep(static_cast<useconds_t>(delay_us(rng)));
    REQUIRE(::kill(pid, SIGKILL) == 0);
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    INFO("round " << round);
    // Killed, not exited on its own: an exit would mean a put or publish failed.
    REQUIRE(WIFSIGNALED(status));
    CHECK(WTERMSIG(status) == SIGKILL);
    if (!fs::exists(dir + "/objects")) continue;  // killed before it created the store

    const auto is_temp = [](const std::string& f) { return StartsWith(f, ".tmp."); };
    if (!FilesWhere(dir, is_temp).empty()) ++rounds_with_temps;  // killed inside a write
    auto store = OpenStore(dir);
    CHECK(FilesWhere(dir, is_temp).empty());
    // Every slice file on disk is indexed and reads back whole with a valid CRC.
    const auto files =
        FilesWhere(dir + "/objects", [](const std::string& f) { return EndsWith(f, ".slice"); });
    std::map<std::string, std::map<uint64_t, uint32_t>> per_rev;  // name -> rev -> slices
    for (const auto& rel : files) {
      const fs::path p(rel);
      const std::string name = p.parent_path().string();
      const std::string file = p.filename().string();
      const uint64_t rev = std::stoull(file.substr(0, 16), nullptr, 16);
      const auto seg = static_cast<uint32_t>(std::stoul(file.substr(17, 8), nullptr, 16));
      SliceHeader h;
      std::vector<uint8_t> bytes;
      std::span<const uint8_t> payload;
      const auto st = store->GetSlice(name, rev, seg, h, bytes, payload);
      if (!st.ok()) {
        ++corrupt_total;
        FAIL_CHECK(rel << ": " << st.message());
        continue;
      }
      CHECK(dstk::codec::VerifySlice(h, payload).ok());
      CHECK(h.name == name);
      ++per_rev[name][rev];
    }
    size_t slices = 0;
    for (const auto& name : names) {
      auto stat = store->Stat(name, false);
      if (!stat.ok()) {
        CHECK(stat.status().code() == Code::kNotFound);
        CHECK(per_rev[name].empty());
        continue;
      }
      std::map<uint64_t, uint32_t> indexed;
      for (const auto& h : stat->held) indexed[h.rev] = h.slices;
      CHECK(indexed == per_rev[name]);
      for (const auto& [rev, n] : indexed) slices += n;
      // A revision is published only after all its slices were written, so the committed
      // revision (unless a tombstone) is whole here.
      if (stat->committed && !stat->committed->tomb) {
        CHECK(indexed[stat->committed->rev] == stat->committed->segs);
      }
    }
    CHECK(store->Info().slices == files.size());
    max_slices = std::max(max_slices, slices);
  }
  INFO(rounds_with_temps << " of " << kRounds << " kills left a temp file behind");
  CHECK(corrupt_total == 0);
  // The children did get work done before being killed (otherwise this test tests nothing).
  CHECK(max_slices > 0);
}

// An object's files (<rev>.<seg>.slice, <rev>.manifest) share a directory with its children's
// directories, so names whose components look like those files are refused before they touch
// the disk, and the parent's files stay usable.
TEST_CASE("object names that look like store file names are refused", "[store]") {
  TempDir tmp;
  auto store = OpenStore(tmp.path() + "/unit");
  std::mt19937_64 rng(12);
  Put(*store, RandomSlice(rng, "a", 1, 0, 1));
  REQUIRE(PublishNow(*store, "a", MakeManifest(1, 1)).ok());
  for (const std::string& child :
       {dstk::store::ManifestFileName(2), dstk::store::SliceFileName(2, 0),
        std::string("x.corrupt"), std::string(".tmp.x")}) {
    const TestSlice s = RandomSlice(rng, "a/" + child, 1, 0, 1);
    const auto st = PutSliceNow(*store, s.h, s.payload);
    INFO(child << ": " << st.message());
    CHECK(st.code() == Code::kInvalidArgument);
    CHECK(PublishNow(*store, "a/" + child, MakeManifest(1, 1)).code() == Code::kInvalidArgument);
    CHECK_FALSE(fs::exists(tmp.path() + "/unit/objects/a/" + child));
  }
  Put(*store, RandomSlice(rng, "a", 2, 0, 1));
  CHECK(PublishNow(*store, "a", MakeManifest(2, 1)).ok());
}

// A reply to `list` with no limit must fit the header-frame limit whatever the names' length:
// the unit caps a page by bytes as well as by count.
TEST_CASE("a full list page fits in one reply header frame", "[store]") {
  TempDir tmp;
  auto store = OpenStore(tmp.path() + "/unit");
  dstk::node::Service service(
      *store, [](dstk::node::LogLevel, const std::string&) {}, "test");
  for (size_t name_len : {size_t{8}, dstk::wire::kMaxNameLength}) {
    const std::string prefix = std::string("p").append(std::to_string(name_len)).append("/");
    for (size_t i = 0; i < dstk::wire::kMaxListPage + 10; ++i) {
      std::string name = prefix + std::to_string(i);
      name += std::string(name_len - std::min(name_len, name.size()), 'n');
      REQUIRE(PublishNow(*store, name.substr(0, dstk::wire::kMaxNameLength), MakeManifest(1 + i, 1))
                  .ok());
    }
    dstk::wire::Request req;
    req.op = dstk::wire::Op::kList;
    req.id = 7;
    req.prefix = prefix;
    size_t seen = 0;
    for (bool more = true; more;) {
      const std::string bytes = dstk::wire::EncodeRequest(req);
      auto out =
          service.Handle({reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()}, {}, false);
      INFO("reply of " << out.header.size() << " bytes for " << name_len << "-byte names");
      // Within the 64 KiB frame of clients of earlier versions, digests or not.
      CHECK(out.header.size() <= dstk::wire::kListReplyBudget + 1024);
      auto reply = dstk::wire::DecodeReply(
          {reinterpret_cast<const uint8_t*>(out.header.data()), out.header.size()});
      REQUIRE(reply.ok());
      REQUIRE_FALSE(reply->entries.empty());
      seen += reply->entries.size();
      req.after = reply->entries.back().name;
      more = reply->more;
    }
    CHECK(seen == dstk::wire::kMaxListPage + 10);
  }
}

// A crash between writing a new manifest and removing the previous one leaves two manifests:
// Open keeps the newer and removes the older.
TEST_CASE("a stale manifest left by a crash is dropped by the next publish", "[store]") {
  TempDir tmp;
  const std::string dir = tmp.path() + "/unit", other = tmp.path() + "/other";
  std::mt19937_64 rng(13);
  {
    auto store = OpenStore(dir);
    Put(*store, RandomSlice(rng, "obj", 1, 0, 1));
    REQUIRE(PublishNow(*store, "obj", MakeManifest(1, 1)).ok());
  }
  {
    // The manifest of revision 2 as Publish writes it, placed next to revision 1's: the state
    // after a crash right after WriteFileAtomic of the new manifest.
    auto o = OpenStore(other);
    REQUIRE(PublishNow(*o, "obj", MakeManifest(2, 1)).ok());
  }
  fs::copy_file(ManifestPath(other, "obj", 2), ManifestPath(dir, "obj", 2));
  auto store = OpenStore(dir);
  auto st = store->Stat("obj", false);
  REQUIRE(st.ok());
  REQUIRE(st->committed.has_value());
  CHECK(st->committed->rev == 2);
  REQUIRE(PublishNow(*store, "obj", MakeManifest(3, 1)).ok());
  CHECK(FilesWhere(dir + "/objects/obj", [](const std::string& f) {
          return EndsWith(f, ".manifest");
        }) == std::vector<std::string>{dstk::store::ManifestFileName(3)});
}

TEST_CASE("a consumed function's slice that a crash brought back is dropped at open", "[store]") {
  // SyncClaims unlinks a consumed function's slices without syncing the directory: the durable
  // claim state says consumed, so a slice a crash brings back must be dropped when the unit
  // opens, never served as pending.
  TempDir tmp;
  const std::string dir = tmp.path() + "/unit";
  std::mt19937_64 rng(11);
  const TestSlice s = RandomSlice(rng, "q/0001", 5, 0, 1);
  const std::string slice_path =
      dir + "/objects/q/0001/" + dstk::store::SliceFileName(s.h.rev, s.h.seg);
  {
    auto store = OpenStore(dir);
    Put(*store, s);
    REQUIRE(PublishNow(*store, "q/0001", MakeManifest(5, 1)).ok());
    fs::copy_file(slice_path, tmp.path() + "/saved");
    dstk::store::ClaimState c;
    c.promised = c.accepted = {1, 9};
    c.has_accepted = true;
    c.owner = 9;
    c.epoch = 1;
    c.phase = dstk::store::ClaimState::Phase::kConsumed;
    for (int save = 0; save < 3; ++save) REQUIRE(store->SaveClaim("q/0001", c, true).ok());
    // Not before the state is durable: a crash now must find the function pending, slice and all.
    CHECK(fs::exists(slice_path));
    REQUIRE(store->SyncClaims().ok());
    CHECK(store->HasConsumedSlices());
    REQUIRE(store->DropConsumedSlices(100).ok());
    CHECK_FALSE(store->HasConsumedSlices());
    CHECK(HeldOf(*store, "q/0001").empty());
    CHECK_FALSE(fs::exists(slice_path));
  }
  fs::copy_file(tmp.path() + "/saved", slice_path);  // the unlink, undone by a crash
  auto store = OpenStore(dir);
  CHECK(HeldOf(*store, "q/0001").empty());
  CHECK_FALSE(fs::exists(slice_path));
  REQUIRE(store->Claim("q/0001") != nullptr);
  CHECK(store->Claim("q/0001")->phase == dstk::store::ClaimState::Phase::kConsumed);
}

TEST_CASE("claim states are durable after SyncClaims, and replace those of earlier versions",
          "[store]") {
  TempDir tmp;
  const std::string dir = tmp.path() + "/unit";
  dstk::store::ClaimState c;
  c.promised = {4, 9};
  c.lock_until_ms = 12345;
  {
    auto store = OpenStore(dir);
    REQUIRE(PublishNow(*store, "q/0001", MakeManifest(5, 1)).ok());
    REQUIRE(PublishNow(*store, "q/0002", MakeManifest(5, 1)).ok());
    REQUIRE(store->SaveClaim("q/0001", c, false).ok());
    CHECK(store->Claim("q/0001")->promised == c.promised);  // in memory at once
  }                                                         // a crash before the flush
  {
    auto store = OpenStore(dir);
    CHECK(store->Claim("q/0001") == nullptr);
    REQUIRE(store->SaveClaim("q/0001", c, false).ok());
    REQUIRE(store->SyncClaims().ok());
  }
  {
    auto store = OpenStore(dir);
    REQUIRE(store->Claim("q/0001") != nullptr);
    CHECK(store->Claim("q/0001")->promised == c.promised);
    CHECK(store->Claim("q/0001")->lock_until_ms == 12345);
    CHECK(store->Claim("q/0002") == nullptr);
  }
  // A unit of an earlier version left per-function files: seq 7 for q/0001 (newer than the
  // journal's seq 1, so it wins) and seq 1 for q/0002; then the journal saves q/0002 again.
  dstk::store::ClaimState old = c;
  old.promised = {70, 1};
  REQUIRE(dstk::store::WriteClaimFile(dir + "/objects/q/0001/lease.claim", old, 1).ok());
  REQUIRE(dstk::store::WriteClaimFile(dir + "/objects/q/0001/lease.claim", old, 7).ok());
  REQUIRE(dstk::store::WriteClaimFile(dir + "/objects/q/0002/lease.claim", old, 1).ok());
  {
    auto store = OpenStore(dir);
    CHECK(store->Claim("q/0001")->promised == old.promised);
    CHECK(store->Claim("q/0002")->promised == old.promised);
    dstk::store::ClaimState next = old;
    next.promised = {71, 2};
    REQUIRE(store->SaveClaim("q/0002", next, false).ok());  // seq 2, after the file's 1
    REQUIRE(store->SyncClaims().ok());
  }
  auto store = OpenStore(dir);
  CHECK(store->Claim("q/0002")->promised == dstk::wire::Ballot{71, 2});
}

TEST_CASE("the claim journal is rewritten once it is mostly old states", "[store]") {
  TempDir tmp;
  const std::string dir = tmp.path() + "/unit";
  const std::string journal = dir + "/" + dstk::store::kClaimJournalName;
  dstk::store::ClaimState c;
  {
    auto store = OpenStore(dir);
    for (int f = 0; f < 10; ++f)
      REQUIRE(PublishNow(*store, "q/" + std::to_string(f), MakeManifest(1, 1)).ok());
    // About 14 MiB of records for 10 functions, in one flush: past the rewrite threshold.
    for (uint64_t save = 1; save <= 400000; ++save) {
      c.promised = {save, 3};
      REQUIRE(store->SaveClaim("q/" + std::to_string(save % 10), c, false).ok());
    }
    REQUIRE(store->SyncClaims().ok());
    CHECK(fs::file_size(journal) <= (2u << 20));  // 10 records and the zeroed room
  }
  auto store = OpenStore(dir);
  for (int f = 0; f < 10; ++f) {
    REQUIRE(store->Claim("q/" + std::to_string(f)) != nullptr);
    CHECK(store->Claim("q/" + std::to_string(f))->promised.n ==
          uint64_t{399990} + static_cast<uint64_t>(f == 0 ? 10 : f));
  }
}

namespace {

dstk::wire::Reply Call(dstk::node::Service& service, const dstk::wire::Request& req,
                       dstk::node::Outgoing& out) {
  const std::string bytes = dstk::wire::EncodeRequest(req);
  out = service.Handle({reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()}, {}, false);
  auto reply = dstk::wire::DecodeReply(
      {reinterpret_cast<const uint8_t*>(out.header.data()), out.header.size()});
  REQUIRE(reply.ok());
  return *reply;
}

}  // namespace

TEST_CASE("a batched claim applies the op to each key and sends their slices back to back",
          "[store]") {
  TempDir tmp;
  auto store = OpenStore(tmp.path() + "/unit");
  dstk::node::Service service(
      *store, [](dstk::node::LogLevel, const std::string&) {}, "test");
  std::mt19937_64 rng(5);
  // 64 functions with names of the longest kind (queue keys: QUEUE/<16 hex>-<8 hex>, on a queue
  // as long as a name allows): a full batch must fit one reply header frame.
  const std::string queue(dstk::wire::kMaxNameLength - 26, 'q');
  auto key = [&queue](int i) {
    char leaf[32];
    std::snprintf(leaf, sizeof leaf, "/%016x-%08x", static_cast<unsigned>(i), 7u);
    return queue + leaf;
  };
  std::vector<std::string> names;
  for (int i = 0; i < 64; ++i) {
    const std::string name = key(100 + i);
    REQUIRE(name.size() == dstk::wire::kMaxNameLength);
    Put(*store, RandomSlice(rng, name, 5, 0, 1));
    REQUIRE(PublishNow(*store, name, MakeManifest(5, 1)).ok());
    names.push_back(name);
  }
  dstk::wire::Request lrd;
  lrd.op = dstk::wire::Op::kLockReadDelete;
  lrd.id = 1;
  lrd.ballot = {1, 7};
  lrd.lease_ms = 30000;
  for (const auto& name : names) lrd.keys.push_back({name, 2});
  lrd.keys[10] = {key(99), 1};        // a queue key that holds no function
  lrd.keys[11] = {"q/not-a-key", 1};  // no queue key: refused, never looked up
  dstk::node::Outgoing out;
  auto reply = Call(service, lrd, out);
  CHECK(out.after_sync);  // promises: not to be sent before the journal's flush
  CHECK(out.header.size() <= dstk::wire::kMaxHeaderFrame);
  REQUIRE(reply.results.size() == 64);
  size_t at = 0;
  for (size_t i = 0; i < 64; ++i) {
    INFO("key " << i);
    const auto& r = reply.results[i];
    if (i == 10) {
      CHECK(r.status == dstk::wire::ReplyStatus::kNotFound);
      continue;
    }
    if (i == 11) {
      CHECK(r.status == dstk::wire::ReplyStatus::kBadRequest);
      continue;
    }
    REQUIRE(r.ok());
    REQUIRE(r.slice.has_value());
    CHECK(r.slice->name == names[i]);
    CHECK(r.claim->promised == dstk::wire::Ballot{2, 7});
    const size_t len = r.slice->PayloadLength();
    REQUIRE(at + len <= out.payload.size());
    CHECK(dstk::codec::VerifySlice(*r.slice, out.payload.subspan(at, len)).ok());
    at += len;
  }
  CHECK(at == out.payload.size());
  REQUIRE(service.Sync().ok());

  // Another claimer is refused on every key while the locks live; ours commit consumes them.
  lrd.ballot = {1, 8};
  for (auto& k : lrd.keys) k.n = 3;
  reply = Call(service, lrd, out);
  CHECK(reply.results[0].status == dstk::wire::ReplyStatus::kLocked);
  CHECK(reply.results[63].status == dstk::wire::ReplyStatus::kLocked);
  CHECK(out.payload.empty());
  dstk::wire::Request commit;
  commit.op = dstk::wire::Op::kCommit;
  commit.id = 2;
  commit.ballot = {1, 7};
  commit.owner = 7;
  commit.keys = {{names[0], 2}, {names[1], 2}};
  reply = Call(service, commit, out);
  REQUIRE(reply.results.size() == 2);
  CHECK(reply.results[0].ok());
  CHECK(reply.results[1].ok());
  CHECK(HeldOf(*store, names[0]).size() == 1);  // dropped only once the state is durable
  REQUIRE(service.Sync().ok());
  CHECK(HeldOf(*store, names[0]).size() == 1);  // and then when the unit is idle
  CHECK_FALSE(service.Idle().has_value());      // both dropped: nothing left
  CHECK(HeldOf(*store, names[0]).empty());
  CHECK(HeldOf(*store, names[1]).empty());
  CHECK(HeldOf(*store, names[2]).size() == 1);
  CHECK(store->Claim(names[0])->phase == dstk::store::ClaimState::Phase::kConsumed);

  // A list marks the keys a live lock holds (walkers try them last); consumed ones are gone.
  dstk::wire::Request list;
  list.op = dstk::wire::Op::kList;
  list.id = 3;
  list.prefix = queue + "/";
  list.limit = 1000;
  reply = Call(service, list, out);
  CHECK_FALSE(out.after_sync);  // a hint, not a promise: sent at once
  REQUIRE(reply.entries.size() == 62);
  CHECK(reply.entries[0].name == names[2]);
  for (const auto& e : reply.entries) {
    INFO(e.name);
    // keys 10 and 11 were never asked for
    CHECK(e.locked == (e.name == names[10] || e.name == names[11] ? 0u : 1u));
  }
  dstk::wire::Request release;
  release.op = dstk::wire::Op::kRelease;
  release.id = 4;
  release.ballot = {2, 7};
  release.name = names[2];
  CHECK(Call(service, release, out).ok());
  reply = Call(service, list, out);
  REQUIRE(reply.entries.size() == 62);
  CHECK(reply.entries[0].locked == 0);  // released: free again
  CHECK(reply.entries[1].locked == 1);
}

// Packed slices (functions): put with `pack`, kept in DIR/packs, no files of their own.

namespace {

Status PutPacked(SliceStore& store, const TestSlice& s) {
  return store.PutSlice(s.h, s.payload, 0, /*pack=*/true);
}

std::vector<std::string> PackFiles(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir + "/packs")) {
    out.push_back(e.path().filename().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

TEST_CASE("packed functions: no files of their own, served, published, dropped, reopened",
          "[store][pack]") {
  TempDir tmp;
  const std::string unit = tmp.path() + "/unit";
  std::mt19937_64 rng(51);
  const TestSlice f1 = RandomSlice(rng, "q/0001", 5, 0, 1);
  const TestSlice f2 = RandomSlice(rng, "q/0002", 5, 0, 1);
  const TestSlice f2new = RandomSlice(rng, "q/0002", 6, 0, 1);
  const TestSlice multi = RandomSlice(rng, "big", 1, 0, 2);  // two segments: never packed
  {
    auto store = OpenStore(unit);
    REQUIRE(PutPacked(*store, f1).ok());
    REQUIRE(PutPacked(*store, f2).ok());
    REQUIRE(PutPacked(*store, multi).ok());
    REQUIRE(store->Publish("q/0001", MakeManifest(5, 1)).ok());
    REQUIRE(store->Publish("q/0002", MakeManifest(5, 1)).ok());
    CHECK(store->HasUnsyncedFiles());
    REQUIRE(store->SyncFiles().ok());
    CHECK_FALSE(store->HasUnsyncedFiles());
    CHECK_FALSE(fs::exists(unit + "/objects/q"));  // no directory, slice or manifest file
    CHECK(fs::exists(SlicePath(unit, "big", 1, 0)));
    CHECK(PackFiles(unit) == std::vector<std::string>{"00000001.pack"});
    CheckGet(*store, f1);
    CheckGet(*store, f2);
    CHECK(Names(store->List("q/", "", 100, size_t{1} << 20)) ==
          std::vector<std::string>{"q/0001", "q/0002"});
    // A newer revision of q/0002 drops revision 5's slice; its manifest is superseded.
    REQUIRE(PutPacked(*store, f2new).ok());
    REQUIRE(store->Publish("q/0002", MakeManifest(6, 1)).ok());
    CHECK(GetCode(*store, "q/0002", 5, 0) == Code::kNotFound);
    // q/0001 consumed: its slice goes once the state is durable; its manifest stays.
    dstk::store::ClaimState c;
    c.phase = dstk::store::ClaimState::Phase::kConsumed;
    REQUIRE(store->SaveClaim("q/0001", c, true).ok());
    REQUIRE(store->SyncClaims().ok());
    REQUIRE(store->DropConsumedSlices(100).ok());
    CHECK(HeldOf(*store, "q/0001").empty());
    REQUIRE(store->SyncFiles().ok());
  }
  auto store = OpenStore(unit);
  CHECK(HeldOf(*store, "q/0001").empty());
  auto st1 = store->Stat("q/0001", false);
  REQUIRE(st1.ok());
  REQUIRE(st1->committed.has_value());
  CHECK(st1->committed->rev == 5);
  auto st2 = store->Stat("q/0002", false);
  REQUIRE(st2.ok());
  REQUIRE(st2->committed.has_value());
  CHECK(st2->committed->rev == 6);
  CHECK(HeldOf(*store, "q/0002") == Held{{6, {1, 0}}});
  CheckGet(*store, f2new);
  CHECK(GetCode(*store, "q/0002", 5, 0) == Code::kNotFound);
  // A tombstone of a packed function goes to the pack too, and survives a reopen.
  REQUIRE(PublishNow(*store, "q/0002", MakeManifest(7, 0, true)).ok());
  CHECK_FALSE(fs::exists(unit + "/objects/q"));
  store.reset();
  store = OpenStore(unit);
  auto st3 = store->Stat("q/0002", false);
  REQUIRE(st3.ok());
  CHECK(st3->committed->tomb);
  CHECK(HeldOf(*store, "q/0002").empty());
}

TEST_CASE("a packed slice that rots is reported corrupt once and never served again",
          "[store][pack]") {
  TempDir tmp;
  const std::string unit = tmp.path() + "/unit";
  std::mt19937_64 rng(52);
  const TestSlice f = RandomSlice(rng, "q/0001", 5, 0, 1);
  auto store = OpenStore(unit);
  REQUIRE(PutPacked(*store, f).ok());
  REQUIRE(PublishNow(*store, "q/0001", MakeManifest(5, 1)).ok());
  {
    // Flip the last payload byte of the slice (the first record of the pack).
    const std::string pack = unit + "/packs/00000001.pack";
    std::fstream io(pack, std::ios::binary | std::ios::in | std::ios::out);
    // The slice file bytes start after the frame (8), fixed fields (19) and the name; its last
    // byte is the payload's last.
    const std::streamoff last =
        8 + 19 + static_cast<std::streamoff>(f.h.name.size()) +
        static_cast<std::streamoff>(dstk::store::EncodeSliceFilePrefix(f.h).size() +
                                    f.payload.size()) -
        1;
    io.seekg(last);
    const char old = static_cast<char>(io.get());
    io.seekp(last);
    io.put(static_cast<char>(old ^ 0x40));
  }
  CHECK(GetCode(*store, "q/0001", 5, 0) == Code::kCorruption);
  CHECK(GetCode(*store, "q/0001", 5, 0) == Code::kNotFound);
  REQUIRE(store->SyncFiles().ok());  // the drop record
  store.reset();
  // The rot broke the record's own CRC too: at open the newest pack is cut before it. Either
  // way the slice is not served again.
  store = OpenStore(unit);
  CHECK(GetCode(*store, "q/0001", 5, 0) != Code::kOk);
}

TEST_CASE("compaction moves the oldest pack's live records forward and removes it",
          "[store][pack]") {
  TempDir tmp;
  const std::string unit = tmp.path() + "/unit";
  std::mt19937_64 rng(53);
  // About 3 packs of functions (2 KiB slices: the tests' 4 KiB segment, k=2).
  const int kFunctions = 20000;
  std::vector<TestSlice> fs_;
  auto store = OpenStore(unit);
  for (int i = 0; i < kFunctions; ++i) {
    char name[32];
    std::snprintf(name, sizeof name, "q/%05d", i);
    TestSlice s = MakeSlice(name, 5, 0, 1, 1, RandomBytes(rng, kSegsize));
    REQUIRE(PutPacked(*store, s).ok());
    REQUIRE(store->Publish(name, MakeManifest(5, 1)).ok());
    if (i % 97 == 0) fs_.push_back(std::move(s));  // a sample to read back
  }
  REQUIRE(store->SyncFiles().ok());
  REQUIRE(PackFiles(unit).size() >= 3);
  CHECK_FALSE(store->CompactPacks().value());  // everything is live
  // Consume all but every 97th: their slices go, their manifests stay.
  dstk::store::ClaimState c;
  c.phase = dstk::store::ClaimState::Phase::kConsumed;
  for (int i = 0; i < kFunctions; ++i) {
    if (i % 97 == 0) continue;
    char name[32];
    std::snprintf(name, sizeof name, "q/%05d", i);
    REQUIRE(store->SaveClaim(name, c, true).ok());
  }
  REQUIRE(store->SyncClaims().ok());
  while (store->HasConsumedSlices()) REQUIRE(store->DropConsumedSlices(1000).ok());
  REQUIRE(store->SyncFiles().ok());
  const auto before = PackFiles(unit);
  int rounds = 0;
  for (;;) {
    auto done = store->CompactPacks();
    REQUIRE(done.ok());
    if (!*done) break;
    ++rounds;
  }
  CHECK(rounds >= 1);
  const auto after = PackFiles(unit);
  CHECK(after.front() != before.front());  // the oldest went
  for (const auto& s : fs_) CheckGet(*store, s);
  store.reset();
  store = OpenStore(unit);
  for (const auto& s : fs_) CheckGet(*store, s);
  for (int i : {1, 500, kFunctions - 1}) {
    char name[32];
    std::snprintf(name, sizeof name, "q/%05d", i);
    auto st = store->Stat(name, false);
    REQUIRE(st.ok());
    CHECK(st->committed.has_value());  // the consumed function's name is remembered
    CHECK(store->Claim(name) != nullptr);
  }
}

TEST_CASE("a packed revision replaced by a file revision survives a crash before the flush",
          "[store][pack]") {
  TempDir tmp;
  const std::string unit = tmp.path() + "/unit";
  std::mt19937_64 rng(54);
  const TestSlice packed = RandomSlice(rng, "q/0001", 5, 0, 1);
  const TestSlice as_file = RandomSlice(rng, "q/0001", 6, 0, 1);
  {
    auto store = OpenStore(unit);
    REQUIRE(PutPacked(*store, packed).ok());
    REQUIRE(PublishNow(*store, "q/0001", MakeManifest(5, 1)).ok());
    // Revision 6 as files (a repair or a plain put of that name): its manifest is a staged file,
    // so the drop of revision 5's packed slice must not reach the pack before that file does.
    REQUIRE(store->PutSlice(as_file.h, as_file.payload).ok());
    REQUIRE(store->Publish("q/0001", MakeManifest(6, 1)).ok());
    CheckGet(*store, as_file);
    CHECK(GetCode(*store, "q/0001", 5, 0) == Code::kNotFound);
    // Dropped here without SyncFiles: a crash (the staged temp files go with the store).
  }
  {
    auto store = OpenStore(unit);
    auto st = store->Stat("q/0001", false);
    REQUIRE(st.ok());
    REQUIRE(st->committed.has_value());
    CHECK(st->committed->rev == 5);
    CheckGet(*store, packed);  // the last acknowledged state, whole
    // The same again, flushed this time: revision 6 from files, 5 gone, also after a reopen.
    REQUIRE(store->PutSlice(as_file.h, as_file.payload).ok());
    REQUIRE(store->Publish("q/0001", MakeManifest(6, 1)).ok());
    REQUIRE(store->SyncFiles().ok());
    CHECK_FALSE(store->HasUnsyncedFiles());
  }
  auto store = OpenStore(unit);
  auto st = store->Stat("q/0001", false);
  REQUIRE(st.ok());
  CHECK(st->committed->rev == 6);
  CheckGet(*store, as_file);
  CHECK(GetCode(*store, "q/0001", 5, 0) == Code::kNotFound);
  CHECK(fs::exists(SlicePath(unit, "q/0001", 6, 0)));
}
