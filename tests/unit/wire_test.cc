// Unit tests of lib/wire: request and reply encoding, the hostile-input behaviour of the
// decoders, name validation, and record streams.
#include <fcntl.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <limits>
#include <msgpack.hpp>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "codec/crc32c.h"
#include "codec/digest.h"
#include "codec/slice.h"
#include "util/status.h"
#include "wire/limits.h"
#include "wire/message.h"
#include "wire/name.h"
#include "wire/record.h"

namespace {

using dstk::Code;
using dstk::codec::SliceHeader;
using dstk::wire::DecodeReply;
using dstk::wire::DecodeRequest;
using dstk::wire::EncodeReply;
using dstk::wire::EncodeRequest;
using dstk::wire::Manifest;
using dstk::wire::Op;
using dstk::wire::Reply;
using dstk::wire::ReplyStatus;
using dstk::wire::Request;

using Packer = msgpack::packer<msgpack::sbuffer>;

std::span<const uint8_t> Bytes(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

// A string literal with embedded NULs, all of it.
template <size_t N>
std::string Lit(const char (&s)[N]) {
  return std::string(s, N - 1);
}

std::string Str(const msgpack::sbuffer& b) {
  return std::string(b.data(), b.size());
}

// A msgpack map built field by field, so tests can write what an encoder never would.
struct Field {
  std::string key;
  std::function<void(Packer&)> pack;
};

std::string PackMap(const std::vector<Field>& fields) {
  msgpack::sbuffer buf;
  Packer p(buf);
  p.pack_map(static_cast<uint32_t>(fields.size()));
  for (const auto& f : fields) {
    p.pack(f.key);
    f.pack(p);
  }
  return Str(buf);
}

template <typename T>
Field F(std::string key, T value) {
  return {std::move(key), [value](Packer& p) { p.pack(value); }};
}

Field Raw(std::string key, std::function<void(Packer&)> pack) {
  return {std::move(key), std::move(pack)};
}

SliceHeader SampleSlice(std::string name = "photos/2026/cat.jpg") {
  SliceHeader h;
  h.name = std::move(name);
  h.rev = 0x1234567890ull;
  h.seg = 3;
  h.segs = 9;
  h.idx = 5;
  h.k = 4;
  h.n = 6;
  h.size = 37u << 20;
  h.seglen = 4u << 20;
  h.segsize = 4u << 20;
  h.crc = 0xdeadbeef;
  return h;
}

Manifest SampleManifest(bool tomb = false) {
  Manifest m;
  m.rev = 77;
  m.size = tomb ? 0 : 123456789;
  m.segs = tomb ? 0 : 30;
  m.segsize = 4u << 20;
  m.k = tomb ? 0 : 3;
  m.n = tomb ? 0 : 5;
  m.tomb = tomb;
  if (!tomb) {
    // One digest per slice, each different, and the root over them as a writer seals it.
    for (uint32_t i = 0; i < m.segs * m.n; ++i) {
      const uint8_t b = static_cast<uint8_t>(i);
      m.hashes += dstk::codec::DigestBytes(dstk::codec::Sha256({&b, 1}));
    }
    m.root = dstk::codec::DigestBytes(
        dstk::codec::Sha256({reinterpret_cast<const uint8_t*>(m.hashes.data()), m.hashes.size()}));
  }
  return m;
}

void CheckSameSlice(const SliceHeader& a, const SliceHeader& b) {
  CHECK(a.name == b.name);
  CHECK(a.rev == b.rev);
  CHECK(a.seg == b.seg);
  CHECK(a.segs == b.segs);
  CHECK(a.idx == b.idx);
  CHECK(a.k == b.k);
  CHECK(a.n == b.n);
  CHECK(a.size == b.size);
  CHECK(a.seglen == b.seglen);
  CHECK(a.segsize == b.segsize);
  CHECK(a.crc == b.crc);
}

void CheckSameManifest(const Manifest& a, const Manifest& b) {
  CHECK(a.rev == b.rev);
  CHECK(a.size == b.size);
  CHECK(a.segs == b.segs);
  CHECK(a.segsize == b.segsize);
  CHECK(a.k == b.k);
  CHECK(a.n == b.n);
  CHECK(a.tomb == b.tomb);
  CHECK(a.hashes == b.hashes);
  CHECK(a.root == b.root);
}

void CheckSameRequest(const Request& a, const Request& b) {
  CHECK(a.v == b.v);
  CHECK(a.op == b.op);
  CHECK(a.id == b.id);
  CHECK(a.name == b.name);
  CHECK(a.rev == b.rev);
  CHECK(a.seg == b.seg);
  CHECK(a.verify == b.verify);
  CHECK(a.slice_max == b.slice_max);
  REQUIRE(a.slice.has_value() == b.slice.has_value());
  if (a.slice) CheckSameSlice(*a.slice, *b.slice);
  REQUIRE(a.manifest.has_value() == b.manifest.has_value());
  if (a.manifest) CheckSameManifest(*a.manifest, *b.manifest);
  CHECK(a.prefix == b.prefix);
  CHECK(a.after == b.after);
  CHECK(a.limit == b.limit);
  CHECK(a.lane.lanes == b.lane.lanes);
  CHECK(a.lane.lane == b.lane.lane);
}

Request RoundTrip(const Request& r) {
  const std::string bytes = EncodeRequest(r);
  auto back = DecodeRequest(Bytes(bytes));
  INFO("op " << dstk::wire::OpName(r.op) << ": " << back.status().message());
  REQUIRE(back.ok());
  CheckSameRequest(r, *back);
  return *back;
}

Reply RoundTrip(const Reply& r) {
  const std::string bytes = EncodeReply(r);
  auto back = DecodeReply(Bytes(bytes));
  INFO(back.status().message());
  REQUIRE(back.ok());
  CHECK(back->id == r.id);
  CHECK(back->status == r.status);
  CHECK(back->error == r.error);
  CHECK(back->ok() == r.ok());
  REQUIRE(back->slice.has_value() == r.slice.has_value());
  if (r.slice) CheckSameSlice(*back->slice, *r.slice);
  REQUIRE(back->committed.has_value() == r.committed.has_value());
  if (r.committed) CheckSameManifest(*back->committed, *r.committed);
  REQUIRE(back->held.size() == r.held.size());
  for (size_t i = 0; i < r.held.size(); ++i) {
    CHECK(back->held[i].rev == r.held[i].rev);
    CHECK(back->held[i].slices == r.held[i].slices);
    CHECK(back->held[i].bad == r.held[i].bad);
  }
  REQUIRE(back->entries.size() == r.entries.size());
  for (size_t i = 0; i < r.entries.size(); ++i) {
    CHECK(back->entries[i].name == r.entries[i].name);
    CheckSameManifest(back->entries[i].manifest, r.entries[i].manifest);
    CHECK(back->entries[i].locked == r.entries[i].locked);
  }
  CHECK(back->more == r.more);
  REQUIRE(back->unit.has_value() == r.unit.has_value());
  if (r.unit) {
    CHECK(back->unit->version == r.unit->version);
    CHECK(back->unit->objects == r.unit->objects);
    CHECK(back->unit->slices == r.unit->slices);
    CHECK(back->unit->bytes_used == r.unit->bytes_used);
    CHECK(back->unit->bytes_free == r.unit->bytes_free);
    CHECK(back->unit->uptime_s == r.unit->uptime_s);
  }
  return *back;
}

// One valid request of every op (and both stat shapes).
std::vector<Request> SampleRequests() {
  std::vector<Request> out;
  Request put;
  put.op = Op::kPutSlice;
  put.id = 1;
  put.slice = SampleSlice();
  out.push_back(put);

  Request get;
  get.op = Op::kGetSlice;
  get.id = std::numeric_limits<uint64_t>::max();
  get.name = "a";
  get.rev = std::numeric_limits<uint64_t>::max();
  get.seg = std::numeric_limits<uint32_t>::max();
  out.push_back(get);

  Request del;
  del.op = Op::kDelSlice;
  del.id = 3;
  del.name = "logs/2026-11-25";
  del.rev = 0;
  out.push_back(del);

  Request pub;
  pub.op = Op::kPublish;
  pub.id = 4;
  pub.name = "x/y/z";
  pub.manifest = SampleManifest();
  out.push_back(pub);

  Request tomb = pub;
  tomb.id = 5;
  tomb.manifest = SampleManifest(true);
  out.push_back(tomb);

  Request list;
  list.op = Op::kList;
  list.id = 6;
  list.prefix = "logs/";
  list.after = "logs/2026-11-24";
  list.limit = 250;
  out.push_back(list);

  Request list_all;
  list_all.op = Op::kList;
  list_all.id = 7;
  out.push_back(list_all);

  Request list_lane = list;
  list_lane.id = 10;
  list_lane.lane = {.lane = 3, .lanes = 4};
  out.push_back(list_lane);

  Request stat;
  stat.op = Op::kStat;
  stat.id = 8;
  stat.name = "données/été";  // UTF-8 is allowed
  stat.verify = true;
  out.push_back(stat);

  Request stat_first = stat;
  stat_first.id = 11;
  stat_first.verify = false;
  stat_first.slice_max = 65536;
  out.push_back(stat_first);

  Request unit_stat;
  unit_stat.op = Op::kStat;
  unit_stat.id = 9;
  out.push_back(unit_stat);
  return out;
}

std::vector<Field> BaseStat() {
  return {F("v", 1u), F("op", "stat"), F("id", 42u)};
}

Code DecodeCode(const std::string& bytes) {
  auto r = DecodeRequest(Bytes(bytes));
  if (!r.ok()) {
    CHECK_FALSE(r.status().message().empty());
  }
  return r.status().code();
}

// Runs `f` and fails the test if it throws; returns whether the decode succeeded.
template <typename Fn>
bool NoThrowDecode(Fn&& f) {
  try {
    return f();
  } catch (const std::exception& e) {
    FAIL("decoder threw: " << e.what());
  } catch (...) {
    FAIL("decoder threw a non-std exception");
  }
  return false;
}

// A file descriptor reading `bytes` from an unlinked temp file.
int TempFileWith(const std::string& bytes) {
  char path[] = "/tmp/dstk-wire-test.XXXXXX";
  const int fd = ::mkstemp(path);
  REQUIRE(fd >= 0);
  ::unlink(path);
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    REQUIRE(n > 0);
    done += static_cast<size_t>(n);
  }
  REQUIRE(::lseek(fd, 0, SEEK_SET) == 0);
  return fd;
}

// A pipe's read end holding `bytes` (which must fit in the pipe buffer), write end closed.
int PipeWith(const std::string& bytes) {
  REQUIRE(bytes.size() <= 60000);
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fds[1], bytes.data() + done, bytes.size() - done);
    REQUIRE(n > 0);
    done += static_cast<size_t>(n);
  }
  ::close(fds[1]);
  return fds[0];
}

