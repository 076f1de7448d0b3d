// Names are UTF-8 text without control characters (wire/name.h): the whole class of byte
// strings that are not, refused wherever a name enters.
#include "wire/name.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

using dstk::Code;
using dstk::wire::ValidateName;
using dstk::wire::ValidatePrefix;

TEST_CASE("Names take well-formed UTF-8 of every length", "[wire][name]") {
  for (const std::string& good : std::vector<std::string>{
           "caf\xc3\xa9",             // 2 bytes: U+00E9
           "\xc2\xa0nbsp",            // U+00A0, the first code point after C1
           "\xe2\x82\xac/euro",       // 3 bytes: U+20AC
           "\xef\xbf\xbd",            // U+FFFD
           "\xed\x9f\xbf",            // U+D7FF, just below the surrogates
           "\xee\x80\x80",            // U+E000, just above them
           "\xf0\x9f\x98\x80/emoji",  // 4 bytes: U+1F600
           "\xf4\x8f\xbf\xbf",        // U+10FFFF, the last code point
       }) {
    INFO("name of " << good.size() << " bytes");
    CHECK(ValidateName(good).ok());
    CHECK(ValidatePrefix(good + "/").ok());
  }
}

TEST_CASE("Names refuse bytes that are not UTF-8, and control characters", "[wire][name]") {
  const std::vector<std::string> bad = {
      "c/bad\xff",  // the byte a user tried
      "\xfe",       // never in UTF-8
      "\x80",       // a continuation byte first
      "a\xbf"
      "b",                     // a lone continuation byte inside
      "\xc3",                  // a 2-byte sequence cut short at the end
      "\xc3/x",                // ... and followed by ASCII
      "\xe2\x82",              // a 3-byte sequence cut short
      "\xf0\x9f\x98",          // a 4-byte sequence cut short
      "\xc0\xaf",              // overlong '/'
      "\xc1\xbf",              // overlong
      "\xe0\x80\xaf",          // overlong 3-byte
      "\xf0\x80\x80\xaf",      // overlong 4-byte
      "\xed\xa0\x80",          // U+D800, a UTF-16 surrogate
      "\xed\xbf\xbf",          // U+DFFF
      "\xf4\x90\x80\x80",      // U+110000, past the last code point
      "\xf8\x88\x80\x80\x80",  // 5-byte form
      "\xc2\x80",              // U+0080, a C1 control
      "\xc2\x9f",              // U+009F, the last C1 control
      "\xc2\x85line",          // U+0085, NEXT LINE
      "\xc0\x80",              // overlong NUL
  };
  for (const auto& name : bad) {
    INFO("name of " << name.size() << " bytes");
    auto st = ValidateName(name);
    CHECK(st.code() == Code::kInvalidArgument);
    CHECK_FALSE(st.message().empty());
    CHECK(ValidatePrefix(name).code() == Code::kInvalidArgument);
  }
  CHECK(ValidateName("c/bad\xff").message().find("UTF-8") != std::string::npos);
}
