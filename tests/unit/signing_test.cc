// Signed functions (claim/signing.h): a signature verifies for its queue and trusted key only,
// survives what dsrun changes (attempt, reason, the record's re-encoding), and fails for any
// change to what was signed.
#include "claim/signing.h"

#include <catch2/catch.hpp>
#include <set>
#include <string>
#include <vector>

using namespace dstk::claim;

namespace {

Function Sample() {
  Function f;
  f.argv = {"wc", "-c"};
  f.inputs = {"logs/a"};
  f.output = "counts/a";
  f.timeout_s = 30;
  f.attempts = 3;
  f.producer = "host:1";
  f.pushed_us = 1700000000000000;
  return f;
}

}  // namespace

TEST_CASE("a signed function verifies only as signed, for its queue and a trusted key", "[claim]") {
  auto alice = GenerateSigningKey();
  auto mallory = GenerateSigningKey();
  REQUIRE(alice.ok());
  REQUIRE(mallory.ok());
  const std::set<std::string> trusted = {alice->public_hex};

  Function f = Sample();
  CHECK(VerifyFunction(f, "jobs", trusted).message() == "unsigned function");
  REQUIRE(SignFunction(f, "jobs", *alice).ok());
  CHECK(VerifyFunction(f, "jobs", trusted).ok());

  // What dsrun changes when it re-queues or dead-letters, and the record's round trip.
  Function again = f;
  again.attempt = 2;
  again.reason = "exit 1";
  CHECK(VerifyFunction(again, "jobs", trusted).ok());
  const std::string record = EncodeFunction(f);
  auto decoded = DecodeFunction({reinterpret_cast<const uint8_t*>(record.data()), record.size()});
  REQUIRE(decoded.ok());
  CHECK(VerifyFunction(*decoded, "jobs", trusted).ok());

  // Another queue, or any signed field changed: a bad signature.
  CHECK(VerifyFunction(f, "other", trusted).message().find("bad signature") == 0);
  std::vector<Function> altered(7, f);
  altered[0].argv[1] = "-l";
  altered[1].inputs.push_back("secret/x");
  altered[2].output = "elsewhere";
  altered[3].timeout_s = 3000;
  altered[4].attempts = 100;
  altered[5].pushed_us += 1;
  altered[6].signature[0] = altered[6].signature[0] == 'a' ? 'b' : 'a';
  for (const auto& a : altered)
    CHECK(VerifyFunction(a, "jobs", trusted).message().find("bad") == 0);

  // Signed by a key not trusted; a signer field swapped to a trusted key does not help.
  Function m = Sample();
  REQUIRE(SignFunction(m, "jobs", *mallory).ok());
  CHECK(VerifyFunction(m, "jobs", trusted).message().find("not in the trust file") !=
        std::string::npos);
  m.signer = alice->public_hex;
  CHECK(VerifyFunction(m, "jobs", trusted).message().find("bad signature") == 0);
}