struct ReadAll {
  std::vector<msgpack::object_handle> records;
  dstk::Status end;  // ok: clean end of stream
};

ReadAll ReadRecords(int fd) {
  ReadAll out;
  dstk::wire::RecordReader reader(fd);
  for (int guard = 0; guard < 1000; ++guard) {
    auto next = reader.Next();
    if (!next.ok()) {
      out.end = next.status();
      return out;
    }
    if (!next->has_value()) return out;
    out.records.push_back(std::move(**next));
  }
  FAIL("record reader did not stop");
  return out;
}

}  // namespace

// ------------------------------------------------------------------------------------------
// Round trips

TEST_CASE("op names map both ways", "[wire][message]") {
  for (Op op : {Op::kPutSlice, Op::kGetSlice, Op::kDelSlice, Op::kPublish, Op::kList, Op::kStat}) {
    auto back = dstk::wire::OpFromName(dstk::wire::OpName(op));
    REQUIRE(back.has_value());
    CHECK(*back == op);
  }
  CHECK(std::string(dstk::wire::OpName(Op::kPutSlice)) == "put_slice");
  CHECK_FALSE(dstk::wire::OpFromName("PUT_SLICE").has_value());
  CHECK_FALSE(dstk::wire::OpFromName("").has_value());
  CHECK(std::string(dstk::wire::ReplyStatusName(ReplyStatus::kNotFound)) == "not_found");
}

TEST_CASE("a manifest's placement and generation, and del_slice's moved, round-trip",
          "[wire][message]") {
  Request pub;
  pub.op = Op::kPublish;
  pub.id = 9;
  pub.name = "a/b";
  pub.manifest = SampleManifest();
  for (uint32_t i = 0; i < pub.manifest->n; ++i)
    pub.manifest->placement.push_back("00112233445566" +
                                      std::string(1, 'a' + static_cast<char>(i % 6)) + "0");
  pub.manifest->pgen = 3;
  Request back = RoundTrip(pub);
  REQUIRE(back.manifest.has_value());
  CHECK(back.manifest->placement == pub.manifest->placement);
  CHECK(back.manifest->pgen == 3);
  Request del;
  del.op = Op::kDelSlice;
  del.id = 10;
  del.name = "a/b";
  del.rev = 7;
  del.moved = true;
  CHECK(RoundTrip(del).moved);
  del.moved = false;
  CHECK_FALSE(RoundTrip(del).moved);
}

TEST_CASE("every request op round-trips through Encode/Decode", "[wire][message]") {
  for (const Request& r : SampleRequests()) {
    INFO("op " << dstk::wire::OpName(r.op) << " id " << r.id);
    RoundTrip(r);
  }
}

TEST_CASE("every reply shape round-trips through Encode/Decode", "[wire][message]") {
  SECTION("plain ok") {
    Reply r;
    r.id = 17;
    CHECK(RoundTrip(r).ok());
  }
  SECTION("every status, with an error message") {
    for (ReplyStatus s :
         {ReplyStatus::kOk, ReplyStatus::kNotFound, ReplyStatus::kBadRequest,
          ReplyStatus::kConflict, ReplyStatus::kLocked, ReplyStatus::kUnauthorized,
          ReplyStatus::kTooLarge, ReplyStatus::kNoSpace, ReplyStatus::kBusy, ReplyStatus::kCorrupt,
          ReplyStatus::kError, ReplyStatus::kFenced, ReplyStatus::kForbidden}) {
      Reply r;
      r.id = 1000 + static_cast<uint64_t>(s);
      r.status = s;
      r.error = std::string("because ") + dstk::wire::ReplyStatusName(s);
      RoundTrip(r);
    }
  }
  SECTION("get_slice: a slice header") {
    Reply r;
    r.id = 2;
    r.slice = SampleSlice();
    RoundTrip(r);
  }
  SECTION("stat of an object: committed manifest and held revisions") {
    Reply r;
    r.id = 3;
    r.committed = SampleManifest();
    r.held = {{76, 30, 0}, {77, 28, 2}, {std::numeric_limits<uint64_t>::max(), 1, 0}};
    RoundTrip(r);
  }
  SECTION("stat of a deleted object: a tombstone") {
    Reply r;
    r.id = 4;
    r.committed = SampleManifest(true);
    RoundTrip(r);
  }
  SECTION("list: entries and more") {
    Reply r;
    r.id = 5;
    r.entries = {{"a", SampleManifest()}, {"a/b", SampleManifest(true)}, {"z", SampleManifest()}};
    r.entries[2].locked = 1;  // a key a claim lock holds on this unit
    r.more = true;
    RoundTrip(r);
    r.more = false;
    RoundTrip(r);
  }
  SECTION("list: an empty page that says more follows") {
    Reply r;
    r.id = 6;
    r.more = true;
    RoundTrip(r);
  }
  SECTION("stat of the unit") {
    Reply r;
    r.id = 7;
    r.unit = dstk::wire::UnitInfo{"dsnode 0.1.0", 12, 345, 6789, 1ull << 40, 86400};
    RoundTrip(r);
  }
}

TEST_CASE("a reply with an unknown status decodes as an error", "[wire][message]") {
  const std::string bytes = PackMap({F("v", 1u), F("id", 9u), F("status", "on_fire")});
  auto r = DecodeReply(Bytes(bytes));
  REQUIRE(r.ok());
  CHECK(r->status == ReplyStatus::kError);
  CHECK_FALSE(r->ok());
  CHECK(r->error.find("on_fire") != std::string::npos);
}

TEST_CASE("DecodeReply refuses malformed replies", "[wire][message]") {
  CHECK_FALSE(DecodeReply({}).ok());
  CHECK_FALSE(DecodeReply(Bytes(PackMap({F("v", 1u), F("status", "ok")}))).ok());  // no id
  CHECK_FALSE(DecodeReply(Bytes(PackMap({F("v", 1u), F("id", 1u)}))).ok());        // no status
  CHECK_FALSE(DecodeReply(Bytes(PackMap({F("id", "1"), F("status", "ok")}))).ok());
  CHECK_FALSE(DecodeReply(Bytes(PackMap({F("id", 1u), F("status", "ok"), F("held", 3u)}))).ok());
  CHECK_FALSE(DecodeReply(Bytes(PackMap({F("id", 1u), F("status", "ok"), F("more", 1u)}))).ok());
  // A list entry with a name that is not a valid object name.
  Reply bad;
  bad.entries = {{"../etc/passwd", SampleManifest()}};
  CHECK(DecodeReply(Bytes(EncodeReply(bad))).status().code() == Code::kInvalidArgument);
  // A list entry with an invalid manifest.
  Manifest m = SampleManifest();
  m.k = 0;
  bad.entries = {{"ok", m}};
  CHECK_FALSE(DecodeReply(Bytes(EncodeReply(bad))).ok());
}

// ------------------------------------------------------------------------------------------
// Hostile requests

TEST_CASE("DecodeRequest refuses empty and non-map input", "[wire][message][hostile]") {
  CHECK(DecodeRequest({}).status().code() == Code::kInvalidArgument);
  const std::vector<std::vector<uint8_t>> cases = {
      {0xc0},              // nil
      {0x01},              // an integer
      {0x90},              // an empty array
      {0x80},              // an empty map: no v/op/id
      {0xc1},              // never-used byte
      {0xa3, 'a', 'b'},    // a truncated string
      {0x81, 0x01, 0x02},  // a map with an integer key
  };
  for (const auto& c : cases) {
    INFO("first byte " << int{c[0]});
    CHECK(DecodeRequest(c).status().code() == Code::kInvalidArgument);
  }
}

