// Systematic Cauchy Reed-Solomon erasure coding over GF(2^8), driven through Intel ISA-L.
//
// A segment is cut into k equal data slices (the last zero-padded); n-k parity slices are
// computed from them. Pillar i < k holds data slice i verbatim (systematic), so a healthy read
// of the data pillars needs no arithmetic at all. Any k of the n slices rebuild the segment:
// the k rows of the encoding matrix that belong to the surviving pillars form an invertible
// k-by-k matrix (every square submatrix of a Cauchy matrix is invertible), and its inverse
// turns the survivors back into the data slices.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "util/status.h"

namespace dstk::codec {

// The largest pillar width: ISA-L's Cauchy generator works in GF(2^8), and a pillar index is a
// byte on the wire.
inline constexpr int kMaxPillars = 255;

class ErasureCoder {
 public:
  // Checks 1 <= k <= n <= kMaxPillars and builds the encoding tables.
  static Result<std::shared_ptr<const ErasureCoder>> Create(int k, int n);

  int k() const { return k_; }
  int n() const { return n_; }

  // Bytes per slice for a segment of `segment_len` bytes: ceil(segment_len / k).
  size_t SliceLength(size_t segment_len) const { return (segment_len + k_ - 1) / k_; }

  // Computes the n-k parity slices from the k data slices, each `len` bytes long.
  void Encode(size_t len, const std::vector<const uint8_t*>& data,
              const std::vector<uint8_t*>& parity) const;

  // Rebuilds the k data slices from any k slices. `indices[j]` is the pillar index of
  // `slices[j]` (distinct, < n); `out[i]` receives data slice i, `len` bytes each.
  Status Decode(size_t len, const std::vector<int>& indices,
                const std::vector<const uint8_t*>& slices, const std::vector<uint8_t*>& out) const;

 private:
  ErasureCoder(int k, int n);

  int k_;
  int n_;
  std::vector<uint8_t> matrix_;         // n x k encoding matrix (top k rows: identity)
  std::vector<uint8_t> parity_tables_;  // ec_init_tables() of the n-k parity rows
};

}  // namespace dstk::codec
