// lib/net pieces that need no unit: CurveZMQ keys and key files (net/keys.h), node list
// entries carrying keys, and what a Cluster does offline with units it cannot reach or cannot
// even connect to (net/cluster.h).
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <fstream>
#include <string>
#include <vector>

#include "net/cluster.h"
#include "net/endpoint.h"
#include "net/keys.h"
#include "net/node_list.h"
#include "temp_dir.h"
#include "wire/message.h"

namespace {

using dstk::Code;
using dstk::net::IsZ85Key;

void WriteText(const std::string& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
  REQUIRE(out.good());
}

}  // namespace

TEST_CASE("keys: a fresh pair is two distinct well-formed Z85 keys", "[net]") {
  auto a = dstk::net::GenerateKeyPair();
  auto b = dstk::net::GenerateKeyPair();
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  CHECK(IsZ85Key(a->public_z85));
  CHECK(IsZ85Key(a->secret_z85));
  CHECK(a->public_z85 != a->secret_z85);
  CHECK(a->public_z85 != b->public_z85);  // not a constant
  CHECK(a->secret_z85 != b->secret_z85);
}

TEST_CASE("keys: IsZ85Key takes exactly 40 characters of the Z85 alphabet", "[net]") {
  const std::string good = "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7";
  REQUIRE(good.size() == 40);
  CHECK(IsZ85Key(good));
  CHECK_FALSE(IsZ85Key(""));
  CHECK_FALSE(IsZ85Key(good.substr(0, 39)));  // one short
  CHECK_FALSE(IsZ85Key(good + "0"));          // one long
  CHECK_FALSE(IsZ85Key(good.substr(0, 35)));  // a multiple of 5, but not a key's length
  for (char outside : {' ', '"', '\'', ',', ';', '\\', '_', '`', '|', '~', '\x7f', '\0'}) {
    std::string bad = good;
    bad[17] = outside;
    INFO(static_cast<int>(outside));
    CHECK_FALSE(IsZ85Key(bad));
  }
}

TEST_CASE("keys: a written pair reads back, is never overwritten, and garbage is refused",
          "[net]") {
  dstk::test::TempDir dir("dstk-net-keys");
  const std::string path = dir.path() + "/unit.key";
  auto pair = dstk::net::GenerateKeyPair();
  REQUIRE(pair.ok());
  REQUIRE(dstk::net::WriteKeyPair(path, *pair).ok());

  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);  // the secret half is the owner's only
  std::ifstream pub(path + ".pub");
  std::string pub_line;
  REQUIRE(std::getline(pub, pub_line));
  CHECK(pub_line == pair->public_z85);

  // Reading the secret derives the same public key.
  auto read = dstk::net::ReadSecretKey(path);
  REQUIRE(read.ok());
  CHECK(read->secret_z85 == pair->secret_z85);
  CHECK(read->public_z85 == pair->public_z85);

  // A second keygen to the same path fails and leaves the first pair as it was.
  auto other = dstk::net::GenerateKeyPair();
  REQUIRE(other.ok());
  CHECK(dstk::net::WriteKeyPair(path, *other).code() == Code::kIoError);
  CHECK(dstk::net::ReadSecretKey(path)->secret_z85 == pair->secret_z85);

  // Surrounding blanks and a CRLF line end are fine; only the first line counts.
  WriteText(dir.path() + "/crlf.key", "  " + pair->secret_z85 + " \r\nignored\n");
  auto crlf = dstk::net::ReadSecretKey(dir.path() + "/crlf.key");
  REQUIRE(crlf.ok());
  CHECK(crlf->public_z85 == pair->public_z85);

  CHECK(dstk::net::ReadSecretKey(dir.path() + "/missing.key").status().code() ==
        Code::kInvalidArgument);
  WriteText(dir.path() + "/empty.key", "");
  CHECK(dstk::net::ReadSecretKey(dir.path() + "/empty.key").status().code() ==
        Code::kInvalidArgument);
  WriteText(dir.path() + "/short.key", pair->secret_z85.substr(1) + "\n");
  auto short_key = dstk::net::ReadSecretKey(dir.path() + "/short.key");
  REQUIRE_FALSE(short_key.ok());
  CHECK(short_key.status().code() == Code::kInvalidArgument);
  CHECK(short_key.status().message().find("Z85") != std::string::npos);
}