TEST_CASE("DecodeRequest refuses missing v, op or id, an unknown op or version",
          "[wire][message][hostile]") {
  REQUIRE(DecodeCode(PackMap(BaseStat())) == Code::kOk);
  CHECK(DecodeCode(PackMap({F("op", "stat"), F("id", 1u)})) == Code::kInvalidArgument);
  CHECK(DecodeCode(PackMap({F("v", 1u), F("id", 1u)})) == Code::kInvalidArgument);
  CHECK(DecodeCode(PackMap({F("v", 1u), F("op", "stat")})) == Code::kInvalidArgument);
  CHECK(DecodeCode(PackMap({F("v", 1u), F("op", "frobnicate"), F("id", 1u)})) ==
        Code::kInvalidArgument);
  CHECK(DecodeCode(PackMap({F("v", 1u), F("op", ""), F("id", 1u)})) == Code::kInvalidArgument);
  CHECK(DecodeCode(PackMap({F("v", 1u), F("op", std::string(4000, 'x')), F("id", 1u)})) ==
        Code::kInvalidArgument);
  CHECK(DecodeCode(PackMap({F("v", 0u), F("op", "stat"), F("id", 1u)})) == Code::kInvalidArgument);
  CHECK(DecodeCode(PackMap({F("v", 2u), F("op", "stat"), F("id", 1u)})) == Code::kInvalidArgument);
  CHECK(DecodeCode(PackMap({F("v", 1ull << 32), F("op", "stat"), F("id", 1u)})) ==
        Code::kInvalidArgument);
  // Ops that need more fields than v/op/id.
  CHECK(DecodeCode(PackMap({F("v", 1u), F("op", "put_slice"), F("id", 1u)})) ==
        Code::kInvalidArgument);
  CHECK(DecodeCode(PackMap({F("v", 1u), F("op", "get_slice"), F("id", 1u), F("name", "a")})) ==
        Code::kInvalidArgument);  // no rev
  CHECK(DecodeCode(PackMap({F("v", 1u), F("op", "get_slice"), F("id", 1u), F("rev", 1u)})) ==
        Code::kInvalidArgument);  // no name
  CHECK(DecodeCode(PackMap({F("v", 1u), F("op", "del_slice"), F("id", 1u), F("name", "a")})) ==
        Code::kInvalidArgument);
  CHECK(DecodeCode(PackMap({F("v", 1u), F("op", "publish"), F("id", 1u), F("name", "a")})) ==
        Code::kInvalidArgument);  // no manifest
  // Unknown keys are ignored.
  auto extra = BaseStat();
  extra.push_back(F("future_field", "whatever"));
  extra.push_back(Raw("nested", [](Packer& p) {
    p.pack_map(1);
    p.pack("a");
    p.pack_array(2);
    p.pack(1);
    p.pack(2);
  }));
  CHECK(DecodeCode(PackMap(extra)) == Code::kOk);
}

TEST_CASE("DecodeRequest refuses wrong-typed fields", "[wire][message][hostile]") {
  struct Case {
    const char* what;
    std::vector<Field> fields;
  };
  auto with = [](std::vector<Field> base, Field f) {
    for (auto& b : base) {
      if (b.key == f.key) {
        b = std::move(f);
        return base;
      }
    }
    base.push_back(std::move(f));
    return base;
  };
  const auto get = std::vector<Field>{F("v", 1u),     F("op", "get_slice"), F("id", 1u),
                                      F("name", "a"), F("rev", 2u),         F("seg", 0u)};
  REQUIRE(DecodeCode(PackMap(get)) == Code::kOk);
  auto good_slice = [](Packer& p) {
    p.pack_map(11);
    const SliceHeader h = SampleSlice();
    p.pack("name"), p.pack(h.name);
    p.pack("rev"), p.pack(h.rev);
    p.pack("seg"), p.pack(h.seg);
    p.pack("segs"), p.pack(h.segs);
    p.pack("idx"), p.pack(h.idx);
    p.pack("k"), p.pack(h.k);
    p.pack("n"), p.pack(h.n);
    p.pack("size"), p.pack(h.size);
    p.pack("seglen"), p.pack(h.seglen);
    p.pack("segsize"), p.pack(h.segsize);
    p.pack("crc"), p.pack(h.crc);
  };
  const auto put =
      std::vector<Field>{F("v", 1u), F("op", "put_slice"), F("id", 1u), Raw("slice", good_slice)};
  REQUIRE(DecodeCode(PackMap(put)) == Code::kOk);

  // A slice header with one field replaced or dropped.
  auto slice_with = [](const char* key, std::function<void(Packer&)> value) {
    return Raw("slice", [key, value](Packer& p) {
      const SliceHeader h = SampleSlice();
      std::vector<Field> fs = {F("name", h.name),     F("rev", h.rev),
                               F("seg", h.seg),       F("segs", h.segs),
                               F("idx", h.idx),       F("k", h.k),
                               F("n", h.n),           F("size", h.size),
                               F("seglen", h.seglen), F("segsize", h.segsize),
                               F("crc", h.crc)};
      std::vector<Field> kept;
      bool replaced = false;
      for (auto& f : fs) {
        if (f.key != key)
          kept.push_back(std::move(f));
        else if (value)
          kept.push_back({f.key, value}), replaced = true;
      }
      if (!replaced && value) kept.push_back({key, value});  // a field SampleManifest lacks
      p.pack_map(static_cast<uint32_t>(kept.size()));
      for (const auto& f : kept) {
        p.pack(f.key);
        f.pack(p);
      }
    });
  };
  auto manifest_with = [](const char* key, std::function<void(Packer&)> value) {
    return Raw("manifest", [key, value](Packer& p) {
      const Manifest m = SampleManifest();
      auto bin = [](std::string bytes) {
        return [bytes](Packer& q) {
          q.pack_bin(static_cast<uint32_t>(bytes.size()));
          q.pack_bin_body(bytes.data(), static_cast<uint32_t>(bytes.size()));
        };
      };
      std::vector<Field> fs = {
          F("rev", m.rev),      F("size", m.size), F("segs", m.segs), F("segsize", m.segsize),
          F("k", m.k),          F("n", m.n),       F("tomb", m.tomb), {"hashes", bin(m.hashes)},
          {"root", bin(m.root)}};
      std::vector<Field> kept;
      bool replaced = false;
      for (auto& f : fs) {
        if (f.key != key)
          kept.push_back(std::move(f));
        else if (value)
          kept.push_back({f.key, value}), replaced = true;
      }
      if (!replaced && value) kept.push_back({key, value});  // a field SampleManifest lacks
      p.pack_map(static_cast<uint32_t>(kept.size()));
      for (const auto& f : kept) {
        p.pack(f.key);
        f.pack(p);
      }
    });
  };
  const auto pub = std::vector<Field>{F("v", 1u), F("op", "publish"), F("id", 1u), F("name", "a"),
                                      manifest_with("", nullptr)};
  REQUIRE(DecodeCode(PackMap(pub)) == Code::kOk);
  const auto list = std::vector<Field>{F("v", 1u), F("op", "list"), F("id", 1u)};
  REQUIRE(DecodeCode(PackMap(list)) == Code::kOk);

  const std::vector<Case> cases = {
      {"id as string", with(get, F("id", "1"))},
      {"id negative", with(get, F("id", -1))},
      {"id float", with(get, F("id", 1.5))},
      {"id nil", with(get, Raw("id", [](Packer& p) { p.pack_nil(); }))},
      {"id bool", with(get, F("id", true))},
      {"v as string", with(get, F("v", "1"))},
      {"v negative", with(get, F("v", -1))},
      {"op as integer", with(get, F("op", 3u))},
      {"op as bin",
       with(get, Raw("op", [](Packer& p) { p.pack_bin(4), p.pack_bin_body("stat", 4); }))},
      {"name as integer", with(get, F("name", 5u))},
      {"name as array", with(get, Raw("name", [](Packer& p) { p.pack_array(1), p.pack("a"); }))},
      {"rev negative", with(get, F("rev", -2))},
      {"rev as string", with(get, F("rev", "2"))},
      {"rev float", with(get, F("rev", 2.5))},
      {"seg above 32 bits", with(get, F("seg", 1ull << 32))},
      {"seg negative", with(get, F("seg", -1))},
      {"verify as integer", with(get, F("verify", 1u))},
      {"verify as string", with(get, F("verify", "true"))},
      {"limit as string", with(list, F("limit", "10"))},
      {"limit above 32 bits", with(list, F("limit", 1ull << 33))},
      {"prefix as integer", with(list, F("prefix", 1u))},
      {"after as nil", with(list, Raw("after", [](Packer& p) { p.pack_nil(); }))},
      {"slice as array", with(put, Raw("slice", [](Packer& p) { p.pack_array(1), p.pack(1); }))},
      {"slice as string", with(put, F("slice", "slice"))},
      {"slice as nil", with(put, Raw("slice", [](Packer& p) { p.pack_nil(); }))},
      {"slice without crc", with(put, slice_with("crc", nullptr))},
      {"slice without name", with(put, slice_with("name", nullptr))},
      {"slice k as string", with(put, slice_with("k", [](Packer& p) { p.pack("4"); }))},
      {"slice rev negative", with(put, slice_with("rev", [](Packer& p) { p.pack(-1); }))},
      {"slice crc above 32 bits",
       with(put, slice_with("crc", [](Packer& p) { p.pack(1ull << 32); }))},
      {"slice with an integer key",
       with(put, Raw("slice", [](Packer& p) { p.pack_map(1), p.pack(1), p.pack(2); }))},
      {"manifest as array", with(pub, Raw("manifest", [](Packer& p) { p.pack_array(0); }))},
      {"manifest without k", with(pub, manifest_with("k", nullptr))},
      {"manifest without rev", with(pub, manifest_with("rev", nullptr))},
      {"manifest tomb as integer", with(pub, manifest_with("tomb", [](Packer& p) { p.pack(0u); }))},
      {"manifest k = 0", with(pub, manifest_with("k", [](Packer& p) { p.pack(0u); }))},
      {"manifest n < k", with(pub, manifest_with("n", [](Packer& p) { p.pack(2u); }))},
      {"manifest segsize 0", with(pub, manifest_with("segsize", [](Packer& p) { p.pack(0u); }))},
      {"manifest placement as string",
       with(pub, manifest_with("placement", [](Packer& p) { p.pack("0011223344556677"); }))},
      {"manifest placement of one id for n units",
       with(pub, manifest_with("placement",
                               [](Packer& p) { p.pack_array(1), p.pack("0011223344556677"); }))},
      {"manifest placement with a malformed id",
       with(pub, manifest_with("placement",
                               [](Packer& p) {
                                 p.pack_array(SampleManifest().n);
                                 for (uint32_t i = 0; i < SampleManifest().n; ++i)
                                   p.pack("not-an-id");
                               }))},
      {"manifest hashes as string",
       with(pub, manifest_with("hashes", [](Packer& p) { p.pack(std::string(4800, 'h')); }))},
      {"manifest hashes one digest short",
       with(pub, manifest_with("hashes",
                               [](Packer& p) {
                                 const std::string h = SampleManifest().hashes.substr(32);
                                 p.pack_bin(static_cast<uint32_t>(h.size()));
                                 p.pack_bin_body(h.data(), static_cast<uint32_t>(h.size()));
                               }))},
      {"manifest hashes altered (root no longer matches)",
       with(pub, manifest_with("hashes",
                               [](Packer& p) {
                                 std::string h = SampleManifest().hashes;
                                 h[100] ^= 1;
                                 p.pack_bin(static_cast<uint32_t>(h.size()));
                                 p.pack_bin_body(h.data(), static_cast<uint32_t>(h.size()));
                               }))},
      {"manifest hashes without root", with(pub, manifest_with("root", nullptr))},
      {"manifest root without hashes", with(pub, manifest_with("hashes", nullptr))},
      {"manifest root of 31 bytes", with(pub, manifest_with("root",
                                                            [](Packer& p) {
                                                              const std::string r =
                                                                  SampleManifest().root.substr(1);
                                                              p.pack_bin(31),
                                                                  p.pack_bin_body(r.data(), 31);
                                                            }))},
      {"manifest hashes over the limit",
       with(pub, manifest_with("hashes",
                               [](Packer& p) {
                                 const std::string h(dstk::wire::kMaxManifestHashes + 32, 'x');
                                 p.pack_bin(static_cast<uint32_t>(h.size()));
                                 p.pack_bin_body(h.data(), static_cast<uint32_t>(h.size()));
                               }))},
      {"manifest segsize too big",
       with(pub,
            manifest_with("segsize", [](Packer& p) { p.pack(dstk::codec::kMaxSegmentSize + 1); }))},
  };
  for (const auto& c : cases) {
    INFO(c.what);
    CHECK(DecodeCode(PackMap(c.fields)) == Code::kInvalidArgument);
  }
  // "tomb" is optional in a manifest and defaults to false.
  auto no_tomb = DecodeRequest(Bytes(PackMap(with(pub, manifest_with("tomb", nullptr)))));
  REQUIRE(no_tomb.ok());
  REQUIRE(no_tomb->manifest.has_value());
  CHECK_FALSE(no_tomb->manifest->tomb);
  CHECK(no_tomb->manifest->rev == SampleManifest().rev);
  // A top-level key that is not a string.
  msgpack::sbuffer buf;
  Packer p(buf);
  p.pack_map(4), p.pack("v"), p.pack(1u), p.pack("op"), p.pack("stat"), p.pack("id"), p.pack(1u);
  p.pack(7u), p.pack(7u);
  CHECK(DecodeCode(Str(buf)) == Code::kInvalidArgument);
}

