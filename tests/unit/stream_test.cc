// dsenc split / join offline (stream/split_join.h): a split stream holds n slice records per
// segment and one object record; any k good slices per segment, in any order, join back to
// the bytes; too few, damaged, mixed or cut streams are refused as corruption.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdint>
#include <msgpack.hpp>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "stream/split_join.h"
#include "temp_dir.h"
#include "util/fd_io.h"
#include "wire/record.h"

namespace {

using dstk::Code;
using dstk::stream::SplitOptions;

// One record of a split stream: its bytes, and its slice header when it is a slice record.
struct Rec {
  std::string raw;
  std::optional<dstk::codec::SliceHeader> slice;
  std::vector<uint8_t> payload;
};

std::string Random(size_t bytes, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string s(bytes, '\0');
  for (char& c : s) c = static_cast<char>(rng());
  return s;
}

void WriteFile(const std::string& path, const std::string& body) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  REQUIRE(fd >= 0);
  REQUIRE(dstk::WriteAll(fd, {reinterpret_cast<const uint8_t*>(body.data()), body.size()}).ok());
  ::close(fd);
}

std::string ReadFile(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  REQUIRE(fd >= 0);
  std::string out;
  char buf[65536];
  for (ssize_t got; (got = ::read(fd, buf, sizeof buf)) > 0;) out.append(buf, got);
  ::close(fd);
  return out;
}

class Streams {
 public:
  Streams() : dir_("dstk-stream") {}
  std::string Path(const std::string& name) const { return dir_.path() + "/" + name; }

