// Offline slice streams: `dsenc split` turns bytes into a record stream of slices, `dsenc join`
// turns any sufficient subset of those records (any k per segment, in any order) back into the
// bytes. No network: this is the codec on a pipe, for labs and for moving slices by hand.
#pragma once

#include <cstdint>
#include <string>

#include "util/progress.h"
#include "util/status.h"

namespace dstk::stream {

struct SplitOptions {
  uint32_t k = 0;
  uint32_t n = 0;
  std::string name = "stdin";
  uint32_t segment_size = 4u << 20;
  // Threads that encode and checksum each segment together (1: the calling thread only).
  unsigned threads = 1;
};

// Reads `in` to its end and writes, per segment, n slice records (pillar 0..n-1), then one
// object record with the final size and segment count.
Status Split(int in, int out, const SplitOptions& options, const ProgressSink& progress = {});

// Reads a record stream of one object's slices and writes the object. Segments may come in any
// order; each needs k good records (bad CRCs are skipped). kCorruption when a segment has fewer
// than k good slices, the stream mixes objects or revisions, or it is malformed.
Status Join(int in, int out);

}  // namespace dstk::stream