TEST_CASE("DecodeRequest refuses every truncation and trailing bytes", "[wire][message][hostile]") {
  for (const Request& r : SampleRequests()) {
    const std::string bytes = EncodeRequest(r);
    INFO("op " << dstk::wire::OpName(r.op) << " length " << bytes.size());
    for (size_t len = 0; len < bytes.size(); ++len) {
      const bool ok = NoThrowDecode([&] { return DecodeRequest(Bytes(bytes).first(len)).ok(); });
      if (ok) FAIL("a truncation to " << len << " bytes decoded");
    }
    CHECK(DecodeRequest(Bytes(bytes)).ok());
    CHECK_FALSE(DecodeRequest(Bytes(bytes + '\0')).ok());
    CHECK_FALSE(DecodeRequest(Bytes(bytes + bytes)).ok());
  }
  for (const std::string& bytes : {EncodeReply(Reply{}), [] {
                                     Reply r;
                                     r.entries = {{"a", SampleManifest()}};
                                     r.more = true;
                                     r.unit = dstk::wire::UnitInfo{"v", 1, 2, 3, 4, 5};
                                     return EncodeReply(r);
                                   }()}) {
    for (size_t len = 0; len < bytes.size(); ++len) {
      const bool ok = NoThrowDecode([&] { return DecodeReply(Bytes(bytes).first(len)).ok(); });
      if (ok) FAIL("a reply truncated to " << len << " bytes decoded");
    }
    CHECK(DecodeReply(Bytes(bytes)).ok());
  }
}

TEST_CASE("DecodeRequest refuses oversize headers, deep nesting and huge claimed sizes",
          "[wire][message][hostile]") {
  SECTION("a header frame up to kMaxHeaderFrame is accepted, one byte more is not") {
    auto padded = [](size_t pad) {
      auto fields = BaseStat();
      fields.push_back(Raw("pad", [pad](Packer& p) {
        const std::string zeros(pad, '\0');
        p.pack_bin(static_cast<uint32_t>(pad));
        p.pack_bin_body(zeros.data(), static_cast<uint32_t>(pad));
      }));
      return PackMap(fields);
    };
    const size_t base = padded(70000).size();  // a bin32 pad, as the one at the limit
    const size_t pad = 70000 + (dstk::wire::kMaxHeaderFrame - base);
    const std::string at = padded(pad);
    REQUIRE(at.size() == dstk::wire::kMaxHeaderFrame);
    CHECK(DecodeCode(at) == Code::kOk);
    const std::string over = padded(pad + 1);
    REQUIRE(over.size() == dstk::wire::kMaxHeaderFrame + 1);
    CHECK(DecodeCode(over) == Code::kInvalidArgument);
    CHECK(DecodeCode(padded(2 * dstk::wire::kMaxHeaderFrame)) == Code::kInvalidArgument);
  }
  SECTION("deeply nested arrays") {
    for (size_t depth : {9u, 20u, 100u, 10000u}) {
      std::string deep(depth, '\x91');  // fixarray of 1, nested
      deep += '\xc0';
      INFO("depth " << depth);
      CHECK(DecodeCode(deep) == Code::kInvalidArgument);
      // The same nesting under an unknown key of an otherwise valid request.
      auto fields = BaseStat();
      const std::string inner = deep;
      std::string bytes = PackMap(fields);
      bytes[0] = static_cast<char>(0x84);  // fixmap of 4 instead of 3
      bytes +=
          "\xa4"
          "deep" +
          inner;
      CHECK(DecodeCode(bytes) == Code::kInvalidArgument);
    }
    std::string maps;
    for (int i = 0; i < 1000; ++i) maps += "\x81\xa1x";  // {"x": {"x": ...}}
    maps += '\xc0';
    CHECK(DecodeCode(maps) == Code::kInvalidArgument);
  }
  SECTION("containers and strings claiming 2^31 entries or bytes") {
    const std::vector<std::string> cases = {
        Lit("\xdf\x80\x00\x00\x00"),                         // map32 of 2^31 entries
        Lit("\xdf\x80\x00\x00\x00\xa1v\x01\xa2op\xa4stat"),  // ... followed by some
        Lit("\xdf\xff\xff\xff\xff"),                         // map32 of 2^32-1
        Lit("\xdd\x80\x00\x00\x00"),                         // array32 of 2^31
        Lit("\xdb\x80\x00\x00\x00xyz"),                      // str32 of 2^31 bytes
        Lit("\xc6\xff\xff\xff\xff"),                         // bin32 of 2^32-1 bytes
        Lit("\xc9\x7f\xff\xff\xff\x01"),                     // ext32
        Lit("\xde\xff\xff"),                                 // map16 of 65535
    };
    for (const auto& c : cases) {
      INFO("case starting " << int{static_cast<uint8_t>(c[0])} << " size " << c.size());
      CHECK(DecodeCode(c) == Code::kInvalidArgument);
    }
    // The same claims as the value of a field in an otherwise valid request.
    for (const auto& c : cases) {
      std::string bytes = PackMap(BaseStat());
      bytes[0] = static_cast<char>(0x84);
      bytes += "\xa1x" + c;
      CHECK(DecodeCode(bytes) == Code::kInvalidArgument);
    }
  }
}

