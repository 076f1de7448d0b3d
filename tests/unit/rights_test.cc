// Rights per client key (lib/node/rights.h, lib/node/allow_list.h): the allow-list's syntax
// and every class of bad line, the op -> right table, scopes, and a unit refusing and logging.
#include "node/rights.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "node/allow_list.h"
#include "node/service.h"
#include "store/slice_store.h"
#include "temp_dir.h"
#include "wire/name.h"

namespace {

using dstk::Code;
using dstk::node::AllowList;
using dstk::node::CheckRights;
using dstk::node::ParseAllowList;
using dstk::node::Right;
using dstk::node::RightFor;
using dstk::node::Rights;
using dstk::wire::Op;
using dstk::wire::Request;

// Two well-formed Z85 public keys (40 characters).
const std::string kA = "(b[FU-s^^!cQjKvbz-K&-!?Fnu[eI6g&[tw^jc4Z";
const std::string kB = "C.ay0-lSu^&xIFs5Lrqs*Nmqou4i5SEpsv{j2c>!";

const std::string kQueueKey = "jobs/0005f1c2a3b4c5d6-0a1b2c3d";
const std::string kOtherQueueKey = "other/0005f1c2a3b4c5d6-0a1b2c3d";

// The error of parsing `text`, which must fail.
std::string ErrorOf(const std::string& text) {
  auto parsed = ParseAllowList(text, "allow");
  REQUIRE_FALSE(parsed.ok());
  CHECK(parsed.status().code() == Code::kInvalidArgument);
  return parsed.status().message();
}

Rights Only(const std::string& grants) {
  auto parsed = ParseAllowList(kA + " " + grants + "\n", "allow");
  REQUIRE(parsed.ok());
  return parsed->at(kA);
}

Request Named(Op op, const std::string& name) {
  Request r;
  r.op = op;
  r.name = name;
  return r;
}

Request Put(const std::string& name) {
  Request r;
  r.op = Op::kPutSlice;
  r.slice = dstk::codec::SliceHeader{};
  r.slice->name = name;
  return r;
}

Request Publish(const std::string& name, bool tomb = false) {
  Request r = Named(Op::kPublish, name);
  r.manifest = dstk::wire::Manifest{};
  r.manifest->tomb = tomb;
  return r;
}

Request List(const std::string& prefix) {
  Request r;
  r.op = Op::kList;
  r.prefix = prefix;
  return r;
}

bool Allowed(const Rights& rights, const Request& r) {
  const dstk::Status st = CheckRights(rights, r);
  if (!st.ok()) CHECK(st.code() == Code::kForbidden);
  return st.ok();
}

}  // namespace

TEST_CASE("an allow-list of bare keys grants every right, as before rights existed", "[rights]") {
  auto parsed = ParseAllowList("# clients\n\n" + kA + "\n  " + kB + " \r\n", "allow");
  REQUIRE(parsed.ok());
  REQUIRE(parsed->size() == 2);
  for (const auto& [key, rights] : *parsed) {
    CHECK(rights.unrestricted());
    // Even what no explicit right covers: a claim on a name that is no queue key.
    CHECK(Allowed(rights, Named(Op::kCommit, "photos/1")));
    CHECK(Allowed(rights, Put(kQueueKey)));
  }
  auto all = ParseAllowList(kA + " all\n", "allow");
  REQUIRE(all.ok());
  CHECK(all->at(kA).unrestricted());
}

TEST_CASE("every op needs one right", "[rights]") {
  CHECK(RightFor(Named(Op::kGetSlice, "a")) == Right::kRead);
  CHECK(RightFor(Named(Op::kStat, "a")) == Right::kRead);
  CHECK(RightFor(List("a/")) == Right::kRead);
  CHECK_FALSE(RightFor(Named(Op::kStat, "")).has_value());  // the unit's own stat
  CHECK(RightFor(Put("a")) == Right::kWrite);
  CHECK(RightFor(Publish("a")) == Right::kWrite);
  CHECK(RightFor(Named(Op::kDelSlice, "a")) == Right::kWrite);
  CHECK(RightFor(Publish("a", true)) == Right::kDelete);
  CHECK(RightFor(Publish(kQueueKey, true)) == Right::kDelete);
  CHECK(RightFor(Put(kQueueKey)) == Right::kPush);
  CHECK(RightFor(Publish(kQueueKey)) == Right::kPush);
  CHECK(RightFor(Named(Op::kDelSlice, kQueueKey)) == Right::kPush);
  Request moved = Named(Op::kDelSlice, "a");
  moved.moved = true;
  CHECK(RightFor(moved) == Right::kAdmin);
  for (Op op : {Op::kLockReadDelete, Op::kCommit, Op::kRelease, Op::kRenew, Op::kFinish})
    CHECK(RightFor(Named(op, kQueueKey)) == Right::kClaim);
}

