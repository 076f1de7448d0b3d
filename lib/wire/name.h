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

#include <string_view>

#include "util/status.h"

namespace dstk::wire {

Status ValidateName(std::string_view name);

// Like ValidateName, but also accepts the empty string and a trailing '/' (a listing prefix).
Status ValidatePrefix(std::string_view prefix);

}  // namespace dstk::wire