TEST_CASE("PeekRequestId reads the id of a refused request whenever the id can be read",
          "[wire][message][hostile]") {
  using dstk::wire::PeekRequestId;
  constexpr uint64_t kId = 0x0123456789abcdefull;  // packed as a uint64: 9 bytes
  const auto peek = [](const std::string& bytes) { return PeekRequestId(Bytes(bytes)); };
  const auto refused = [](const std::string& bytes) { return !DecodeRequest(Bytes(bytes)).ok(); };
  const auto pad = [](size_t size) {
    return Raw("pad", [size](Packer& p) {
      const std::string zeros(size, '\0');
      p.pack_bin(static_cast<uint32_t>(size));
      p.pack_bin_body(zeros.data(), static_cast<uint32_t>(size));
    });
  };
  const std::vector<Field> head = {F("v", 1u), F("op", "stat"), F("id", kId)};

  SECTION("a header frame over kMaxHeaderFrame, the id before or after the padding") {
    for (size_t size : {dstk::wire::kMaxHeaderFrame, 2 * dstk::wire::kMaxHeaderFrame}) {
      INFO("padding " << size);
      auto before = head;
      before.push_back(pad(size));
      CHECK(refused(PackMap(before)));
      CHECK(peek(PackMap(before)) == kId);
      std::vector<Field> after = {pad(size), F("v", 1u), F("op", "stat"), F("id", kId)};
      CHECK(refused(PackMap(after)));
      CHECK(peek(PackMap(after)) == kId);
    }
  }
  SECTION("every truncation: the id once its last byte is in") {
    auto fields = head;
    fields.push_back(F("name", "queue/a"));
    const std::string whole = PackMap(fields);
    const size_t id_end = PackMap(head).size();  // same one-byte fixmap header
    for (size_t len = 0; len <= whole.size(); ++len) {
      INFO("truncated to " << len << " of " << whole.size() << " bytes");
      CHECK(peek(whole.substr(0, len)) == (len >= id_end ? kId : 0));
    }
  }
  SECTION("a map with the id, then garbage, trailing bytes, deep nesting or huge claims") {
    const std::string ok = PackMap(head);
    std::string more_entries = ok;
    more_entries[0] = static_cast<char>(0x85);                    // claims 5 entries, has 3
    std::string garbage_value = more_entries + Lit("\xa1x\xc1");  // 0xc1: never-used byte
    std::string non_string_key = more_entries + Lit("\x01\x02");
    std::string deep = more_entries;
    deep +=
        Lit("\xa4"
            "deep");
    deep.append(10000, '\x91');  // fixarray of 1, nested
    deep += '\xc0';
    const std::vector<std::string> cases = {
        more_entries,
        garbage_value,
        non_string_key,
        deep,
        ok + "\xc1",
        ok + ok,
        more_entries + Lit("\xa1x\xdb\x80\x00\x00\x00xyz"),  // str32 of 2^31 bytes
        Lit("\xdf\x80\x00\x00\x00") + ok.substr(1),          // map32 of 2^31 entries
    };
    for (const auto& c : cases) {
      INFO("case of " << c.size() << " bytes");
      CHECK(refused(c));
      CHECK(peek(c) == kId);
    }
    // The id after a non-string key is read, as is one after a skipped nested map.
    std::string after_int_key = Lit("\x82\x01\x02") + PackMap({F("id", kId)}).substr(1);
    CHECK(refused(after_int_key));
    CHECK(peek(after_int_key) == kId);
  }
  SECTION("no readable id: not a map, no id, a wrong type, unreadable before it") {
    const std::vector<std::string> cases = {
        "",
        Lit("\xc0"),
        Lit("\x2a"),
        Lit("\x91\x2a"),
        Lit("\xa2id"),
        Lit("\x93\xa2id\x2a\x00"),  // an array that looks like a map's entries
        Lit("\xc1\x81\xa2id\x2a"),
        PackMap({F("v", 1u), F("op", "stat")}),
        PackMap({F("v", 1u), F("op", "stat"), F("id", "42")}),
        PackMap({F("v", 1u), F("op", "stat"), F("id", -1)}),
        PackMap({F("v", 1u), F("op", "stat"), F("id", 42.5)}),
        Lit("\x83\xa1v\x01\xa2op\xa4stat\xa2id\xca\x42\x28\x00\x00"),  // float32 42.0
        PackMap({F("v", 1u), F("op", "stat"), Raw("id", [](Packer& p) { p.pack_nil(); })}),
        PackMap({F("v", 1u), F("op", "stat"), F("id", std::vector<uint64_t>{42})}),
        PackMap({F("v", 1u), F("op", "stat"),
                 Raw("x",
                     [](Packer& p) {
                       p.pack_map(1), p.pack("id"), p.pack(42u);  // an id, but not the request's
                     })}),
        Lit("\x83\xa1x\xc1\xa2id\x2a"),                  // garbage before the id
        Lit("\x83\xa1x\xdb\x80\x00\x00\x00\xa2id\x2a"),  // a string that swallows it
        Lit("\x81\xc4\x02id\x2a"),                       // "id" as binary, not a string
    };
    for (const auto& c : cases) {
      INFO("case of " << c.size() << " bytes");
      CHECK(refused(c));
      CHECK(peek(c) == 0);
    }
  }
  SECTION("what DecodeRequest accepts, PeekRequestId reads alike") {
    // An id packed as a signed integer that is not negative is an id.
    const std::string int16 = Lit("\x83\xa1v\x01\xa2op\xa4stat\xa2id\xd1\x01\x00");
    REQUIRE(DecodeRequest(Bytes(int16)).ok());
    CHECK(DecodeRequest(Bytes(int16))->id == 256);
    CHECK(peek(int16) == 256);
    // Of two ids the last one counts.
    const std::string twice = PackMap({F("id", 1u), F("v", 1u), F("op", "stat"), F("id", 2u)});
    REQUIRE(DecodeRequest(Bytes(twice)).ok());
    CHECK(DecodeRequest(Bytes(twice))->id == 2);
    CHECK(peek(twice) == 2);
    for (const Request& r : SampleRequests()) {
      const std::string bytes = EncodeRequest(r);
      CHECK(peek(bytes) == r.id);
    }
  }
}

TEST_CASE("DecodeRequest survives random garbage and mutated requests",
          "[wire][message][hostile][fuzz]") {
  std::mt19937_64 rng(0xd57c);
  SECTION("random buffers never decode and never throw") {
    size_t decoded = 0;
    for (int i = 0; i < 20000; ++i) {
      std::vector<uint8_t> buf(rng() % 300);
      for (auto& b : buf) b = static_cast<uint8_t>(rng());
      // Half of them look like a map at the top, to get past the first byte.
      if (!buf.empty() && i % 2 == 0) buf[0] = static_cast<uint8_t>(0x80 | (rng() % 16));
      if (NoThrowDecode([&] { return DecodeRequest(buf).ok(); })) ++decoded;
      NoThrowDecode([&] { return DecodeReply(buf).ok(); });
    }
    CHECK(decoded == 0);
  }
  SECTION("bit flips, byte changes, truncations and splices of valid requests") {
    const auto samples = SampleRequests();
    size_t decoded = 0, refused = 0;
    for (int i = 0; i < 20000; ++i) {
      const Request& orig = samples[rng() % samples.size()];
      std::string bytes = EncodeRequest(orig);
      switch (rng() % 4) {
        case 0:  // 1-4 bit flips
          for (int f = 0, nf = 1 + static_cast<int>(rng() % 4); f < nf; ++f) {
            bytes[rng() % bytes.size()] ^= static_cast<char>(1u << (rng() % 8));
          }
          break;
        case 1:  // a random byte value somewhere
          bytes[rng() % bytes.size()] = static_cast<char>(rng());
          break;
        case 2:  // cut and flip
          bytes.resize(rng() % bytes.size());
          if (!bytes.empty()) bytes[rng() % bytes.size()] ^= 0x40;
          break;
        case 3: {  // splice in random bytes
          std::string junk(1 + rng() % 8, '\0');
          for (auto& c : junk) c = static_cast<char>(rng());
          bytes.insert(rng() % (bytes.size() + 1), junk);
          break;
        }
      }
      dstk::Result<Request> r = Request{};
      NoThrowDecode([&] {
        r = DecodeRequest(Bytes(bytes));
        return r.ok();
      });
      if (!r.ok()) {
        ++refused;
        if (r.status().code() != Code::kInvalidArgument)
          FAIL("unexpected code: " << r.status().message());
        continue;
      }
      ++decoded;
      // Whatever got through must be a valid request that survives its own round trip.
      if (r->op == Op::kPutSlice) {
        REQUIRE(r->slice.has_value());
        REQUIRE(dstk::wire::ValidateName(r->slice->name).ok());
      }
      CHECK(dstk::wire::PeekRequestId(Bytes(bytes)) == r->id);
      const std::string again = EncodeRequest(*r);
      REQUIRE(DecodeRequest(Bytes(again)).ok());
    }
    CHECK(refused > 1000);  // the mutations do bite
    CHECK(decoded + refused == 20000);
  }
}

