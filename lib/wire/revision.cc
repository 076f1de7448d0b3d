#include "wire/revision.h"

#include <chrono>
#include <random>

namespace dstk::wire {

uint64_t NewRevision(uint64_t at_least) {
  const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  std::random_device rd;
  const uint64_t rev = static_cast<uint64_t>(micros) << 12 | (rd() & 0xfff);
  return rev >= at_least ? rev : at_least + (rd() & 0xfff);
}

}  // namespace dstk::wire
