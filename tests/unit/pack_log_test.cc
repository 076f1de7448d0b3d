// Unit tests of store/pack_log: append and read, replay order, a torn tail cut off, damage in an
// older pack reported, roll-over and removal of the oldest pack, lazy records waiting for the next
// write, and the read-ahead of records read in order.
#include "store/pack_log.h"

#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "temp_dir.h"

namespace fs = std::filesystem;
using dstk::store::PackKind;
using dstk::store::PackLog;
using dstk::store::PackRecord;
using dstk::store::PackRef;
using dstk::test::TempDir;

namespace {

std::vector<uint8_t> Bytes(const std::string& s) {
  return {s.begin(), s.end()};
}

std::unique_ptr<PackLog> OpenLog(const std::string& dir, std::vector<PackRecord>* seen = nullptr,
                                 std::vector<std::string>* datas = nullptr) {
  auto log = PackLog::Open(dir, [&](const PackRecord& r) {
    if (seen != nullptr) seen->push_back(r);
    if (datas != nullptr) datas->emplace_back(r.bytes.begin(), r.bytes.end());
  });
  INFO(log.status().message());
  REQUIRE(log.ok());
  return std::move(log).value();
}

std::string ReadBack(const PackLog& log, const PackRef& ref) {
  auto data = log.Read(ref);
  REQUIRE(data.ok());
  return {data->begin(), data->end()};
}

std::string PackPath(const std::string& dir, int n) {
  char name[32];
  std::snprintf(name, sizeof name, "%08x.pack", n);
  return dir + "/" + name;
}

}  // namespace

TEST_CASE("pack records append, read back, and replay in order", "[store][pack]") {
  TempDir tmp;
  const std::string dir = tmp.path() + "/packs";
  PackRef a, b;
  {
    auto log = OpenLog(dir);
    CHECK_FALSE(fs::exists(PackPath(dir, 1)));  // nothing appended, nothing created
    const auto one = Bytes("slice one");
    const auto two = Bytes("manifest");
    auto ra = log->Append(PackKind::kSlice, "q/0001", 7, 0, {one});
    auto rb = log->Append(PackKind::kManifest, "q/0001", 7, 0, {two});
    REQUIRE(ra.ok());
    REQUIRE(rb.ok());
    a = *ra;
    b = *rb;
    CHECK(log->HasUnsynced());
    CHECK(ReadBack(*log, a) == "slice one");  // readable before the sync: the unit serves it
    REQUIRE(log->Sync().ok());
    CHECK_FALSE(log->HasUnsynced());
    // A lazy record (the drop of a consumed slice) does not by itself call for a flush.
    REQUIRE(log->Append(PackKind::kDropSlice, "q/0001", 7, 0, {}, /*lazy=*/true).ok());
    CHECK_FALSE(log->HasUnsynced());
    REQUIRE(log->Sync().ok());
  }
  std::vector<PackRecord> seen;
  std::vector<std::string> datas;
  auto log = OpenLog(dir, &seen, &datas);
  REQUIRE(seen.size() == 3);
  CHECK(seen[0].kind == PackKind::kSlice);
  CHECK(seen[0].name == "q/0001");
  CHECK(seen[0].rev == 7);
  CHECK(datas[0] == "slice one");
  CHECK(seen[0].data.offset == a.offset);
  CHECK(seen[1].kind == PackKind::kManifest);
  CHECK(datas[1] == "manifest");
  CHECK(seen[2].kind == PackKind::kDropSlice);
  CHECK(seen[2].data.size == 0);
  CHECK(ReadBack(*log, b) == "manifest");
  CHECK(log->torn_tail_bytes() == 0);
  CHECK(log->damaged().empty());
}

