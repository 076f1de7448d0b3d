// The claim trace as a message sequence chart for mscgen(1): dsclaim --trace=msc writes one
// arrow line per protocol message on stderr, and dsclaim --msc-chart turns such lines into a
// chart. An arrow line is
//   dsclaim: msc SECONDS.MICROS FROM ARROW TO [label="..."];
// where FROM and TO are entities (cXXXXXXXX, a claimer by the low 32 bits of its id; uN, unit
// N), ARROW is => for a request awaiting replies, -> for one sent without waiting (release)
// and >> for a reply. The rest after the time is an mscgen arc as it stands. The time is the
// wall clock, so that the lines of several claimers on one machine, piped into one stream,
// can be put back in the order they happened: that is how two claimers colliding become one
// chart.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "claim/claimer.h"
#include "util/status.h"

namespace dstk::tools {

// What an arrow line starts with; --msc-chart ignores every line that does not.
inline constexpr const char* kMscLinePrefix = "dsclaim: msc ";

// The arrow line (with a newline) of one traced message, sent or received at `time_us`
// microseconds since the epoch.
std::string MscArrowLine(const claim::TraceEvent& e, int64_t time_us);

// Collects arrow lines from any number of claimers and writes them as one chart.
class MscChart {
 public:
  // Takes one line of input (without its newline). Other lines (diagnostics, step prompts,
  // text traces, dsrun's messages in the same pipe) are skipped; an arrow line that does not
  // parse is an error naming `line_no`.
  Status Add(const std::string& line, size_t line_no);

  size_t arrows() const { return arcs_.size(); }

  // The chart: every claimer and unit declared (the first claimer to send on the left, the
  // units in pillar order, the other claimers on the right), then the arrows sorted by time
  // (in input order when equal). kNotFound when no arrow line was added.
  Result<std::string> Render() const;

 private:
  struct Arc {
    int64_t time_us;
    std::string from, to, text;  // text: the arc from FROM on, as written
  };
  std::vector<Arc> arcs_;
};

}  // namespace dstk::tools
