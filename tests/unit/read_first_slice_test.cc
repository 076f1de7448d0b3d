// A reader's stat carries the first slice (wire `slice_max`, client::Locate's
// UnitView::first_slice): what a unit sends and when it sends nothing, with rights; and reads
// of small objects that take one round, against units served in this process that count the
// requests they serve (served_units.h).
#include <sys/mman.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "client/find.h"
#include "client/locate.h"
#include "client/object_io.h"
#include "codec/slice.h"
#include "node/allow_list.h"
#include "node/service.h"
#include "object_files.h"
#include "served_units.h"
#include "store/slice_store.h"
#include "util/unique_fd.h"

namespace {

using dstk::UniqueFd;
using dstk::client::Thresholds;
using dstk::test::FileOf;
using dstk::test::Network;
using dstk::test::ReadBack;
using dstk::wire::Op;

void Put(dstk::net::Cluster& c, const std::string& name, const std::string& bytes,
         const Thresholds& t, uint32_t segment_size = dstk::codec::kDefaultSegmentSize) {
  UniqueFd fd = FileOf(bytes);
  dstk::client::PutOptions o;
  o.t = t;
  o.segment_size = segment_size;
  auto m = dstk::client::PutObject(c, name, fd.get(), o);
  INFO((m.ok() ? "" : m.status().message()));
  REQUIRE(m.ok());
}

std::string Bytes(size_t n) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + (i * 7 + i / 13) % 26);
  return s;
}

// A stat of `name` with `slice_max`, handled by `service` for `caller`; the reply and whether a
// payload frame came with it (its size in `payload_size`).
dstk::wire::Reply StatWith(dstk::node::Service& service, const std::string& name,
                           uint32_t slice_max, const dstk::node::Caller& caller,
                           size_t* payload_size) {
  dstk::wire::Request r;
  r.op = Op::kStat;
  r.id = 7;
  r.name = name;
  r.slice_max = slice_max;
  const std::string header = dstk::wire::EncodeRequest(r);
  const dstk::node::Outgoing out = service.Handle(
      std::span(reinterpret_cast<const uint8_t*>(header.data()), header.size()), {}, false, caller);
  auto reply = dstk::wire::DecodeReply(
      std::span(reinterpret_cast<const uint8_t*>(out.header.data()), out.header.size()));
  REQUIRE(reply.ok());
  *payload_size = out.has_payload ? out.payload.size() : 0;
  CHECK(out.has_payload == reply->slice.has_value());
  return *reply;
}

}  // namespace

TEST_CASE("read first slice: a small object is read in one round of stats", "[client]") {
  Network net("lllll");
  auto c = net.Client();
  const Thresholds t{5, 3, 4};
  const std::string input = Bytes(4096);
  Put(c, "in/small", input, t);
  const size_t stats = net.Served(Op::kStat);
  CHECK(ReadBack(c, "in/small", t) == input);
  CHECK(net.Served(Op::kGetSlice) == 0);
  CHECK(net.Served(Op::kStat) - stats <= 5);
}

TEST_CASE("read first slice: larger slices and later segments are asked for", "[client]") {
  Network net("lllll");
  auto c = net.Client();
  const Thresholds t{5, 3, 4};
  // Slices of 400 KiB / 3, over kReadFirstSliceMax: no slice comes with the stat, and the read
  // asks k units for theirs.
  const std::string large = Bytes(400 * 1024);
  Put(c, "in/large", large, t);
  CHECK(ReadBack(c, "in/large", t) == large);
  CHECK(net.Served(Op::kGetSlice) == 3);
  // Four segments of 3 KiB: the first from the stats, the other three from k units each.
  const std::string segmented = Bytes(4 * 3072);
  Put(c, "in/segmented", segmented, t, 3072);
  const size_t before = net.Served(Op::kGetSlice);
  CHECK(ReadBack(c, "in/segmented", t) == segmented);
  CHECK(net.Served(Op::kGetSlice) - before == 3 * 3);
}