// ------------------------------------------------------------------------------------------
// Names

TEST_CASE("ValidateName accepts ordinary names and refuses unsafe ones", "[wire][name]") {
  using dstk::wire::ValidateName;
  for (const std::string& good :
       std::vector<std::string>{"a", "a/b", "logs/2026-11-25", "..a", "a..", ".hidden", "a/.b",
                                "with space", "données/été", "x~!@#$%^&*()_+-=[]{};':\",<>?",
                                std::string(dstk::wire::kMaxNameLength, 'n'),
                                std::string(99, 'a') + "/" + std::string(100, 'b')}) {
    INFO("name '" << good << "'");
    CHECK(ValidateName(good).ok());
  }
  const std::vector<std::string> bad = {
      "",
      ".",
      "..",
      "../x",
      "a/..",
      "a/../b",
      "./a",
      "a/./b",
      "a/.",
      "/abs",
      "/",
      "a/",
      "a//b",
      "//",
      std::string("a\0b", 3),
      std::string(1, '\0'),
      "a\nb",
      "a\tb",
      "\x01",
      "a\x1f",
      "a\x7f",
      "\r",
      std::string(dstk::wire::kMaxNameLength + 1, 'n'),
      std::string(100, 'a') + "/" + std::string(100, 'b'),  // 201 bytes
  };
  for (const auto& name : bad) {
    INFO("name of " << name.size() << " bytes");
    auto st = ValidateName(name);
    CHECK(st.code() == Code::kInvalidArgument);
    CHECK_FALSE(st.message().empty());
  }
}

TEST_CASE("ValidatePrefix accepts the empty string and a trailing slash", "[wire][name]") {
  using dstk::wire::ValidatePrefix;
  CHECK(ValidatePrefix("").ok());
  CHECK(ValidatePrefix("logs/").ok());
  CHECK(ValidatePrefix("logs").ok());
  CHECK(ValidatePrefix("logs/2026-").ok());
  CHECK(ValidatePrefix("a/b/").ok());
  CHECK(ValidatePrefix("/").code() == Code::kInvalidArgument);
  CHECK(ValidatePrefix("/logs/").code() == Code::kInvalidArgument);
  CHECK(ValidatePrefix("a//").code() == Code::kInvalidArgument);
  CHECK(ValidatePrefix("../").code() == Code::kInvalidArgument);
  CHECK(ValidatePrefix("./").code() == Code::kInvalidArgument);
  CHECK(ValidatePrefix("a/../").code() == Code::kInvalidArgument);
  CHECK(ValidatePrefix(std::string("a\0", 2)).code() == Code::kInvalidArgument);
  CHECK(ValidatePrefix(std::string(dstk::wire::kMaxNameLength + 1, 'p')).code() ==
        Code::kInvalidArgument);
}

TEST_CASE("bad names are refused inside requests of every op", "[wire][name][message]") {
  const std::vector<std::string> bad = {
      "",        "..",    "/abs",
      "a//b",    "a/./b", std::string("a\0b", 3),
      "\x1b[2J", "a/",    std::string(dstk::wire::kMaxNameLength + 1, 'x')};
  for (const auto& name : bad) {
    INFO("name of " << name.size() << " bytes");
    Request put;
    put.op = Op::kPutSlice;
    put.slice = SampleSlice(name);
    CHECK(DecodeRequest(Bytes(EncodeRequest(put))).status().code() == Code::kInvalidArgument);
    // The empty name is simply left out by the encoder; craft the requests by hand.
    for (const char* op : {"get_slice", "del_slice", "stat"}) {
      const std::string bytes =
          PackMap({F("v", 1u), F("op", op), F("id", 1u), F("name", name), F("rev", 1u)});
      CHECK(DecodeCode(bytes) == Code::kInvalidArgument);
    }
    Request pub;
    pub.op = Op::kPublish;
    pub.name = name;
    pub.manifest = SampleManifest();
    CHECK(DecodeRequest(Bytes(EncodeRequest(pub))).status().code() == Code::kInvalidArgument);
  }
  // A list prefix is validated too.
  for (const std::string prefix : {"/abs/", "a//", "../"}) {
    Request list;
    list.op = Op::kList;
    list.prefix = prefix;
    CHECK(DecodeRequest(Bytes(EncodeRequest(list))).status().code() == Code::kInvalidArgument);
  }
}

// ------------------------------------------------------------------------------------------
// Record streams

TEST_CASE("slice and object records round-trip through a file and RecordReader", "[wire][record]") {
  std::mt19937_64 rng(77);
  // A 3 MiB payload needs several reads of the reader's 1 MiB chunks.
  std::vector<uint8_t> big(3u << 20 | 12345);
  for (auto& b : big) b = static_cast<uint8_t>(rng());
  SliceHeader h1 = SampleSlice("big/object");
  h1.k = 1;
  h1.n = 3;
  h1.idx = 2;
  h1.seg = 0;
  h1.segs = 1;
  h1.seglen = static_cast<uint32_t>(big.size());
  h1.segsize = h1.seglen;
  h1.size = big.size();
  h1.crc = dstk::codec::ComputeSliceCrc(h1, big);
  SliceHeader h2 = SampleSlice("empty");
  h2.seglen = 0;
  h2.segs = dstk::codec::kUnknownCount;
  h2.size = dstk::codec::kUnknownSize;
  h2.crc = dstk::codec::ComputeSliceCrc(h2, {});
  Manifest m = SampleManifest();
  m.hashes.clear();  // object records (dsenc split) carry no slice digests
  m.root.clear();

  const std::string stream = dstk::wire::EncodeSliceRecord(h1, big) +
                             dstk::wire::EncodeSliceRecord(h2, {}) +
                             dstk::wire::EncodeObjectRecord("big/object", m);
  const int fd = TempFileWith(stream);
  ReadAll all = ReadRecords(fd);
  ::close(fd);
  INFO(all.end.message());
  REQUIRE(all.end.ok());
  REQUIRE(all.records.size() == 3);

  auto t1 = dstk::wire::RecordType(all.records[0].get());
  REQUIRE(t1.ok());
  CHECK(*t1 == "slice");
  auto s1 = dstk::wire::AsSliceRecord(all.records[0].get());
  REQUIRE(s1.ok());
  CheckSameSlice(s1->header, h1);
  REQUIRE(s1->payload.size() == big.size());
  CHECK(std::equal(big.begin(), big.end(), s1->payload.begin()));
  CHECK(dstk::codec::VerifySlice(s1->header, s1->payload).ok());

  auto s2 = dstk::wire::AsSliceRecord(all.records[1].get());
  REQUIRE(s2.ok());
  CheckSameSlice(s2->header, h2);
  CHECK(s2->payload.empty());
  CHECK(dstk::codec::VerifySlice(s2->header, s2->payload).ok());

  auto t3 = dstk::wire::RecordType(all.records[2].get());
  REQUIRE(t3.ok());
  CHECK(*t3 == "object");
  auto o3 = dstk::wire::AsObjectRecord(all.records[2].get());
  INFO(o3.status().message());
  REQUIRE(o3.ok());
  CHECK(o3->name == "big/object");
  CheckSameManifest(o3->manifest, m);
  // An object record lacks the slice fields and data.
  CHECK(dstk::wire::AsSliceRecord(all.records[2].get()).status().code() == Code::kCorruption);
}

// EncodeObjectRecord writes no "tomb" key; AsObjectRecord must not require one.
TEST_CASE("an object record written by EncodeObjectRecord reads back with AsObjectRecord",
          "[wire][record]") {
  // EncodeObjectRecord writes {type, name, rev, size, segs, segsize, k, n} (as record.h documents);
  // AsObjectRecord must accept exactly that.
  Manifest m = SampleManifest();
  m.hashes.clear();  // object records (dsenc split) carry no slice digests
  m.root.clear();
  const std::string rec = dstk::wire::EncodeObjectRecord("big/object", m);
  const int fd = PipeWith(rec);
  ReadAll all = ReadRecords(fd);
  ::close(fd);
  REQUIRE(all.end.ok());
  REQUIRE(all.records.size() == 1);
  auto o = dstk::wire::AsObjectRecord(all.records[0].get());
  INFO(o.status().message());
  REQUIRE(o.ok());
  CHECK(o->name == "big/object");
  CheckSameManifest(o->manifest, m);
}

