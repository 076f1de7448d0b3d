// A unit's identity (store/unit_id.h): made once, kept across restarts, never silently replaced.
#include "store/unit_id.h"

#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <string>

#include "store/slice_store.h"

namespace fs = std::filesystem;
using dstk::Code;

TEST_CASE("unit id: made on first open, kept across opens, refused when garbled", "[store]") {
  const fs::path dir = fs::temp_directory_path() / ("dstk-unit-id-" + std::to_string(getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  auto first = dstk::store::LoadOrCreateUnitId(dir.string());
  REQUIRE(first.ok());
  CHECK(first->size() == 16);
  CHECK(first->find_first_not_of("0123456789abcdef") == std::string::npos);
  auto again = dstk::store::LoadOrCreateUnitId(dir.string());
  REQUIRE(again.ok());
  CHECK(*again == *first);

  // Another directory (a replaced disk) gets another id.
  const fs::path other = dir / "other";
  fs::create_directories(other);
  auto second = dstk::store::LoadOrCreateUnitId(other.string());
  REQUIRE(second.ok());
  CHECK(*second != *first);

  // A store reports its directory's id.
  {
    auto store = dstk::store::SliceStore::Open((dir / "unit").string());
    REQUIRE(store.ok());
    auto id = dstk::store::LoadOrCreateUnitId((dir / "unit").string());
    REQUIRE(id.ok());
    CHECK((*store)->unit_id() == *id);
  }

  std::ofstream(dir / "unit.id") << "not an id\n";
  auto garbled = dstk::store::LoadOrCreateUnitId(dir.string());
  CHECK(garbled.status().code() == Code::kCorruption);
  fs::remove_all(dir);
}
