// A unit's identity: 16 hex digits drawn at random the first time a directory is served, kept
// in DIR/unit.id. It names the disk, not the address: a unit moved to another address keeps its
// id, a replaced (empty) disk gets a new one. Units report it in `stat`, so that a client can
// tell one unit listed twice under addresses that look different (a unit bound to every
// interface), which no check of the node list alone can.
#pragma once

#include <string>

#include "util/status.h"

namespace dstk::store {

inline constexpr const char* kUnitIdFileName = "unit.id";

// The id stored in `dir`, made and written durably first when there is none. kCorruption when
// the file holds something that is not an id (it is never replaced: an operator decides).
Result<std::string> LoadOrCreateUnitId(const std::string& dir);

}  // namespace dstk::store
