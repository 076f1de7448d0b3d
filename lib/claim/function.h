// A function: the unit of work a queue holds. Stored like any object (k-of-n slices, one
// segment) under a queue key, and encoded as a msgpack map with `type: "function"` so that
// `dsenc inspect` can show it.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "util/status.h"

namespace dstk::claim {

struct Function {
  std::vector<std::string> argv;    // run by exec, never through a shell unless argv says sh -c
  std::vector<std::string> inputs;  // objects streamed, decoded and in order, into stdin
  std::string output;               // object that stores stdout ("" = discard)
  uint32_t timeout_s = 0;           // wall-clock limit (0 = dsrun's default)
  uint32_t attempts = 3;            // runs before the function goes to QUEUE.failed
  uint32_t attempt = 0;             // consume mode: how many runs failed already
  std::string producer;             // who pushed it (host:pid)
  uint64_t pushed_us = 0;           // when, microseconds since the epoch
  std::string reason;               // in QUEUE.failed: why it failed
  std::string signer;     // Ed25519 public key (hex) of who signed it, or "" (claim/signing.h)
  std::string signature;  // hex, over SignedBytes; "" when unsigned
};

inline constexpr size_t kMaxFunctionBytes = 1u << 20;  // a function is one segment

std::string EncodeFunction(const Function& f);
Result<Function> DecodeFunction(std::span<const uint8_t> bytes);

// Makes queue keys that sort in push order across producers without a coordinator:
// "<queue>/<16 hex: microseconds, strictly increasing per generator>-<8 hex: producer id>".
class KeyGenerator {
 public:
  KeyGenerator();
  std::string Next(const std::string& queue);
  uint32_t producer() const { return producer_; }

 private:
  uint32_t producer_;
  uint64_t last_us_ = 0;
};

}  // namespace dstk::claim
