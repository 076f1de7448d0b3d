// A one-line progress bar on stderr, drawn only when stderr is a terminal, at most ten times
// a second, and erased when done; in a pipe or a log it prints nothing.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace dstk::tools {

class ProgressBar {
 public:
  // Draws only when `wanted` (not -q) and stderr is a terminal. Counts bytes (MiB, MiB/s), or
  // with `items` ("objects") things of that name.
  ProgressBar(std::string tool, std::string label, bool wanted = true, std::string items = "");
  ~ProgressBar();
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;

  // `total` 0 means unknown (a pipe): show bytes and rate only.
  void Update(uint64_t done, uint64_t total);
  bool enabled() const { return enabled_; }

 private:
  std::string tool_, label_, items_;
  bool enabled_;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point start_, last_;
};

}  // namespace dstk::tools
