// Scratch files for data on its way somewhere else (a decoded object being re-encoded, a
// command's output before it is stored).
#pragma once

#include <string>

#include "util/status.h"
#include "util/unique_fd.h"

namespace dstk {

// Where scratch files go: $TMPDIR when it is set and not empty, else /tmp. $TMPDIR is how a
// user or a service unit points scratch space at a disk big enough for it (an object being
// repaired can be far larger than a tmpfs /tmp), so it is honoured as other tools do.
std::string TempDir();

// An unlinked, close-on-exec temp file in TempDir(), open for reading and writing. It has a
// name (TempDir()/PREFIX.XXXXXX) only between its creation and the unlink right after, so
// nothing is left behind whatever happens to the process; its space goes when the fd closes.
Result<UniqueFd> OpenUnlinkedTempFile(const std::string& prefix);

}  // namespace dstk