// Regression: RecordReader::Next decides "clean end of stream" from unpacker_.nonparsed_size()
// alone; msgpack's unpacker consumes the complete tokens of a partial record (they count in
// parsed_size() instead), so a stream cut at a token boundary inside a record reads as a clean
// end and the partial record is silently dropped.
TEST_CASE("RecordReader reports a stream cut short as corruption", "[wire][record]") {
  std::vector<uint8_t> payload(200);
  for (size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<uint8_t>(i * 7);
  SliceHeader h = SampleSlice("cut");
  h.k = 2;
  h.seglen = 400;
  h.segsize = 400;
  h.crc = dstk::codec::ComputeSliceCrc(h, payload);
  const std::string first = dstk::wire::EncodeSliceRecord(h, payload);
  const std::string second = dstk::wire::EncodeObjectRecord("cut", SampleManifest());
  const std::string stream = first + second;

  std::string missed;  // cuts that read as a clean end of stream
  size_t checked = 0;
  for (size_t cut = 0; cut <= stream.size(); ++cut) {
    INFO("cut at " << cut << " of " << stream.size());
    const int fd = PipeWith(stream.substr(0, cut));
    ReadAll all = ReadRecords(fd);
    ::close(fd);
    if (cut == 0 || cut == first.size() || cut == stream.size()) {
      REQUIRE(all.end.ok());
      REQUIRE(all.records.size() == (cut == 0 ? 0u : cut == first.size() ? 1u : 2u));
      continue;
    }
    // Whole records before the cut come out; then the reader must say the stream is cut short.
    REQUIRE(all.records.size() == (cut < first.size() ? 0u : 1u));
    ++checked;
    if (all.end.code() != Code::kCorruption) {
      REQUIRE(all.end.ok());
      if (!missed.empty()) missed += ' ';
      missed += std::to_string(cut);
    }
  }
  CHECK(checked == stream.size() - 2);
  INFO("cuts read as a clean end of stream: " << missed);
  CHECK(missed.empty());
}

TEST_CASE("RecordReader refuses garbage and oversized records", "[wire][record]") {
  SECTION("a never-used msgpack byte") {
    const int fd = PipeWith(std::string("\xc1", 1));
    ReadAll all = ReadRecords(fd);
    ::close(fd);
    CHECK(all.end.code() == Code::kCorruption);
  }
  SECTION("a record claiming a 2 GiB binary") {
    std::string rec =
        "\x82\xa4type\xa5slice\xa4"
        "data";
    rec += Lit("\xc6\x7f\xff\xff\xff");
    rec += std::string(1000, 'x');
    const int fd = PipeWith(rec);
    ReadAll all = ReadRecords(fd);
    ::close(fd);
    CHECK(all.end.code() == Code::kCorruption);
  }
  SECTION("a record claiming 2^31 map entries") {
    const int fd = PipeWith(Lit("\xdf\x80\x00\x00\x00\xa4type"));
    ReadAll all = ReadRecords(fd);
    ::close(fd);
    CHECK(all.end.code() == Code::kCorruption);
  }
  SECTION("a record nested too deep") {
    const int fd = PipeWith(std::string(50, '\x91') + '\x01');
    ReadAll all = ReadRecords(fd);
    ::close(fd);
    CHECK(all.end.code() == Code::kCorruption);
  }
  SECTION("a record that is not a map with a string type") {
    msgpack::sbuffer buf;
    Packer p(buf);
    p.pack(42u);
    p.pack_map(1), p.pack("type"), p.pack(1u);
    p.pack_map(1), p.pack("name"), p.pack("x");
    p.pack_map(0);
    const int fd = PipeWith(Str(buf));
    ReadAll all = ReadRecords(fd);
    ::close(fd);
    REQUIRE(all.end.ok());
    REQUIRE(all.records.size() == 4);
    for (const auto& r : all.records) {
      CHECK(dstk::wire::RecordType(r.get()).status().code() == Code::kCorruption);
    }
  }
  SECTION("a slice record whose data is not binary") {
    msgpack::sbuffer buf;
    Packer p(buf);
    p.pack_map(13);
    p.pack("type"), p.pack("slice");
    const SliceHeader h = SampleSlice();
    p.pack("name"), p.pack(h.name);
    p.pack("rev"), p.pack(h.rev);
    p.pack("seg"), p.pack(h.seg);
    p.pack("segs"), p.pack(h.segs);
    p.pack("idx"), p.pack(h.idx);
    p.pack("k"), p.pack(h.k);
    p.pack("n"), p.pack(h.n);
    p.pack("size"), p.pack(h.size);
    p.pack("seglen"), p.pack(h.seglen);
    p.pack("segsize"), p.pack(h.segsize);
    p.pack("crc"), p.pack(h.crc);
    p.pack("data"), p.pack("not binary");
    const int fd = PipeWith(Str(buf));
    ReadAll all = ReadRecords(fd);
    ::close(fd);
    REQUIRE(all.records.size() == 1);
    CHECK(dstk::wire::AsSliceRecord(all.records[0].get()).status().code() == Code::kCorruption);
  }
}

TEST_CASE("RecordToJson prints binary as its length and CRC32C", "[wire][record]") {
  const std::string text = "123456789";
  const std::span<const uint8_t> payload = Bytes(text);
  SliceHeader h;
  h.name = "a/b";
  h.rev = 1;
  h.seg = 0;
  h.segs = 1;
  h.idx = 0;
  h.k = 1;
  h.n = 1;
  h.size = 9;
  h.seglen = 9;
  h.segsize = 4194304;
  h.crc = dstk::codec::ComputeSliceCrc(h, payload);
  const std::string rec = dstk::wire::EncodeSliceRecord(h, payload);
  auto oh = msgpack::unpack(rec.data(), rec.size());
  const std::string json = dstk::wire::RecordToJson(oh.get());
  const std::string want =
      std::string("{\"type\":\"slice\",\"name\":\"a/b\",\"rev\":1,\"seg\":0,\"segs\":1,") +
      "\"idx\":0,\"k\":1,\"n\":1,\"size\":9,\"seglen\":9,\"segsize\":4194304,\"crc\":" +
      std::to_string(h.crc) + ",\"data\":{\"bytes\":9,\"crc32c\":\"e3069283\"}}";
  CHECK(json == want);

  const std::string obj = dstk::wire::EncodeObjectRecord("a/b", SampleManifest());
  auto oh2 = msgpack::unpack(obj.data(), obj.size());
  CHECK(dstk::wire::RecordToJson(oh2.get()) ==
        "{\"type\":\"object\",\"name\":\"a/b\",\"rev\":77,\"size\":123456789,\"segs\":30,"
        "\"segsize\":4194304,\"k\":3,\"n\":5}");

  // An empty binary, a leading-zero CRC, and a name that needs JSON escaping.
  h.name = "q\"uote\\";
  const std::vector<uint8_t> zero_crc_data = {};
  const std::string rec2 = dstk::wire::EncodeSliceRecord(h, zero_crc_data);
  auto oh3 = msgpack::unpack(rec2.data(), rec2.size());
  const std::string json2 = dstk::wire::RecordToJson(oh3.get());
  CHECK(json2.find("\"name\":\"q\\\"uote\\\\\"") != std::string::npos);
  CHECK(json2.find("\"data\":{\"bytes\":0,\"crc32c\":\"00000000\"}") != std::string::npos);
}

// Regression: RecordToJson called nlohmann::json::dump() with its default error handler, which
// throws type_error.316 on a string that is not valid UTF-8. Names must be UTF-8, but a record
// stream is untrusted input: a Latin-1 "caf\xe9" in one must not make `dsenc inspect` die.
TEST_CASE("RecordToJson never throws on names that are not UTF-8", "[wire][record]") {
  const std::string latin1 = "caf\xe9";
  REQUIRE_FALSE(dstk::wire::ValidateName(latin1).ok());
  SliceHeader h = SampleSlice(latin1);
  h.seglen = 0;
  h.crc = dstk::codec::ComputeSliceCrc(h, {});
  const std::string rec = dstk::wire::EncodeSliceRecord(h, {});
  auto oh = msgpack::unpack(rec.data(), rec.size());
  std::string json;
  CHECK_NOTHROW(json = dstk::wire::RecordToJson(oh.get()));
  CHECK(json.find("\"type\":\"slice\"") != std::string::npos);
  // The same for a key that is not UTF-8.
  const std::string odd = PackMap({F("type", "x"), F("\xff\xfe", 1u)});
  auto oh2 = msgpack::unpack(odd.data(), odd.size());
  CHECK_NOTHROW(json = dstk::wire::RecordToJson(oh2.get()));
}

TEST_CASE("batched claim requests and their per-key results round-trip", "[wire][message]") {
  Request r;
  r.op = Op::kLockReadDelete;
  r.id = 41;
  r.ballot = {1, 0xfeedULL};
  r.lease_ms = 5000;
  r.mode = dstk::wire::ClaimMode::kLease;
  for (uint64_t i = 0; i < dstk::wire::kMaxBatchKeys; ++i)
    r.keys.push_back({"q/" + std::to_string(1000 + i), 3 + i, i % 3 == 0 ? 0 : 0xabc + i});
  auto back = DecodeRequest(Bytes(EncodeRequest(r)));
  REQUIRE(back.ok());
  REQUIRE(back->keys.size() == r.keys.size());
  for (size_t i = 0; i < r.keys.size(); ++i) {
    CHECK(back->keys[i].name == r.keys[i].name);
    CHECK(back->keys[i].n == r.keys[i].n);
    CHECK(back->keys[i].owner == r.keys[i].owner);  // absent on the wire when 0
  }
  CHECK(back->ballot.id == r.ballot.id);
  CHECK(back->mode == r.mode);
  CHECK(back->name.empty());

  SECTION("refused: too many keys, a key at ballot 0, a bad name, name and keys together") {
    Request bad = r;
    bad.keys.push_back({"q/one-too-many", 1, 0});
    CHECK(DecodeRequest(Bytes(EncodeRequest(bad))).status().code() == Code::kInvalidArgument);
    bad = r;
    bad.keys[3].n = 0;
    CHECK(DecodeRequest(Bytes(EncodeRequest(bad))).status().code() == Code::kInvalidArgument);
    bad = r;
    bad.keys[5].name = "../escape";
    CHECK(DecodeRequest(Bytes(EncodeRequest(bad))).status().code() == Code::kInvalidArgument);
    bad = r;
    bad.name = "q/0001";
    CHECK(DecodeRequest(Bytes(EncodeRequest(bad))).status().code() == Code::kInvalidArgument);
  }

  Reply reply;
  reply.id = 41;
  dstk::wire::KeyResult ok;
  ok.claim = dstk::wire::ClaimView{};
  ok.claim->promised = {3, 0xfeedULL};
  ok.claim->lock_ms_left = 5000;
  ok.slice = SampleSlice();
  dstk::wire::KeyResult locked;
  locked.status = ReplyStatus::kLocked;
  locked.error = "locked by ballot 9/2";
  locked.claim = dstk::wire::ClaimView{};
  locked.claim->has_accepted = true;
  locked.claim->accepted = {9, 2};
  locked.claim->owner = 2;
  dstk::wire::KeyResult missing;
  missing.status = ReplyStatus::kNotFound;
  reply.results = {ok, locked, missing};
  auto got = DecodeReply(Bytes(EncodeReply(reply)));
  REQUIRE(got.ok());
  REQUIRE(got->results.size() == 3);
  CHECK(got->results[0].ok());
  REQUIRE(got->results[0].slice.has_value());
  CHECK(got->results[0].slice->name == SampleSlice().name);
  CHECK(got->results[0].claim->promised == ok.claim->promised);
  CHECK(got->results[0].claim->lock_ms_left == 5000);
  CHECK(got->results[1].status == ReplyStatus::kLocked);
  CHECK(got->results[1].error == locked.error);
  CHECK(got->results[1].claim->owner == 2);
  CHECK_FALSE(got->results[1].slice.has_value());
  CHECK(got->results[2].status == ReplyStatus::kNotFound);
  CHECK_FALSE(got->results[2].claim.has_value());
}

TEST_CASE("a stat's slice_max is an unsigned 32-bit count", "[wire][message][hostile]") {
  const auto stat = std::vector<Field>{F("v", 1u), F("op", "stat"), F("id", 1u), F("name", "in/1")};
  auto with = [&](std::vector<Field> extra) {
    auto fields = stat;
    fields.insert(fields.end(), extra.begin(), extra.end());
    return DecodeCode(PackMap(fields));
  };
  CHECK(with({F("slice_max", 0u)}) == Code::kOk);
  CHECK(with({F("slice_max", 0xffffffffu)}) == Code::kOk);
  CHECK(with({F("slice_max", uint64_t{1} << 32)}) == Code::kInvalidArgument);
  CHECK(with({F("slice_max", -1)}) == Code::kInvalidArgument);
  CHECK(with({F("slice_max", "65536")}) == Code::kInvalidArgument);
  CHECK(with({F("slice_max", 1.5)}) == Code::kInvalidArgument);
  CHECK(with({F("slice_max", true)}) == Code::kInvalidArgument);
  CHECK(with({Raw("slice_max", [](Packer& p) { p.pack_nil(); })}) == Code::kInvalidArgument);
  // Only a stat carries it: a get_slice's is not sent.
  Request get;
  get.op = Op::kGetSlice;
  get.name = "in/1";
  get.slice_max = 100;
  auto back = DecodeRequest(Bytes(EncodeRequest(get)));
  REQUIRE(back.ok());
  CHECK(back->slice_max == 0);
}

TEST_CASE("a list's lane is checked: at most 64 lanes, lane below lanes",
          "[wire][message][hostile]") {
  const auto list = std::vector<Field>{F("v", 1u), F("op", "list"), F("id", 1u), F("prefix", "q/")};
  auto with = [&](std::vector<Field> extra) {
    auto fields = list;
    fields.insert(fields.end(), extra.begin(), extra.end());
    return DecodeCode(PackMap(fields));
  };
  CHECK(with({}) == Code::kOk);
  CHECK(with({F("lanes", 4u), F("lane", 3u)}) == Code::kOk);
  CHECK(with({F("lanes", 64u), F("lane", 63u)}) == Code::kOk);
  CHECK(with({F("lanes", 1u), F("lane", 0u)}) == Code::kOk);  // one lane: every name
  CHECK(with({F("lanes", 0u)}) == Code::kOk);
  CHECK(with({F("lanes", 4u), F("lane", 4u)}) == Code::kInvalidArgument);
  CHECK(with({F("lanes", 65u), F("lane", 0u)}) == Code::kInvalidArgument);
  CHECK(with({F("lanes", 0xffffffffu), F("lane", 1u)}) == Code::kInvalidArgument);
  CHECK(with({F("lane", 2u)}) == Code::kInvalidArgument);  // a lane of no lanes
  CHECK(with({F("lanes", 1u), F("lane", 1u)}) == Code::kInvalidArgument);
  CHECK(with({F("lanes", -1)}) == Code::kInvalidArgument);
  CHECK(with({F("lanes", "4")}) == Code::kInvalidArgument);
  CHECK(with({F("lanes", 4u), F("lane", 1.5)}) == Code::kInvalidArgument);
  CHECK(with({F("lanes", uint64_t{1} << 32)}) == Code::kInvalidArgument);
  // A lane's page cut short names where it stopped; the name is checked like any other.
  Reply r;
  r.id = 3;
  r.more = true;
  r.scanned = "q/0005f1c2a3b4c5d6-0a1b2c3d";
  const std::string bytes = EncodeReply(r);
  auto back = DecodeReply(Bytes(bytes));
  REQUIRE(back.ok());
  CHECK(back->scanned == r.scanned);
  CHECK(back->more);
  for (const char* bad : {"../x", "/abs", "a//b", ""}) {
    msgpack::sbuffer buf;
    Packer p(buf);
    p.pack_map(4);
    p.pack("id"), p.pack(3u);
    p.pack("status"), p.pack("ok");
    p.pack("more"), p.pack(true);
    p.pack("scanned"), p.pack(std::string(bad));
    INFO(bad);
    CHECK_FALSE(DecodeReply(Bytes(Str(buf))).ok());
  }
}

TEST_CASE("a name's lane is FNV-1a of its bytes, the same everywhere", "[wire][name]") {
  // FNV-1a 64 of "" is its offset basis, 0xcbf29ce484222325; of "a", 0xaf63dc4c8601ec8c.
  CHECK(dstk::wire::LaneOf("", 1000) == 0xcbf29ce484222325ull % 1000);
  CHECK(dstk::wire::LaneOf("a", 1000) == 0xaf63dc4c8601ec8cull % 1000);
  CHECK(dstk::wire::LaneOf("anything", 1) == 0);
  CHECK(dstk::wire::LaneOf("anything", 0) == 0);  // no lanes: one
  size_t per[4] = {0, 0, 0, 0};
  for (int i = 0; i < 4000; ++i) ++per[dstk::wire::LaneOf("q/" + std::to_string(i), 4)];
  for (size_t n : per) CHECK(n > 800);  // spread over the lanes
}

TEST_CASE("a claim view's state is the same string on the wire, and only a known one decodes",
          "[wire][message]") {
  using dstk::wire::ClaimPhase;
  const std::pair<ClaimPhase, std::string> phases[] = {{ClaimPhase::kPending, "pending"},
                                                       {ClaimPhase::kConsumed, "consumed"},
                                                       {ClaimPhase::kDone, "done"}};
  for (const auto& [phase, name] : phases) {
    CHECK(dstk::wire::ClaimPhaseName(phase) == name);
    CHECK(dstk::wire::ClaimPhaseFromName(name) == phase);
    Reply reply;
    reply.id = 7;
    dstk::wire::KeyResult r;
    r.claim = dstk::wire::ClaimView{};
    r.claim->state = phase;
    reply.results = {r};
    const std::string bytes = EncodeReply(reply);
    // Encoded as a msgpack string of the name (fixstr: 0xa0 | length), as before the enum.
    CHECK(bytes.find(std::string(1, static_cast<char>(0xa0 | name.size())) + name) !=
          std::string::npos);
    auto got = DecodeReply(Bytes(bytes));
    REQUIRE(got.ok());
    REQUIRE(got->results.size() == 1);
    REQUIRE(got->results[0].claim.has_value());
    CHECK(got->results[0].claim->state == phase);
  }
  CHECK_FALSE(dstk::wire::ClaimPhaseFromName("Done").has_value());
  CHECK_FALSE(dstk::wire::ClaimPhaseFromName("").has_value());

  SECTION("an unknown state is a decode error, not a crash") {
    Reply reply;
    reply.id = 7;
    dstk::wire::KeyResult r;
    r.claim = dstk::wire::ClaimView{};
    r.claim->state = ClaimPhase::kDone;
    reply.results = {r};
    std::string bytes = EncodeReply(reply);
    const size_t at = bytes.find(std::string(1, static_cast<char>(0xa4)) + "done");
    REQUIRE(at != std::string::npos);
    bytes.replace(at + 1, 4, "gone");
    auto got = DecodeReply(Bytes(bytes));
    CHECK_FALSE(got.ok());
  }
}
