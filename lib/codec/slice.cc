#include "codec/slice.h"

#include <vector>

#include "codec/crc32c.h"
#include "codec/erasure.h"

namespace dstk::codec {
namespace {

void PutLe(std::vector<uint8_t>& out, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}

}  // namespace

uint32_t ComputeSliceCrc(const SliceHeader& h, std::span<const uint8_t> payload) {
  std::vector<uint8_t> fields;
  fields.reserve(64 + h.name.size());
  PutLe(fields, h.name.size(), 4);
  fields.insert(fields.end(), h.name.begin(), h.name.end());
  PutLe(fields, h.rev, 8);
  PutLe(fields, h.seg, 4);
  PutLe(fields, h.segs, 4);
  PutLe(fields, h.idx, 4);
  PutLe(fields, h.k, 4);
  PutLe(fields, h.n, 4);
  PutLe(fields, h.size, 8);
  PutLe(fields, h.seglen, 4);
  PutLe(fields, h.segsize, 4);
  return Crc32c(payload, Crc32c(fields));
}

Status CheckSliceFields(const SliceHeader& h, size_t payload_len) {
  if (h.k < 1 || h.n < h.k || h.n > static_cast<uint32_t>(kMaxPillars)) {
    return Status::Corruption("slice has bad k/n");
  }
  if (h.idx >= h.n) return Status::Corruption("slice pillar index out of range");
  if (h.segsize == 0 || h.segsize > kMaxSegmentSize) {
    return Status::Corruption("slice has bad segment size");
  }
  if (h.seglen > h.segsize) return Status::Corruption("slice segment length exceeds segment size");
  if (h.segs != kUnknownCount && h.seg >= h.segs) {
    return Status::Corruption("slice segment number out of range");
  }
  if (payload_len != h.PayloadLength()) {
    return Status::Corruption("slice payload is " + std::to_string(payload_len) +
                              " bytes, header says " + std::to_string(h.PayloadLength()));
  }
  return Status::Ok();
}

Status VerifySlice(const SliceHeader& h, std::span<const uint8_t> payload) {
  DSTK_RETURN_IF_ERROR(CheckSliceFields(h, payload.size()));
  if (ComputeSliceCrc(h, payload) != h.crc) return Status::Corruption("slice CRC mismatch");
  return Status::Ok();
}

}  // namespace dstk::codec
