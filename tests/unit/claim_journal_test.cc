// lib/store/claim_journal: records come back in order after a reopen, only synced ones do, a
// torn tail is dropped and zeroed so it can never be read again, appends stay inside the
// pre-zeroed file, and a rewrite keeps exactly the live states.
#include "store/claim_journal.h"

#include <fcntl.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <iterator>

namespace fs = std::filesystem;

namespace {

using dstk::store::ClaimJournal;
using dstk::store::ClaimState;
using dstk::store::JournalRecord;

std::string TempPath() {
  char tmpl[] = "/tmp/dstk-claim-journal-test.XXXXXX";
  REQUIRE(::mkdtemp(tmpl) != nullptr);
  return tmpl;
}

JournalRecord Rec(const std::string& name, uint64_t seq) {
  JournalRecord r;
  r.name = name;
  r.seq = seq;
  r.state.promised = {seq, 40 + seq};
  r.state.lock_until_ms = 1000 * static_cast<int64_t>(seq);
  r.state.epoch = seq;
  r.state.phase = seq % 2 == 0 ? ClaimState::Phase::kConsumed : ClaimState::Phase::kPending;
  return r;
}

std::vector<JournalRecord> Replay(const std::string& path, bool* torn = nullptr) {
  std::vector<JournalRecord> got;
  auto j = ClaimJournal::Open(path, [&](JournalRecord&& r) { got.push_back(std::move(r)); });
  REQUIRE(j.ok());
  if (torn != nullptr) *torn = (*j)->tail_was_torn();
  return got;
}

void CheckSame(const JournalRecord& a, const JournalRecord& b) {
  CHECK(a.name == b.name);
  CHECK(a.seq == b.seq);
  CHECK(a.state.promised == b.state.promised);
  CHECK(a.state.lock_until_ms == b.state.lock_until_ms);
  CHECK(a.state.epoch == b.state.epoch);
  CHECK(a.state.phase == b.state.phase);
}

std::vector<uint8_t> FileBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace

TEST_CASE("claim journal: synced records replay in order, unsynced ones are not there", "[store]") {
  const std::string dir = TempPath();
  const std::string path = dir + "/claims.journal";
  std::vector<JournalRecord> written = {Rec("q/0001", 1), Rec("q/0002", 1), Rec("q/0001", 2)};
  uint64_t size_before = 0;
  {
    auto j = ClaimJournal::Open(path, [](JournalRecord&&) { FAIL("a new journal is empty"); });
    REQUIRE(j.ok());
    CHECK_FALSE(fs::exists(path));  // created by the first sync
    (*j)->Add(written[0]);
    REQUIRE((*j)->Sync().ok());
    size_before = fs::file_size(path);
    CHECK(size_before > 0);  // created zero-filled
    for (size_t i = 1; i < written.size(); ++i) (*j)->Add(written[i]);
    CHECK((*j)->HasPending());
    REQUIRE((*j)->Sync().ok());
    CHECK_FALSE((*j)->HasPending());
    uint64_t expected = 0;
    for (const auto& r : written) expected += ClaimJournal::Encode(r).size();
    CHECK((*j)->bytes() == expected);
    // Appends overwrite the zeros inside the file: no size change for fdatasync to commit.
    CHECK(fs::file_size(path) == size_before);
    (*j)->Add(Rec("q/0003", 1));  // never synced: a crash before the flush
  }
  const auto got = Replay(path);
  REQUIRE(got.size() == written.size());
  for (size_t i = 0; i < got.size(); ++i) CheckSame(got[i], written[i]);
  fs::remove_all(dir);
}

TEST_CASE("claim journal: a torn tail is dropped and zeroed, and appends go on after it",
          "[store]") {
  const std::string dir = TempPath();
  const std::string path = dir + "/claims.journal";
  const auto a = Rec("q/a", 1), b = Rec("q/b", 2), c = Rec("q/c", 3);
  const size_t la = ClaimJournal::Encode(a).size(), lb = ClaimJournal::Encode(b).size();
  {
    auto j = ClaimJournal::Open(path, [](JournalRecord&&) {});
    REQUIRE(j.ok());
    for (const auto& r : {a, b, c}) (*j)->Add(r);
    REQUIRE((*j)->Sync().ok());
  }
  SECTION("a flipped byte in the middle record: it and everything after it are the tail") {
    const int fd = ::open(path.c_str(), O_WRONLY);
    REQUIRE(fd >= 0);
    REQUIRE(::pwrite(fd, "\x7f", 1, static_cast<off_t>(la + 6)) == 1);
    ::close(fd);
  }
  SECTION("a record cut short by the end of the file") {
    fs::resize_file(path, la + lb - 3);
  }
  bool torn = false;
  auto got = Replay(path, &torn);
  CHECK(torn);
  REQUIRE(got.size() == 1);
  CheckSame(got[0], a);
  // Nothing of b or c survives past the end: a later, shorter append cannot line up with them.
  const auto bytes = FileBytes(path);
  for (size_t i = la; i < bytes.size(); ++i) {
    if (bytes[i] != 0) FAIL("byte " << i << " past the intact records is not zero");
  }
  const auto d = Rec("q/d", 9);
  {
    auto j = ClaimJournal::Open(path, [](JournalRecord&&) {});
    REQUIRE(j.ok());
    CHECK_FALSE((*j)->tail_was_torn());
    (*j)->Add(d);
    REQUIRE((*j)->Sync().ok());
  }
  got = Replay(path, &torn);
  CHECK_FALSE(torn);
  REQUIRE(got.size() == 2);
  CheckSame(got[1], d);
  fs::remove_all(dir);
}

TEST_CASE("claim journal: grows past its zeroed room and a rewrite keeps only the live states",
          "[store]") {
  const std::string dir = TempPath();
  const std::string path = dir + "/claims.journal";
  const uint64_t first_size = [&] {
    auto j = ClaimJournal::Open(path, [](JournalRecord&&) {});
    REQUIRE(j.ok());
    (*j)->Add(Rec("q/first", 1));
    REQUIRE((*j)->Sync().ok());
    return fs::file_size(path);
  }();
  {
    auto j = ClaimJournal::Open(path, [](JournalRecord&&) {});
    REQUIRE(j.ok());
    // More records than the first zeroed chunk holds, in a few syncs.
    uint64_t seq = 0;
    while ((*j)->bytes() < 2 * first_size) {
      for (int i = 0; i < 5000; ++i) (*j)->Add(Rec("q/" + std::to_string(i % 7), ++seq));
      REQUIRE((*j)->Sync().ok());
    }
    CHECK(fs::file_size(path) > (*j)->bytes());  // still zeroed room ahead
    CHECK(Replay(path).size() == seq + 1);

    (*j)->Add(Rec("q/late", 1));
    CHECK((*j)->Rewrite({}).code() == dstk::Code::kConflict);  // unsynced records first
    REQUIRE((*j)->Sync().ok());
    const uint64_t size_before = fs::file_size(path);
    const std::vector<JournalRecord> live = {Rec("q/0", seq - 1), Rec("q/1", seq)};
    REQUIRE((*j)->Rewrite(live).ok());
    CHECK((*j)->bytes() == (*j)->compacted_bytes());
    CHECK(fs::file_size(path) < size_before);
    (*j)->Add(Rec("q/2", seq + 1));  // appends go on in the new file
    REQUIRE((*j)->Sync().ok());
  }
  const auto got = Replay(path);
  REQUIRE(got.size() == 3);
  CHECK(got[0].name == "q/0");
  CHECK(got[1].name == "q/1");
  CHECK(got[2].name == "q/2");
  fs::remove_all(dir);
}
