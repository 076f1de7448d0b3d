#include "codec/segment.h"

#include <cstring>

namespace dstk::codec {

SegmentEncoder::SegmentEncoder(std::shared_ptr<const ErasureCoder> coder)
    : coder_(std::move(coder)) {}

const std::vector<std::span<const uint8_t>>& SegmentEncoder::Encode(
    std::span<const uint8_t> segment) {
  const size_t k = coder_->k(), n = coder_->n();
  const size_t len = coder_->SliceLength(segment.size());
  // Layout of scratch_: [partial data slice][all-zero slice][parity 0]...[parity n-k-1].
  scratch_.resize(len * (n - k + 2));
  uint8_t* partial = scratch_.data();
  uint8_t* zeros = scratch_.data() + len;
  bool zeroed = false;  // cleared only when used: a full segment needs no padding slice
  views_.assign(n, {});
  std::vector<const uint8_t*> data(k);
  for (size_t i = 0; i < k; ++i) {
    const size_t begin = i * len;
    if (begin + len <= segment.size()) {
      data[i] = segment.data() + begin;  // a full slice: a view, no copy
    } else if (begin < segment.size()) {
      const size_t have = segment.size() - begin;  // the one partial slice: copy and pad
      std::memcpy(partial, segment.data() + begin, have);
      std::memset(partial + have, 0, len - have);
      data[i] = partial;
    } else {
      if (!zeroed && len > 0) std::memset(zeros, 0, len);
      zeroed = true;
      data[i] = zeros;  // past the end (segment shorter than k slices): padding only
    }
    views_[i] = {data[i], len};
  }
  std::vector<uint8_t*> parity(n - k);
  for (size_t p = 0; p < n - k; ++p) {
    parity[p] = scratch_.data() + (p + 2) * len;
    views_[k + p] = {parity[p], len};
  }
  coder_->Encode(len, data, parity);
  return views_;
}

Status DecodeSegment(const ErasureCoder& coder, size_t seglen, const std::vector<int>& indices,
                     const std::vector<std::span<const uint8_t>>& payloads,
                     std::vector<uint8_t>& out) {
  const size_t k = coder.k();
  const size_t len = coder.SliceLength(seglen);
  if (payloads.size() != k) return Status::Invalid("decode needs exactly k payloads");
  std::vector<const uint8_t*> src(k);
  for (size_t j = 0; j < k; ++j) {
    if (payloads[j].size() != len) return Status::Corruption("slice payload has wrong length");
    src[j] = payloads[j].data();
  }
  out.resize(len * k);
  std::vector<uint8_t*> dst(k);
  for (size_t i = 0; i < k; ++i) dst[i] = out.data() + i * len;
  DSTK_RETURN_IF_ERROR(coder.Decode(len, indices, src, dst));
  out.resize(seglen);
  return Status::Ok();
}

}  // namespace dstk::codec