TEST_CASE("a queue key has the shape KeyGenerator makes", "[rights]") {
  CHECK(dstk::wire::QueueOf(kQueueKey) == "jobs");
  CHECK(dstk::wire::QueueOf("a/b/0005f1c2a3b4c5d6-0a1b2c3d") == "a/b");
  CHECK_FALSE(dstk::wire::QueueOf("0005f1c2a3b4c5d6-0a1b2c3d").has_value());       // no queue
  CHECK_FALSE(dstk::wire::QueueOf("jobs/0005F1C2A3B4C5D6-0a1b2c3d").has_value());  // upper
  CHECK_FALSE(dstk::wire::QueueOf("jobs/0005f1c2a3b4c5d6-0a1b2c3").has_value());   // short
  CHECK_FALSE(dstk::wire::QueueOf("jobs/0005f1c2a3b4c5d6_0a1b2c3d").has_value());
  CHECK_FALSE(dstk::wire::QueueOf("out/x").has_value());
}

TEST_CASE("a read-only key reads and stats everything and changes nothing", "[rights]") {
  const Rights ro = Only("read");
  CHECK_FALSE(ro.unrestricted());
  CHECK(Allowed(ro, Named(Op::kGetSlice, "photos/1")));
  CHECK(Allowed(ro, Named(Op::kStat, "photos/1")));
  CHECK(Allowed(ro, List("")));
  CHECK(Allowed(ro, Named(Op::kStat, "")));
  CHECK_FALSE(Allowed(ro, Put("photos/1")));
  CHECK_FALSE(Allowed(ro, Publish("photos/1")));
  CHECK_FALSE(Allowed(ro, Publish("photos/1", true)));
  CHECK_FALSE(Allowed(ro, Named(Op::kDelSlice, "photos/1")));
  CHECK_FALSE(Allowed(ro, Put(kQueueKey)));
  CHECK_FALSE(Allowed(ro, Named(Op::kLockReadDelete, kQueueKey)));
  Request moved = Named(Op::kDelSlice, "photos/1");
  moved.moved = true;
  CHECK_FALSE(Allowed(ro, moved));
  CHECK(CheckRights(ro, Put("photos/1")).message() ==
        "this client key has no write right on photos/1");
  CHECK(CheckRights(Only("write=out/"), Named(Op::kStat, "other/x")).message() ==
        "this client key has no right on other/x");
}

TEST_CASE("a worker key is confined to its queue and its prefix", "[rights]") {
  const Rights worker = Only("claim=jobs write=out/");
  for (Op op : {Op::kLockReadDelete, Op::kCommit, Op::kRelease, Op::kRenew, Op::kFinish}) {
    CHECK(Allowed(worker, Named(op, kQueueKey)));
    CHECK_FALSE(Allowed(worker, Named(op, kOtherQueueKey)));
    CHECK_FALSE(Allowed(worker, Named(op, "out/x")));  // not a queue key: on no queue
  }
  CHECK(Allowed(worker, List("jobs/")));  // walking its queue
  CHECK_FALSE(Allowed(worker, List("other/")));
  CHECK_FALSE(Allowed(worker, List("jobs")));  // would list jobs2/ too
  CHECK_FALSE(Allowed(worker, List("")));
  CHECK(Allowed(worker, Put("out/x")));
  CHECK(Allowed(worker, Publish("out/x")));
  CHECK(Allowed(worker, Named(Op::kStat, "out/x")));  // a writer learns the revision
  CHECK(Allowed(worker, Named(Op::kStat, kQueueKey)));
  CHECK_FALSE(Allowed(worker, Named(Op::kGetSlice, "out/x")));  // no read
  CHECK_FALSE(Allowed(worker, Named(Op::kStat, "other/x")));
  CHECK_FALSE(Allowed(worker, Put("other/x")));
  CHECK_FALSE(Allowed(worker, Publish("out/x", true)));                // no delete
  CHECK_FALSE(Allowed(worker, Put(kQueueKey)));                        // no push
  CHECK_FALSE(Allowed(worker, Put("out/0005f1c2a3b4c5d6-0a1b2c3d")));  // a push to out, not a write

  // A batched claim is allowed only when every key is.
  Request batch = Named(Op::kLockReadDelete, "");
  batch.keys = {{kQueueKey, 1, 0}, {kOtherQueueKey, 1, 0}};
  CHECK_FALSE(Allowed(worker, batch));
  batch.keys.pop_back();
  CHECK(Allowed(worker, batch));
}

TEST_CASE("grants combine rights and scopes", "[rights]") {
  const Rights r = Only("read,write=photos/ delete=tmp/ push,claim=jobs push=jobs.failed admin");
  CHECK(Allowed(r, Named(Op::kGetSlice, "photos/1")));
  CHECK(Allowed(r, Put("photos/1")));
  CHECK_FALSE(Allowed(r, Named(Op::kGetSlice, "tmp/1")));
  CHECK(Allowed(r, Publish("tmp/1", true)));
  CHECK_FALSE(Allowed(r, Publish("photos/1", true)));
  CHECK(Allowed(r, Put("jobs.failed/0005f1c2a3b4c5d6-0a1b2c3d")));
  CHECK_FALSE(Allowed(r, Named(Op::kCommit, "jobs.failed/0005f1c2a3b4c5d6-0a1b2c3d")));
  Request moved = Named(Op::kDelSlice, "anything");
  moved.moved = true;
  CHECK(Allowed(r, moved));
  // A prefix is a plain string prefix: photos/ does not cover photos2/.
  CHECK_FALSE(Allowed(r, Put("photos2/1")));
  // Two prefixes of one right are both honoured.
  const Rights two = Only("read=a/ read=b/");
  CHECK(Allowed(two, Named(Op::kGetSlice, "a/1")));
  CHECK(Allowed(two, Named(Op::kGetSlice, "b/1")));
  CHECK_FALSE(Allowed(two, Named(Op::kGetSlice, "c/1")));
}

