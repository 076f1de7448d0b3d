// lib/store/claim_file: the two-slot claim state file. A torn or flipped slot falls back to the
// other (the last state acknowledged), both damaged is refused, the single-state format of
// earlier versions is read, and a store drops the slices of a finished function at open.
#include "store/claim_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <msgpack.hpp>

#include "codec/crc32c.h"
#include "store/slice_store.h"

namespace fs = std::filesystem;

namespace {

using dstk::store::ClaimState;
using dstk::store::kClaimSlotSize;
using dstk::store::ReadClaimFile;
using dstk::store::WriteClaimFile;

std::string TempPath() {
  char tmpl[] = "/tmp/dstk-claim-file-test.XXXXXX";
  REQUIRE(::mkdtemp(tmpl) != nullptr);
  return tmpl;
}

ClaimState StateWithEpoch(uint64_t epoch) {
  ClaimState c;
  c.promised = {epoch, 7};
  c.has_accepted = true;
  c.accepted = {epoch, 7};
  c.owner = 7;
  c.epoch = epoch;
  c.attempts = static_cast<uint32_t>(epoch);
  c.lock_until_ms = 1000 * static_cast<int64_t>(epoch);
  return c;
}

void Overwrite(const std::string& path, size_t offset, const std::string& bytes) {
  const int fd = ::open(path.c_str(), O_WRONLY);
  REQUIRE(fd >= 0);
  REQUIRE(::pwrite(fd, bytes.data(), bytes.size(), static_cast<off_t>(offset)) ==
          static_cast<ssize_t>(bytes.size()));
  ::close(fd);
}

}  // namespace

TEST_CASE("claim file: saves alternate slots and the newest intact one is read", "[store]") {
  const std::string dir = TempPath();
  const std::string path = dir + "/lease.claim";
  for (uint64_t seq = 1; seq <= 5; ++seq) {
    REQUIRE(WriteClaimFile(path, StateWithEpoch(seq), seq).ok());
    auto r = ReadClaimFile(path);
    REQUIRE(r.ok());
    CHECK(r->seq == seq);
    CHECK(r->state.epoch == seq);
    CHECK(r->state.lock_until_ms == 1000 * static_cast<int64_t>(seq));
  }
  CHECK(fs::file_size(path) == 2 * kClaimSlotSize);

  SECTION("a torn newest slot falls back to the state before it") {
    // seq 5 lives in slot 1; a crash cut its write short.
    Overwrite(path, kClaimSlotSize + 10, std::string(40, '\xff'));
    auto r = ReadClaimFile(path);
    REQUIRE(r.ok());
    CHECK(r->seq == 4);
    CHECK(r->state.epoch == 4);
    // The next save (seq 5 again) goes into the damaged slot and wins again.
    REQUIRE(WriteClaimFile(path, StateWithEpoch(9), 5).ok());
    CHECK(ReadClaimFile(path)->state.epoch == 9);
  }
  SECTION("both slots damaged: corruption, never a default state") {
    Overwrite(path, 12, "xx");
    Overwrite(path, kClaimSlotSize + 12, "yy");
    auto r = ReadClaimFile(path);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == dstk::Code::kCorruption);
  }
  SECTION("a zeroed slot (written length 0) is not a state") {
    Overwrite(path, kClaimSlotSize, std::string(kClaimSlotSize, '\0'));
    CHECK(ReadClaimFile(path)->seq == 4);
  }
  fs::remove_all(dir);
}

TEST_CASE("claim file: the single-state format of earlier versions is read", "[store]") {
  const std::string dir = TempPath();
  const std::string path = dir + "/lease.claim";
  // What versions before the slots wrote: the 10 fields as a msgpack array, then its CRC32C.
  msgpack::sbuffer buf;
  msgpack::packer<msgpack::sbuffer> p(buf);
  p.pack_array(10);
  p.pack(uint64_t{3}), p.pack(uint64_t{7}), p.pack(int64_t{0}), p.pack(true), p.pack(uint64_t{3});
  p.pack(uint64_t{7}), p.pack(uint64_t{7}), p.pack(uint64_t{3}), p.pack(uint32_t{1}), p.pack(1);
  std::string file(buf.data(), buf.size());
  const uint32_t crc =
      dstk::codec::Crc32c({reinterpret_cast<const uint8_t*>(buf.data()), buf.size()});
  for (int i = 0; i < 4; ++i) file.push_back(static_cast<char>(crc >> (8 * i)));
  std::ofstream(path, std::ios::binary) << file;
  auto r = ReadClaimFile(path);
  REQUIRE(r.ok());
  CHECK(r->seq == 0);  // so the next save rewrites the file whole, in slots
  CHECK(r->state.epoch == 3);
  CHECK(r->state.phase == ClaimState::Phase::kConsumed);
  REQUIRE(WriteClaimFile(path, StateWithEpoch(4), r->seq + 1).ok());
  CHECK(fs::file_size(path) == 2 * kClaimSlotSize);
  CHECK(ReadClaimFile(path)->state.epoch == 4);
  // A damaged old file is corruption too.
  std::ofstream(path, std::ios::binary) << file.substr(0, file.size() - 1) << 'x';
  CHECK(ReadClaimFile(path).status().code() == dstk::Code::kCorruption);
  fs::remove_all(dir);
}
