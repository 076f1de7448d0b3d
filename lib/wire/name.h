// Validation of object and queue names, done before a name touches any disk.
//
// A name is 1..kMaxNameLength bytes of well-formed UTF-8 without control characters (C0, DEL,
// C1; NUL included), '/'-separated components none of which is empty, "." or "..", and with no
// leading '/'. A component may not end in ".slice", ".manifest", ".corrupt" or ".claim" nor
// start with ".tmp.": those are the unit's own file names, and an object's files share a
// directory with its children (see store/slice_store.h). These rules make a name safe to use
// as a path on a unit, to print, and to put in JSON. Units apply them to every name in a
// request, clients to every name in a reply.
#pragma once

#include <optional>
#include <string_view>

#include "util/status.h"

namespace dstk::wire {

Status ValidateName(std::string_view name);

// Like ValidateName, but also accepts the empty string and a trailing '/' (a listing prefix).
Status ValidatePrefix(std::string_view prefix);

// The queue `name` is a key of, when its last component has the shape of a queue key
// ("<16 lowercase hex>-<8 lowercase hex>", as claim::KeyGenerator makes them) and a queue
// precedes it: "jobs/0005f1c2a3b4c5d6-0a1b2c3d" is a key of "jobs". nullopt for any other
// name. Units tell a push from a write by this shape alone (node/rights.h).
std::optional<std::string_view> QueueOf(std::string_view name);

// The lane of `name` among `lanes` (>= 1): FNV-1a (64-bit) of its bytes, modulo lanes. The same
// in every build and on every host: walkers split a queue into lanes by it, and a lane-filtered
// list (Request::lanes) names only the keys of one lane.
size_t LaneOf(std::string_view name, size_t lanes);

}  // namespace dstk::wire