TEST_CASE("a torn tail of the newest pack is cut off; damage in an older one is reported",
          "[store][pack]") {
  TempDir tmp;
  const std::string dir = tmp.path() + "/packs";
  const std::string big(PackLog::kPackBytes / 2 + 1, 'x');
  {
    auto log = OpenLog(dir);
    // Three records of over half a pack: the third starts pack 2.
    for (int i = 0; i < 3; ++i) {
      REQUIRE(log->Append(PackKind::kSlice, "big/" + std::to_string(i), 1, 0, {Bytes(big)}).ok());
    }
    REQUIRE(log->Append(PackKind::kSlice, "small", 1, 0, {Bytes("kept")}).ok());
    REQUIRE(log->Sync().ok());
  }
  REQUIRE(fs::exists(PackPath(dir, 2)));
  const auto size2 = fs::file_size(PackPath(dir, 2));
  {
    // A write cut short: half a record's frame and body at the end of the newest pack.
    std::ofstream out(PackPath(dir, 2), std::ios::binary | std::ios::app);
    const char partial[] = {40, 0, 0, 0, 1, 2, 3, 4, 1, 5};
    out.write(partial, sizeof partial);
  }
  {
    std::vector<PackRecord> seen;
    auto log = OpenLog(dir, &seen);
    CHECK(seen.size() == 4);
    CHECK(log->torn_tail_bytes() == 10);
    CHECK(fs::file_size(PackPath(dir, 2)) == size2);
    // Appends go on from the cut: readable now and after another open.
    auto r = log->Append(PackKind::kSlice, "after", 1, 0, {Bytes("after the cut")});
    REQUIRE(r.ok());
    REQUIRE(log->Sync().ok());
  }
  {
    std::vector<PackRecord> seen;
    auto log = OpenLog(dir, &seen);
    REQUIRE(seen.size() == 5);
    CHECK(seen.back().name == "after");
    CHECK(log->torn_tail_bytes() == 0);
  }
  {
    // Bitrot inside pack 1 (not the newest): reported, and the open goes on.
    std::fstream f(PackPath(dir, 1), std::ios::binary | std::ios::in | std::ios::out);
    f.seekp(100);
    f.put('!');
  }
  std::vector<PackRecord> seen;
  auto log = OpenLog(dir, &seen);
  REQUIRE(log->damaged().size() == 1);
  CHECK(log->damaged()[0].find("00000001.pack") != std::string::npos);
  CHECK(fs::file_size(PackPath(dir, 1)) > 0);  // kept as it is, for the operator
  bool after_seen = false;
  for (const auto& r : seen) after_seen |= r.name == "after";
  CHECK(after_seen);
}

TEST_CASE("the oldest pack is a compaction candidate once under half of it is live",
          "[store][pack]") {
  TempDir tmp;
  const std::string dir = tmp.path() + "/packs";
  const std::string big(PackLog::kPackBytes / 4, 'y');
  auto log = OpenLog(dir);
  std::vector<PackRef> refs;
  for (int i = 0; i < 5; ++i) {
    auto r = log->Append(PackKind::kSlice, "big/" + std::to_string(i), 1, 0, {Bytes(big)});
    REQUIRE(r.ok());
    refs.push_back(*r);
  }
  REQUIRE(refs.front().pack == 1);
  REQUIRE(refs.back().pack == 2);
  CHECK_FALSE(log->CompactionCandidate().has_value());
  log->Dead(refs[0]);
  CHECK_FALSE(log->CompactionCandidate().has_value());  // 3 of 4 live
  log->Dead(refs[1]);
  log->Dead(refs[2]);
  REQUIRE(log->CompactionCandidate() == std::optional<uint32_t>(1));
  CHECK_FALSE(log->RemoveOldest(2).ok());  // not the oldest
  REQUIRE(log->RemoveOldest(1).ok());
  CHECK_FALSE(fs::exists(PackPath(dir, 1)));
  CHECK(ReadBack(*log, refs[4]).size() == big.size());
  CHECK_FALSE(log->CompactionCandidate().has_value());  // only the newest is left
  CHECK_FALSE(log->RemoveOldest(2).ok());               // the one appended to stays
}

TEST_CASE("a roll-over after a lazy tail leaves a flush pending; Sync clears it", "[store][pack]") {
  TempDir tmp;
  const std::string dir = tmp.path() + "/packs";
  // Two records (32 bytes of frame and fields each with these names) that leave pack 1 16 bytes
  // short of full, so that the 32-byte lazy drop below fills it.
  const std::string big(PackLog::kPackBytes / 2 - 32 - 8, 'z');
  auto log = OpenLog(dir);
  for (int i = 0; i < 2; ++i) {
    REQUIRE(log->Append(PackKind::kSlice, "big/" + std::to_string(i), 1, 0, {Bytes(big)}).ok());
  }
  REQUIRE(log->Sync().ok());
  // A lazy drop fills pack 1 and asks for no flush by itself...
  REQUIRE(log->Append(PackKind::kDropSlice, "big/0", 1, 0, {}, /*lazy=*/true).ok());
  CHECK_FALSE(log->HasUnsynced());
  // ...but once pack 2 starts, pack 1 is never appended to again: the next Sync flushes its
  // tail, or a crash could leave a torn record in a pack that is no longer the newest. (Which
  // packs a Sync flushes is not visible from here; this checks that one is pending.)
  REQUIRE(log->Append(PackKind::kDropSlice, "big/1", 1, 0, {}, /*lazy=*/true).ok());
  CHECK(fs::exists(PackPath(dir, 2)));
  CHECK(log->HasUnsynced());
  REQUIRE(log->Sync().ok());
  CHECK_FALSE(log->HasUnsynced());
}

