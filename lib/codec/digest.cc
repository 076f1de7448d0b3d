#include "codec/digest.h"

#include <openssl/sha.h>

namespace dstk::codec {

Digest Sha256(std::span<const uint8_t> data) {
  Digest out;
  // One-shot SHA256() picks the CPU's SHA extensions itself and cannot fail.
  SHA256(data.data(), data.size(), out.data());
  return out;
}

std::string DigestBytes(const Digest& d) {
  return std::string(reinterpret_cast<const char*>(d.data()), d.size());
}

std::string HexOf(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char ch : bytes) {
    out += kHex[ch >> 4];
    out += kHex[ch & 15];
  }
  return out;
}

}  // namespace dstk::codec
