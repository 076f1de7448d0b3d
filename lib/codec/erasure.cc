#include "codec/erasure.h"

#include <isa-l/erasure_code.h>

#include <cstring>
#include <string>

namespace dstk::codec {

Result<std::shared_ptr<const ErasureCoder>> ErasureCoder::Create(int k, int n) {
  if (k < 1 || n < k || n > kMaxPillars) {
    return Status::Invalid("bad erasure parameters k=" + std::to_string(k) +
                           " n=" + std::to_string(n) +
                           ": need 1 <= k <= n <= " + std::to_string(kMaxPillars));
  }
  return std::shared_ptr<const ErasureCoder>(new ErasureCoder(k, n));
}

ErasureCoder::ErasureCoder(int k, int n)
    : k_(k), n_(n), matrix_(static_cast<size_t>(n) * k), parity_tables_(32u * k * (n - k) + 1) {
  gf_gen_cauchy1_matrix(matrix_.data(), n_, k_);
  if (n_ > k_)
    ec_init_tables(k_, n_ - k_, &matrix_[static_cast<size_t>(k_) * k_], parity_tables_.data());
}

void ErasureCoder::Encode(size_t len, const std::vector<const uint8_t*>& data,
                          const std::vector<uint8_t*>& parity) const {
  if (n_ == k_ || len == 0) return;
  // ISA-L takes non-const pointers but only reads the sources.
  std::vector<uint8_t*> src(data.size());
  for (size_t i = 0; i < data.size(); ++i) src[i] = const_cast<uint8_t*>(data[i]);
  ec_encode_data(static_cast<int>(len), k_, n_ - k_, const_cast<uint8_t*>(parity_tables_.data()),
                 src.data(), const_cast<uint8_t**>(parity.data()));
}

Status ErasureCoder::Decode(size_t len, const std::vector<int>& indices,
                            const std::vector<const uint8_t*>& slices,
                            const std::vector<uint8_t*>& out) const {
  const auto k = static_cast<size_t>(k_);
  if (indices.size() != k || slices.size() != k || out.size() != k) {
    return Status::Invalid("decode needs exactly k=" + std::to_string(k_) + " slices");
  }
  std::vector<bool> seen(n_, false);
  for (int idx : indices) {
    if (idx < 0 || idx >= n_ || seen[idx]) return Status::Invalid("bad or repeated pillar index");
    seen[idx] = true;
  }
  if (len == 0) return Status::Ok();

  // Data slices we already hold are copied; only the missing ones need the inverse matrix.
  std::vector<int> missing;
  for (int i = 0; i < k_; ++i) {
    if (!seen[i]) missing.push_back(i);
  }
  for (size_t j = 0; j < k; ++j) {
    if (indices[j] < k_) std::memcpy(out[indices[j]], slices[j], len);
  }
  if (missing.empty()) return Status::Ok();

  std::vector<uint8_t> sub(k * k), inverse(k * k);
  for (size_t j = 0; j < k; ++j) {
    std::memcpy(&sub[j * k], &matrix_[static_cast<size_t>(indices[j]) * k], k);
  }
  if (gf_invert_matrix(sub.data(), inverse.data(), k_) != 0) {
    return Status::Corruption("decode matrix is singular");  // cannot happen for Cauchy
  }
  // Row i of the inverse rebuilds data slice i from the k survivors.
  std::vector<uint8_t> rows(missing.size() * k);
  for (size_t m = 0; m < missing.size(); ++m) {
    std::memcpy(&rows[m * k], &inverse[static_cast<size_t>(missing[m]) * k], k);
  }
  std::vector<uint8_t> tables(32 * k * missing.size());
  ec_init_tables(k_, static_cast<int>(missing.size()), rows.data(), tables.data());
  std::vector<uint8_t*> src(k), dst(missing.size());
  for (size_t j = 0; j < k; ++j) src[j] = const_cast<uint8_t*>(slices[j]);
  for (size_t m = 0; m < missing.size(); ++m) dst[m] = out[missing[m]];
  ec_encode_data(static_cast<int>(len), k_, static_cast<int>(missing.size()), tables.data(),
                 src.data(), dst.data());
  return Status::Ok();
}

}  // namespace dstk::codec
