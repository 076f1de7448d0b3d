// SHA-256, the hash a manifest keeps of every slice of its revision (wire::Manifest::hashes)
// so that a reader can tell a slice a unit made up from the one the writer stored.
//
// Backed by OpenSSL's libcrypto, which uses the CPU's SHA extensions where it has them: on the
// x86 machines dstk is measured on that is 1.7 GB/s a core, against 0.6 GB/s for libsodium's
// BLAKE2b and 0.17 GB/s for its SHA-256 (docs/decisions.md). A reader hashes every byte it
// decodes, so the hash's speed is the get rate's.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>

namespace dstk::codec {

inline constexpr size_t kDigestSize = 32;
using Digest = std::array<uint8_t, kDigestSize>;

// SHA-256 of `data`.
Digest Sha256(std::span<const uint8_t> data);

// The digest as raw bytes in a string (how a manifest stores it) and as lowercase hex.
std::string DigestBytes(const Digest& d);
std::string HexOf(std::string_view bytes);

}  // namespace dstk::codec
