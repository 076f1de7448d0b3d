// Raw ISA-L: gf_gen_cauchy1_matrix + ec_init_tables + ec_encode_data per segment (the codec dstk
// uses, without CRCs, framing or output). Usage: isal_encode FILE K N [SEGMENT_BYTES]
#include <isa-l/erasure_code.h>

#include "encode_common.h"

int main(int argc, char** argv) {
  EncodeArgs a = ParseEncodeArgs(argc, argv, "isal_encode FILE K N [SEGMENT_BYTES]");
  const int n = a.k + a.m;
  std::vector<uint8_t> matrix(static_cast<size_t>(n) * a.k), tables(32u * a.k * a.m);
  gf_gen_cauchy1_matrix(matrix.data(), n, a.k);
  ec_init_tables(a.k, a.m, &matrix[static_cast<size_t>(a.k) * a.k], tables.data());
  return RunEncodeLoop(a, [&](size_t len, uint8_t** data, uint8_t** parity) {
    ec_encode_data(static_cast<int>(len), a.k, a.m, tables.data(), data, parity);
  });
}
