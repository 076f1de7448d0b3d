// Endpoints and node lists (net/endpoint.h, net::ParseNodeList): every malformed endpoint and
// every list naming one unit twice is refused with what is wrong, before any socket is made.
#include "net/endpoint.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "net/cluster.h"

using dstk::Code;
using dstk::net::EndpointUse;
using dstk::net::ParseEndpoint;
using dstk::net::ParseNodeList;

TEST_CASE("ParseEndpoint takes tcp and ipc endpoints and writes them canonically", "[net]") {
  const std::vector<std::pair<std::string, std::string>> good = {
      {"127.0.0.1:7100", "tcp://127.0.0.1:7100"},
      {"tcp://127.0.0.1:7100", "tcp://127.0.0.1:7100"},
      {"tcp://LocalHost:1", "tcp://localhost:1"},
      {"tcp://node-3.example:65535", "tcp://node-3.example:65535"},
      {"[::1]:7100", "tcp://[::1]:7100"},
      {"tcp://127.0.0.1:07100", "tcp://127.0.0.1:7100"},
      {"ipc:///run/dstk/unit0", "ipc:///run/dstk/unit0"},
  };
  for (const auto& [text, canonical] : good) {
    INFO(text);
    auto e = ParseEndpoint(text, EndpointUse::kConnect);
    REQUIRE(e.ok());
    CHECK(e->ToString() == canonical);
  }
  auto any = ParseEndpoint("tcp://*:*", EndpointUse::kBind);
  REQUIRE(any.ok());
  CHECK(any->ToString() == "tcp://*:*");
}

TEST_CASE("ParseEndpoint refuses malformed endpoints, saying what is wrong", "[net]") {
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"127.0.0.1", "no port"},
      {"tcp://127.0.0.1", "no port"},
      {"127.0.0.1:", "no port"},
      {"127.0.0.1:abc", "not a number"},
      {"127.0.0.1:7100x", "not a number"},
      {"127.0.0.1:-1", "not a number"},
      {"127.0.0.1:+80", "not a number"},
      {"127.0.0.1:84146", "outside 1..65535"},
      {"127.0.0.1:65536", "outside 1..65535"},
      {"127.0.0.1:0", "outside 1..65535"},
      {"127.0.0.1:0000", "outside 1..65535"},
      {"127.0.0.1:99999999999999999999", "outside 1..65535"},
      {"127.0.0.1:*", "not a number"},  // any port is for binding
      {"*:7100", "for binding"},
      {":7100", "no host"},
      {"::1:7100", "brackets"},
      {"[::1:7100", "without its ']'"},
      {"[::1]7100", "no port"},
      {"[nope]:7100", "not an IPv6 address"},
      {"bad host:7100", "space"},
      {"bad\thost:7100", "space"},
      {"h\x01:7100", "control"},
      {"ho$t:7100", "not an IP address or a host name"},
      {"-host:7100", "not an IP address or a host name"},
      {"bogus://x", "unknown scheme 'bogus'"},
      {"TCP://127.0.0.1:7100", "unknown scheme"},
      {"udp://127.0.0.1:7100", "unknown scheme"},
      {"inproc://x", "inproc://"},
      {"ipc://", "no path"},
      {"", "empty"},
  };
  for (const auto& [text, why] : bad) {
    INFO(text);
    auto e = ParseEndpoint(text, EndpointUse::kConnect);
    REQUIRE_FALSE(e.ok());
    CHECK(e.status().code() == Code::kInvalidArgument);
    CHECK(e.status().message().find(why) != std::string::npos);
  }
  CHECK(ParseEndpoint("tcp://127.0.0.1:84146", EndpointUse::kBind).status().code() ==
        Code::kInvalidArgument);
}

TEST_CASE("ParseNodeList names the bad line and refuses a unit listed twice", "[net]") {
  auto ok = ParseNodeList("# units\n127.0.0.1:7100\n\ntcp://127.0.0.1:7101\n", '\n');
  REQUIRE(ok.ok());
  CHECK(*ok == std::vector<std::string>{"tcp://127.0.0.1:7100", "tcp://127.0.0.1:7101"});

  auto bad_line = ParseNodeList("127.0.0.1:7100\n127.0.0.1:abc\n", '\n');
  REQUIRE_FALSE(bad_line.ok());
  CHECK(bad_line.status().message().find("line 2") != std::string::npos);
  auto bad_item = ParseNodeList("127.0.0.1:7100,bogus://x", ',');
  REQUIRE_FALSE(bad_item.ok());
  CHECK(bad_item.status().message().find("item 2") != std::string::npos);

  // One unit under two names: the same endpoint written twice or in two forms, a host name
  // that resolves to a listed address, or one public key on two lines.
  const std::string key = "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7";
  for (const std::string& list :
       {std::string("127.0.0.1:7100,127.0.0.1:7100"),
        std::string("127.0.0.1:7100,tcp://127.0.0.1:7100"),
        std::string("127.0.0.1:7100,127.0.0.1:07100"), std::string("127.0.0.1:7100,localhost:7100"),
        std::string("ipc:///tmp/u0,ipc:///tmp/u0"),
        "127.0.0.1:7100 " + key + ",127.0.0.1:7101 " + key}) {
    INFO(list);
    auto twice = ParseNodeList(list, ',');
    REQUIRE_FALSE(twice.ok());
    CHECK(twice.status().code() == Code::kInvalidArgument);
    CHECK(twice.status().message().find("same unit as item 1") != std::string::npos);
  }
  CHECK(ParseNodeList("127.0.0.1:7100,127.0.0.1:7101,127.0.0.2:7100", ',').ok());
}