TEST_CASE("bad allow-list lines are refused with their line number", "[rights]") {
  const std::string first = "# header\n" + kA + " read\n";  // line 3 is the bad one below
  auto line3 = [&](const std::string& rest) { return ErrorOf(first + rest + "\n"); };
  CHECK(line3("not-a-key").find("allow:3: ") == 0);
  CHECK(line3("not-a-key").find("not a Z85 public key") != std::string::npos);
  CHECK(line3(kA).find("allow:3: the key is listed again (first on line 2)") == 0);
  CHECK(line3(kB + " reed").find("allow:3: unknown right 'reed'") == 0);
  CHECK(line3(kB + " stat").find("covered by read") != std::string::npos);
  CHECK(line3(kB + " read,read").find("names read twice") != std::string::npos);
  CHECK(line3(kB + " read,,write").find("empty right") != std::string::npos);
  CHECK(line3(kB + " read,").find("empty right") != std::string::npos);
  CHECK(line3(kB + " write=").find("empty scope") != std::string::npos);
  CHECK(line3(kB + " =out/").find("names no right") != std::string::npos);
  CHECK(line3(kB + " read,claim=jobs").find("mixes name rights") != std::string::npos);
  CHECK(line3(kB + " admin=x/").find("admin takes no scope") != std::string::npos);
  CHECK(line3(kB + " all=x/").find("all is") != std::string::npos);
  CHECK(line3(kB + " all read").find("all is") != std::string::npos);
  CHECK(line3(kB + " read all").find("all is") != std::string::npos);
  CHECK(line3(kB + " read read").find("read is granted twice") != std::string::npos);
  CHECK(line3(kB + " write=out/ write=out/").find("write=out/ is granted twice") !=
        std::string::npos);
  CHECK(line3(kB + " read read=a/").find("both everywhere and within") != std::string::npos);
  CHECK(line3(kB + " read=a/ read").find("both everywhere and within") != std::string::npos);
  CHECK(line3(kB + " write=../x").find("no valid prefix") != std::string::npos);
  CHECK(line3(kB + " write=/x").find("no valid prefix") != std::string::npos);
  CHECK(line3(kB + " claim=jobs/").find("no valid queue") != std::string::npos);
  CHECK(line3(kB + " claim=a//b").find("no valid queue") != std::string::npos);
  CHECK(line3(kB + " read # a comment").find("unknown right '#'") != std::string::npos);
  // A good line before and after does not hide a bad one.
  CHECK(ErrorOf(kA + "\n" + kB + " writ\n").find("allow:2: ") == 0);
}

TEST_CASE("a unit refuses and logs a request its caller's rights do not allow", "[rights]") {
  dstk::test::TempDir dir("dstk-rights");
  auto store = dstk::store::SliceStore::Open(dir.path());
  REQUIRE(store.ok());
  std::vector<std::string> lines;
  dstk::node::Service service(
      **store, [&](dstk::node::LogLevel, const std::string& line) { lines.push_back(line); },
      "test");
  const Rights ro = Only("read");
  const dstk::node::Caller caller{kA, &ro};

  const std::string rm = dstk::wire::EncodeRequest(Publish("photos/1", true));
  const auto header = std::span(reinterpret_cast<const uint8_t*>(rm.data()), rm.size());
  const dstk::node::Outgoing out = service.Handle(header, {}, false, caller);
  auto reply = dstk::wire::DecodeReply(
      std::span(reinterpret_cast<const uint8_t*>(out.header.data()), out.header.size()));
  REQUIRE(reply.ok());
  CHECK(reply->status == dstk::wire::ReplyStatus::kForbidden);
  CHECK(std::string(dstk::wire::ReplyStatusName(reply->status)) == "forbidden");
  CHECK(reply->error == "this client key has no delete right on photos/1");
  REQUIRE_FALSE(lines.empty());
  CHECK(lines.front().find("key " + kA.substr(0, 10)) == 0);
  CHECK(lines.front().find("refused publish photos/1") != std::string::npos);

  // Without rights (no CurveZMQ) the same request reaches the store (no object: not found).
  const dstk::node::Outgoing open = service.Handle(header, {}, false, {});
  auto served = dstk::wire::DecodeReply(
      std::span(reinterpret_cast<const uint8_t*>(open.header.data()), open.header.size()));
  REQUIRE(served.ok());
  CHECK(served->status != dstk::wire::ReplyStatus::kForbidden);
}
