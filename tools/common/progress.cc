#include "progress.h"

#include <unistd.h>

#include <cstdio>

namespace dstk::tools {

ProgressBar::ProgressBar(std::string tool, std::string label, bool wanted, std::string items)
    : tool_(std::move(tool)),
      label_(std::move(label)),
      items_(std::move(items)),
      enabled_(wanted && ::isatty(STDERR_FILENO) == 1),
      start_(std::chrono::steady_clock::now()),
      last_(start_) {}

ProgressBar::~ProgressBar() {
  if (drawn_) std::fprintf(stderr, "\r\033[K");
}

void ProgressBar::Update(uint64_t done, uint64_t total) {
  if (!enabled_) return;
  const auto now = std::chrono::steady_clock::now();
  if (now - last_ < std::chrono::milliseconds(100) && !(total != 0 && done == total)) return;
  last_ = now;
  const double secs = std::chrono::duration<double>(now - start_).count();
  // The amount in MiB, or in items; the rate per second.
  const double amount =
      items_.empty() ? static_cast<double>(done) / (1 << 20) : static_cast<double>(done);
  const double rate = secs > 0 ? amount / secs : 0;
  const char* unit = items_.empty() ? "MiB" : items_.c_str();
  if (total != 0) {
    const int width = 30;
    const int filled =
        static_cast<int>(static_cast<double>(done) / static_cast<double>(total) * width);
    std::string bar(static_cast<size_t>(filled), '#');
    bar.resize(width, '.');
    std::fprintf(stderr, "\r\033[K%s: %s [%s] %3d%% %.*f %s %.1f %s/s", tool_.c_str(),
                 label_.c_str(), bar.c_str(),
                 static_cast<int>(100.0 * static_cast<double>(done) / static_cast<double>(total)),
                 items_.empty() ? 1 : 0, amount, unit, rate, unit);
  } else {
    std::fprintf(stderr, "\r\033[K%s: %s %.*f %s %.1f %s/s", tool_.c_str(), label_.c_str(),
                 items_.empty() ? 1 : 0, amount, unit, rate, unit);
  }
  drawn_ = true;
}

}  // namespace dstk::tools