  // Splits `data` (read from a regular file) into records.
  std::vector<Rec> Split(const std::string& data, const SplitOptions& o) {
    WriteFile(Path("in"), data);
    const int in = ::open(Path("in").c_str(), O_RDONLY | O_CLOEXEC);
    const int out = ::open(Path("split").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    REQUIRE(in >= 0);
    REQUIRE(out >= 0);
    const dstk::Status st = dstk::stream::Split(in, out, o);
    ::close(in);
    ::close(out);
    REQUIRE(st.ok());
    return Records(Path("split"));
  }

  // The records of a stream file, each re-packed on its own.
  static std::vector<Rec> Records(const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    REQUIRE(fd >= 0);
    dstk::wire::RecordReader reader(fd);
    std::vector<Rec> out;
    for (;;) {
      auto next = reader.Next();
      REQUIRE(next.ok());
      if (!*next) break;
      const msgpack::object& obj = (*next)->get();
      Rec r;
      msgpack::sbuffer buf;
      msgpack::pack(buf, obj);
      r.raw.assign(buf.data(), buf.size());
      if (*dstk::wire::RecordType(obj) == "slice") {
        auto s = dstk::wire::AsSliceRecord(obj);
        REQUIRE(s.ok());
        r.slice = s->header;
        r.payload.assign(s->payload.begin(), s->payload.end());
      }
      out.push_back(std::move(r));
    }
    ::close(fd);
    return out;
  }

  // Joins the given stream bytes; the status, and the bytes written.
  std::pair<dstk::Status, std::string> Join(const std::string& stream) {
    WriteFile(Path("join-in"), stream);
    const int in = ::open(Path("join-in").c_str(), O_RDONLY | O_CLOEXEC);
    const int out = ::open(Path("joined").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    REQUIRE(in >= 0);
    REQUIRE(out >= 0);
    dstk::Status st = dstk::stream::Join(in, out);
    ::close(in);
    ::close(out);
    return {st, ReadFile(Path("joined"))};
  }

 private:
  dstk::test::TempDir dir_;
};

std::string Concat(const std::vector<Rec>& recs) {
  std::string s;
  for (const auto& r : recs) s += r.raw;
  return s;
}

SplitOptions Options(uint32_t k, uint32_t n, uint32_t segment_size) {
  SplitOptions o;
  o.k = k;
  o.n = n;
  o.name = "lab/obj";
  o.segment_size = segment_size;
  return o;
}

}  // namespace

TEST_CASE("split: n slice records per segment, then one object record", "[stream]") {
  Streams s;
  const std::string data = Random(10000, 1);
  const auto recs = s.Split(data, Options(2, 4, 4096));
  REQUIRE(recs.size() == 3 * 4 + 1);  // ceil(10000 / 4096) segments
  for (size_t i = 0; i < 12; ++i) {
    REQUIRE(recs[i].slice);
    const auto& h = *recs[i].slice;
    CHECK(h.name == "lab/obj");
    CHECK(h.seg == i / 4);
    CHECK(h.idx == i % 4);
    CHECK(h.k == 2);
    CHECK(h.n == 4);
    CHECK(h.segs == 3);
    CHECK(h.size == 10000);
    CHECK(h.seglen == (h.seg < 2 ? 4096u : 10000u - 2 * 4096u));
    CHECK(recs[i].payload.size() == h.PayloadLength());
    CHECK(h.rev == recs[0].slice->rev);  // one revision for the whole stream
  }
  CHECK_FALSE(recs.back().slice);  // the object record closes it
  auto [st, out] = s.Join(Concat(recs));
  REQUIRE(st.ok());
  CHECK(out == data);
}

TEST_CASE("join: any k slices per segment, in any order, rebuild the bytes", "[stream]") {
  Streams s;
  const std::string data = Random(20000, 2);
  const auto recs = s.Split(data, Options(2, 5, 4096));
  // Per segment a different pair of pillars, the whole stream reversed.
  std::vector<Rec> kept;
  for (const auto& r : recs) {
    if (!r.slice) {
      kept.push_back(r);
      continue;
    }
    const uint32_t a = r.slice->seg % 5, b = (r.slice->seg + 2) % 5;
    if (r.slice->idx == a || r.slice->idx == b) kept.push_back(r);
  }
  REQUIRE(kept.size() == 5 * 2 + 1);
  std::reverse(kept.begin(), kept.end());
  auto [st, out] = s.Join(Concat(kept));
  REQUIRE(st.ok());
  CHECK(out == data);
}

TEST_CASE("join: a damaged slice is skipped when enough good ones remain, else refused",
          "[stream]") {
  Streams s;
  const std::string data = Random(9000, 3);
  auto recs = s.Split(data, Options(2, 3, 4096));
  // Flip a payload byte of segment 0, pillar 0, keeping its header (and so its CRC).
  Rec& victim = recs[0];
  REQUIRE(victim.slice);
  REQUIRE(victim.slice->seg == 0);
  victim.payload[victim.payload.size() / 2] ^= 0x40;
  victim.raw = dstk::wire::EncodeSliceRecord(*victim.slice, victim.payload);
  {
    auto [st, out] = s.Join(Concat(recs));
    REQUIRE(st.ok());  // pillars 1 and 2 make up for it
    CHECK(out == data);
  }
  // Without pillar 1 of segment 0, the damaged slice leaves segment 0 one short.
  std::vector<Rec> short_one;
  for (const auto& r : recs) {
    if (!(r.slice && r.slice->seg == 0 && r.slice->idx == 1)) short_one.push_back(r);
  }
  auto [st, out] = s.Join(Concat(short_one));
  REQUIRE_FALSE(st.ok());
  CHECK(st.code() == Code::kCorruption);
  CHECK(st.message().find("segment 0") != std::string::npos);
}

TEST_CASE("join: cut, mixed, empty and garbage streams are refused", "[stream]") {
  Streams s;
  const std::string data = Random(9000, 4);
  const auto recs = s.Split(data, Options(2, 3, 4096));

  // Split from a file, every slice knows the size and segment count: the object record is not
  // needed (a pipe's stream needs it, see below).
  std::vector<Rec> no_end(recs.begin(), recs.end() - 1);
  auto [no_end_st, no_end_out] = s.Join(Concat(no_end));
  REQUIRE(no_end_st.ok());
  CHECK(no_end_out == data);

  // A whole segment missing (the last one's records dropped).
  std::vector<Rec> no_last;
  for (const auto& r : recs) {
    if (!(r.slice && r.slice->seg == 2)) no_last.push_back(r);
  }
  CHECK(s.Join(Concat(no_last)).first.code() == Code::kCorruption);

  // A record cut in the middle.
  const std::string whole = Concat(recs);
  CHECK_FALSE(s.Join(whole.substr(0, whole.size() - recs.back().raw.size() - 7)).first.ok());

  // Slices of another object in the same stream.
  Streams other;
  auto other_recs = other.Split(Random(9000, 5), Options(2, 3, 4096));
  std::vector<Rec> mixed(recs.begin(), recs.begin() + 3);
  mixed.push_back(other_recs[3]);
  auto [mixed_st, mixed_out] = s.Join(Concat(mixed));
  CHECK(mixed_st.code() == Code::kCorruption);
  CHECK(mixed_st.message().find("mixes") != std::string::npos);

  auto [empty_st, empty_out] = s.Join("");
  CHECK(empty_st.code() == Code::kCorruption);
  CHECK(empty_out.empty());
  CHECK_FALSE(s.Join("this is not a record stream").first.ok());
}

TEST_CASE("split: impossible k, n or segment size are refused before any output", "[stream]") {
  Streams s;
  WriteFile(s.Path("in"), "some bytes");
  for (const SplitOptions& bad :
       {Options(0, 3, 4096), Options(4, 3, 4096), Options(2, 3, 0), Options(2, 3, 0xffffffffu)}) {
    INFO("k=" << bad.k << " n=" << bad.n << " segsize=" << bad.segment_size);
    const int in = ::open(s.Path("in").c_str(), O_RDONLY | O_CLOEXEC);
    const int out = ::open(s.Path("out").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    REQUIRE(in >= 0);
    REQUIRE(out >= 0);
    const dstk::Status st = dstk::stream::Split(in, out, bad);
    ::close(in);
    ::close(out);
    CHECK_FALSE(st.ok());
    CHECK(ReadFile(s.Path("out")).empty());
  }
}

TEST_CASE("split: a pipe splits like a file", "[stream]") {
  Streams s;
  const std::string data = Random(30000, 6);  // fits a pipe's buffer: no writer thread needed
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  REQUIRE(
      dstk::WriteAll(fds[1], {reinterpret_cast<const uint8_t*>(data.data()), data.size()}).ok());
  ::close(fds[1]);
  const int out = ::open(s.Path("piped").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  REQUIRE(out >= 0);
  const dstk::Status st = dstk::stream::Split(fds[0], out, Options(3, 5, 8192));
  ::close(fds[0]);
  ::close(out);
  REQUIRE(st.ok());
  const auto recs = Streams::Records(s.Path("piped"));
  CHECK(recs.size() == 4 * 5 + 1);
  // Read from a pipe the length is unknown until the end: the slices do not know it, the
  // object record does.
  REQUIRE(recs[0].slice);
  CHECK(recs[0].slice->segs == dstk::codec::kUnknownCount);
  CHECK_FALSE(recs.back().slice);
  auto [jst, joined] = s.Join(Concat(recs));
  REQUIRE(jst.ok());
  CHECK(joined == data);
  // Without it the end of the object cannot be checked, so the join is refused.
  std::vector<Rec> no_end(recs.begin(), recs.end() - 1);
  auto [cut_st, cut_out] = s.Join(Concat(no_end));
  CHECK(cut_st.code() == Code::kCorruption);
  CHECK(cut_st.message().find("object record") != std::string::npos);
}