TEST_CASE("read first slice: a new revision and a removal are read right", "[client]") {
  Network net("lllll");
  auto c = net.Client();
  const Thresholds t{5, 3, 4};
  Put(c, "in/x", "first revision", t);
  Put(c, "in/x", "second revision, longer", t);
  CHECK(ReadBack(c, "in/x", t) == "second revision, longer");
  REQUIRE(dstk::client::RemoveObject(c, "in/x", t).ok());
  UniqueFd fd(memfd_create("first-slice-gone", 0));
  dstk::client::GetOptions g;
  g.t = t;
  auto gone = dstk::client::ReadObject(c, "in/x", fd.get(), g);
  REQUIRE_FALSE(gone.ok());
  CHECK(gone.status().code() == dstk::Code::kNotFound);
}

TEST_CASE("read first slice: a unit sends it only when asked, small enough and readable",
          "[server]") {
  // The object is put through a one-unit network, then the unit's store is served again by a
  // Service driven directly, so that the caller's rights can be set.
  dstk::test::TempDir dir("dstk-first-slice");
  const Thresholds t{1, 1, 1};
  {
    auto served = std::make_unique<dstk::test::ServedUnit>(dir.path());
    dstk::net::Cluster c({served->endpoint()}, std::chrono::milliseconds(2000));
    Put(c, "photos/1", Bytes(1000), t);
    Put(c, "photos/2", Bytes(1000), t);
    REQUIRE(dstk::client::RemoveObject(c, "photos/2", t).ok());
  }
  auto store = dstk::store::SliceStore::Open((std::filesystem::path(dir.path()) / "unit").string());
  REQUIRE(store.ok());
  dstk::node::Service service(**store, dstk::test::kQuiet, "test");
  const dstk::node::Caller anyone{};
  size_t payload = 0;

  dstk::wire::Reply r = StatWith(service, "photos/1", 0, anyone, &payload);
  REQUIRE(r.committed);
  CHECK_FALSE(r.slice);

  r = StatWith(service, "photos/1", 64 * 1024, anyone, &payload);
  REQUIRE(r.committed);
  REQUIRE(r.slice);
  CHECK(r.slice->rev == r.committed->rev);
  CHECK(r.slice->seg == 0);
  CHECK(r.slice->name == "photos/1");
  CHECK(payload >= 1000);

  // Too small a bound: the stat alone.
  r = StatWith(service, "photos/1", static_cast<uint32_t>(payload - 1), anyone, &payload);
  REQUIRE(r.committed);
  CHECK_FALSE(r.slice);

  // A key that may stat the name but not read it gets no slice; one that may read it does.
  const std::string key = "(b[FU-s^^!cQjKvbz-K&-!?Fnu[eI6g&[tw^jc4Z";
  const std::string reader_key = "C.ay0-lSu^&xIFs5Lrqs*Nmqou4i5SEpsv{j2c>!";
  auto allow = dstk::node::ParseAllowList(key + " write=photos/\n" + reader_key + " read=photos/\n",
                                          "allow");
  REQUIRE(allow.ok());
  const dstk::node::Caller writer{key, &allow->at(key)};
  r = StatWith(service, "photos/1", 64 * 1024, writer, &payload);
  CHECK(r.status == dstk::wire::ReplyStatus::kOk);
  REQUIRE(r.committed);
  CHECK_FALSE(r.slice);
  const dstk::node::Caller reader{reader_key, &allow->at(reader_key)};
  r = StatWith(service, "photos/1", 64 * 1024, reader, &payload);
  CHECK(r.slice);

  // A removed object: its tombstone, no slice.
  r = StatWith(service, "photos/2", 64 * 1024, anyone, &payload);
  REQUIRE(r.committed);
  CHECK(r.committed->tomb);
  CHECK_FALSE(r.slice);

  // An unknown name: not found, no slice.
  r = StatWith(service, "photos/none", 64 * 1024, anyone, &payload);
  CHECK(r.status == dstk::wire::ReplyStatus::kNotFound);
  CHECK_FALSE(r.slice);
}