TEST_CASE("node list: a public key rides on its line; an empty list is refused", "[net]") {
  const std::string key = "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7";
  // '#' is a Z85 digit: only a line that starts with it is a comment.
  auto list = dstk::net::ParseNodeEntries("# two units\n127.0.0.1:7100 " + key +
                                              " domain=a\r\n  # indented comment\n" +
                                              "ipc:///tmp/u1 id=0123456789abcdef\n",
                                          '\n');
  REQUIRE(list.ok());
  REQUIRE(list->size() == 2);
  CHECK((*list)[0].server_key == key);
  CHECK((*list)[0].ToLine() == "tcp://127.0.0.1:7100 " + key + " domain=a");
  CHECK((*list)[1].endpoint == "ipc:///tmp/u1");
  CHECK((*list)[1].server_key.empty());
  // A canonical line parses back to itself.
  auto again = dstk::net::ParseNodeEntry((*list)[0].ToLine());
  REQUIRE(again.ok());
  CHECK(again->ToLine() == (*list)[0].ToLine());

  for (const std::string& bad : {"127.0.0.1:7100 " + key.substr(1),  // a key one short
                                 "127.0.0.1:7100 " + key + " " + key}) {
    INFO(bad);
    CHECK(dstk::net::ParseNodeEntry(bad).status().code() == Code::kInvalidArgument);
  }
  for (const std::string empty : {"", "\n\n", "# only a comment\n", " \t \n"}) {
    auto none = dstk::net::ParseNodeList(empty, '\n');
    REQUIRE_FALSE(none.ok());
    CHECK(none.status().message().find("empty") != std::string::npos);
  }
  CHECK_FALSE(dstk::net::ParseNodeList(",,", ',').ok());
  CHECK(dstk::net::IsUnitId("0123456789abcdef"));
  CHECK_FALSE(dstk::net::IsUnitId("0123456789abcde"));
  CHECK_FALSE(dstk::net::IsUnitId("0123456789abcdeg"));
  CHECK_FALSE(dstk::net::IsUnitId("0123456789ABCDEF"));
}

TEST_CASE("endpoint: AddressesOf meets two names of one unit and keeps ports apart", "[net]") {
  using dstk::net::EndpointUse;
  auto ipc = dstk::net::ParseEndpoint("ipc:///tmp/dstk-u0", EndpointUse::kConnect);
  REQUIRE(ipc.ok());
  CHECK(dstk::net::AddressesOf(*ipc) == std::vector<std::string>{"ipc:///tmp/dstk-u0"});
  auto a = dstk::net::ParseEndpoint("127.0.0.1:7100", EndpointUse::kConnect);
  auto b = dstk::net::ParseEndpoint("127.0.0.1:7101", EndpointUse::kConnect);
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  const auto as = dstk::net::AddressesOf(*a);
  const auto bs = dstk::net::AddressesOf(*b);
  REQUIRE_FALSE(as.empty());
  for (const auto& x : as) {
    for (const auto& y : bs) CHECK(x != y);
  }
}

TEST_CASE("cluster: units it cannot connect to or that never answer cost only themselves",
          "[net]") {
  dstk::test::TempDir dir("dstk-net-cluster");
  // Line 0 is not an endpoint at all; line 1 is a socket nobody listens on.
  const std::vector<std::string> lines = {"bogus://x", "ipc://" + dir.path() + "/nobody"};
  dstk::net::Cluster c(lines, std::chrono::milliseconds(100));
  REQUIRE(c.size() == 2);
  CHECK(c.network_size() == 2);
  CHECK(c.Describe(1).find("unit 1") != std::string::npos);
  CHECK(c.Describe(1).find(lines[1]) != std::string::npos);

  dstk::wire::Request stat;
  stat.op = dstk::wire::Op::kStat;
  auto unsent = c.Send(0, stat);
  REQUIRE_FALSE(unsent.ok());  // refused at once, no throw, nothing outstanding
  CHECK(c.Outstanding() == 0);

  const auto t0 = dstk::net::Clock::now();
  const auto outcomes = c.CallAll(stat);
  const auto took = dstk::net::Clock::now() - t0;
  REQUIRE(outcomes.size() == 2);
  CHECK(outcomes[0].status.code() == Code::kInvalidArgument);  // cannot connect: bad endpoint
  CHECK_FALSE(outcomes[0].response.has_value());
  CHECK(outcomes[1].status.code() == Code::kUnavailable);
  CHECK(outcomes[1].status.message().find("no reply within 100 ms") != std::string::npos);
  CHECK_FALSE(outcomes[1].response.has_value());
  CHECK(took >= std::chrono::milliseconds(90));  // waited for the one it could send to
  CHECK(took < std::chrono::seconds(5));
  CHECK(c.Outstanding() == 0);  // the late request was forgotten

  // A view's unit that the network has not: sends to it fail, the others are untouched.
  auto view = c.View({1, 7});
  REQUIRE(view.size() == 2);
  CHECK(view.NetworkIndex(1) == dstk::net::Cluster::kNoUnit);
  CHECK(view.endpoint(1).empty());
  CHECK_FALSE(view.Send(1, stat).ok());
  CHECK(view.endpoint(0) == lines[1]);
}
