// The one exit-code table shared by all four tools. Scripts branch on these numbers, so a
// number never changes meaning. Documented in every man page under EXIT STATUS.
#pragma once

#include "util/status.h"

namespace dstk {

enum ExitCode : int {
  kExitOk = 0,           // done
  kExitNothing = 1,      // nothing to do: no such object, empty queue (like grep)
  kExitUsage = 2,        // bad usage or bad input
  kExitUnavailable = 3,  // not enough units answered (below k, w or q)
  kExitIntegrity = 4,    // integrity: bad CRC everywhere, mixed revisions, corrupt stream
  kExitFunction = 5,     // the function itself failed (dsrun)
  kExitSystem = 6,       // local I/O or system error, lost race, a limit hit
  kExitForbidden = 7,    // the units refused the client's key the right for the op
};

inline int ExitCodeFor(const Status& s) {
  switch (s.code()) {
    case Code::kOk:
      return kExitOk;
    case Code::kNotFound:
      return kExitNothing;
    case Code::kInvalidArgument:
      return kExitUsage;
    case Code::kUnavailable:
      return kExitUnavailable;
    case Code::kCorruption:
      return kExitIntegrity;
    case Code::kIoError:
    case Code::kConflict:
    case Code::kFenced:
    case Code::kLimit:
      return kExitSystem;
    case Code::kForbidden:
      return kExitForbidden;
  }
  return kExitSystem;
}

}  // namespace dstk