TEST_CASE("lazy records wait in memory and leave with the next write, a Sync or the close",
          "[store][pack]") {
  TempDir tmp;
  const std::string dir = tmp.path() + "/packs";
  std::string b_data;
  PackRef b;
  {
    auto log = OpenLog(dir);
    REQUIRE(log->Append(PackKind::kSlice, "q/a", 1, 0, {Bytes("slice a")}).ok());
    REQUIRE(log->Sync().ok());
    const auto synced = fs::file_size(PackPath(dir, 1));
    for (int i = 0; i < 3; ++i) {
      REQUIRE(log->Append(PackKind::kDropSlice, "q/a", 1, 0, {}, /*lazy=*/true).ok());
    }
    CHECK(fs::file_size(PackPath(dir, 1)) == synced);  // waiting, not written
    CHECK(log->bytes() > synced);                      // but counted
    // A record written takes the waiting ones with it, ahead of itself.
    auto ref = log->Append(PackKind::kSlice, "q/b", 1, 0, {Bytes("slice b")});
    REQUIRE(ref.ok());
    b = *ref;
    CHECK(fs::file_size(PackPath(dir, 1)) == log->bytes());
    CHECK(ReadBack(*log, b) == "slice b");
    REQUIRE(log->Sync().ok());
    for (int i = 0; i < 2; ++i) {
      REQUIRE(log->Append(PackKind::kDropSlice, "q/b", 1, 0, {}, /*lazy=*/true).ok());
    }
    const auto before_sync = fs::file_size(PackPath(dir, 1));
    REQUIRE(log->Sync().ok());  // writes them (without a flush of their own)
    CHECK(fs::file_size(PackPath(dir, 1)) > before_sync);
    CHECK(fs::file_size(PackPath(dir, 1)) == log->bytes());
    REQUIRE(log->Append(PackKind::kDropSlice, "q/b", 1, 0, {}, /*lazy=*/true).ok());
  }  // the close writes the last one
  std::vector<PackRecord> seen;
  std::vector<std::string> datas;
  auto log = OpenLog(dir, &seen, &datas);
  std::vector<PackKind> kinds;
  for (const auto& r : seen) kinds.push_back(r.kind);
  using K = PackKind;
  CHECK(kinds == std::vector<K>{K::kSlice, K::kDropSlice, K::kDropSlice, K::kDropSlice, K::kSlice,
                                K::kDropSlice, K::kDropSlice, K::kDropSlice});
  REQUIRE(seen.size() == 8);
  CHECK(datas[4] == "slice b");
  CHECK(seen[4].data.offset == b.offset);  // the ref handed out when it waited behind drops
  CHECK(log->torn_tail_bytes() == 0);
}

TEST_CASE("records read in order are read ahead; the window never hides a later append",
          "[store][pack]") {
  TempDir tmp;
  const std::string dir = tmp.path() + "/packs";
  auto log = OpenLog(dir);
  std::vector<PackRef> refs;
  std::vector<std::string> want;
  auto append = [&](int i) {
    // Distinct contents of varying length, about 200 bytes: 700 of them span several windows.
    std::string data =
        "record " + std::to_string(i) + " " +
        std::string(static_cast<size_t>(150 + i % 97), static_cast<char>('a' + i % 26));
    auto ref = log->Append(PackKind::kSlice, "q/" + std::to_string(i), 1, 0, {Bytes(data)});
    REQUIRE(ref.ok());
    refs.push_back(*ref);
    want.push_back(data);
    // Manifests between the slices, as a pushed queue has them: still a sequential walk.
    REQUIRE(log->Append(PackKind::kManifest, "q/" + std::to_string(i), 1, 0, {Bytes("m")}).ok());
  };
  for (int i = 0; i < 700; ++i) append(i);
  REQUIRE(log->Sync().ok());
  for (size_t i = 0; i < refs.size(); ++i) {
    INFO("record " << i);
    REQUIRE(ReadBack(*log, refs[i]) == want[i]);
  }
  // The last window ended at the pack's end as it was then; records appended since are past it.
  for (int i = 700; i < 705; ++i) append(i);
  for (size_t i = 695; i < refs.size(); ++i) {
    INFO("record " << i);
    CHECK(ReadBack(*log, refs[i]) == want[i]);
  }
  for (size_t i = refs.size(); i-- > 0;) {  // backwards: no read-ahead, the same bytes
    INFO("record " << i);
    REQUIRE(ReadBack(*log, refs[i]) == want[i]);
  }
  PackRef past = refs.back();
  past.offset = log->bytes() - 2;
  auto bad = log->Read(past);
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().code() == dstk::Code::kCorruption);
}
