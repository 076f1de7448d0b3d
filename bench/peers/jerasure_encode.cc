// Jerasure 2 "Cauchy good": cauchy_good_general_coding_matrix, turned into a bitmatrix and a
// smart schedule, encoded with jerasure_schedule_encode (w=8). The slice length is padded to a
// multiple of w*packetsize. Usage: jerasure_encode FILE K N [SEGMENT_BYTES [PACKETSIZE]]
#include <cauchy.h>
#include <jerasure.h>

#include "encode_common.h"

int main(int argc, char** argv) {
  EncodeArgs a =
      ParseEncodeArgs(argc, argv, "jerasure_encode FILE K N [SEGMENT_BYTES [PACKETSIZE]]");
  const int w = 8;
  const int packetsize = argc > 5 ? std::atoi(argv[5]) : 4096;
  a.align = static_cast<size_t>(w) * packetsize;
  int* matrix = cauchy_good_general_coding_matrix(a.k, a.m, w);
  int* bitmatrix = jerasure_matrix_to_bitmatrix(a.k, a.m, w, matrix);
  int** schedule = jerasure_smart_bitmatrix_to_schedule(a.k, a.m, w, bitmatrix);
  return RunEncodeLoop(a, [&](size_t len, uint8_t** data, uint8_t** parity) {
    jerasure_schedule_encode(a.k, a.m, w, schedule, reinterpret_cast<char**>(data),
                             reinterpret_cast<char**>(parity), static_cast<int>(len), packetsize);
  });
}
