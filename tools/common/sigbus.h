// SIGBUS from a mapped input file: lib/util/segment_reader.h maps regular files a segment at a
// time, and a file cut shorter while it is being read makes the lost pages raise SIGBUS. The
// handler says what happened on stderr and exits with status 6 (a local I/O error) instead of
// the default silent core dump. A put cut short this way publishes nothing: the object keeps its
// previous revision.
#pragma once

namespace dstk::tools {

void ExitOnSigbus();

}  // namespace dstk::tools
