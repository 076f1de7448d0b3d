#include "codec/crc32c.h"

#include <isa-l/crc.h>

namespace dstk::codec {

uint32_t Crc32c(std::span<const uint8_t> data, uint32_t previous) {
  // crc32_iscsi works on the raw register; the standard CRC inverts on the way in and out.
  if (data.empty()) return previous;
  return ~crc32_iscsi(const_cast<unsigned char*>(data.data()), static_cast<int>(data.size()),
                      ~previous);
}

}  // namespace dstk::codec
