// CRC32C (Castagnoli), the checksum every slice carries. Backed by ISA-L's crc32_iscsi,
// which uses the SSE4.2 crc32 instruction where the CPU has it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace dstk::codec {

// Standard CRC32C of `data`; `Crc32c(b, Crc32c(a))` equals the CRC of a followed by b.
uint32_t Crc32c(std::span<const uint8_t> data, uint32_t previous = 0);

}  // namespace dstk::codec
