#include "wire/revision.h"

#include <sys/random.h>

#include <chrono>
#include <random>

namespace dstk::wire {

uint64_t NewRevision(uint64_t at_least) {
  const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  // getrandom(2): one system call. A std::random_device is made per call otherwise, and making
  // one probes the CPU (cpuid), which a virtual machine traps: it showed in a worker's profile.
  uint32_t bits[2] = {0, 0};
  if (::getrandom(bits, sizeof bits, 0) != static_cast<ssize_t>(sizeof bits)) {
    std::random_device rd;  // no getrandom (a kernel before 3.17): the slow way
    bits[0] = rd();
    bits[1] = rd();
  }
  const uint64_t rev = static_cast<uint64_t>(micros) << 12 | (bits[0] & 0xfff);
  return rev >= at_least ? rev : at_least + (bits[1] & 0xfff);
}

}  // namespace dstk::wire
