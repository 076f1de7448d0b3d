// Lines from a file descriptor, with a way to ask "is another line here already?".
//
// dsenc push --from pushes the lines it has in batches (two fan-out rounds per batch, not per
// function) but must not hold back a line a slow producer wrote while waiting for more: a
// batch is the first line, waited for, plus whatever lines are ready without waiting.
#pragma once

#include <optional>
#include <string>

#include "util/status.h"

namespace dstk::tools::dsenc {

class LineSource {
 public:
  explicit LineSource(int fd) : fd_(fd) {}

  // The next line (without its newline; a last line without one counts), or nullopt at the
  // end of input or, with `wait` false, when no whole line can be had without blocking.
  Result<std::optional<std::string>> Next(bool wait);
  bool at_end() const { return eof_ && pos_ == buf_.size(); }

 private:
  int fd_;
  std::string buf_;
  size_t pos_ = 0;
  bool eof_ = false;
};

}  // namespace dstk::tools::dsenc
