// Validation of object and queue names, done before a name touches any disk.
//
// A name is 1..kMaxNameLength bytes of printable characters (UTF-8 allowed), '/'-separated
// components none of which is empty, "." or "..", and with no leading '/'. These rules make a
// name safe to turn into a single file name on a unit (store/layout.h) and to print on a line.
#pragma once

#include <string_view>

#include "util/status.h"

namespace dstk::wire {

Status ValidateName(std::string_view name);

// Like ValidateName, but also accepts the empty string and a trailing '/' (a listing prefix).
Status ValidatePrefix(std::string_view prefix);

}  // namespace dstk::wire
