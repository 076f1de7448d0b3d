// Test helper: copies the records of a stream on stdin whose ordinal (from 0) is listed in
// FILE to stdout, optionally in a shuffled order. Lets tests drop slices from a split stream.
//   record_filter [--shuffle] FILE < stream > stream
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "util/fd_io.h"
#include "wire/record.h"

int main(int argc, char** argv) {
  bool shuffle = argc == 3 && std::string(argv[1]) == "--shuffle";
  if (argc != 2 + (shuffle ? 1 : 0)) {
    std::fprintf(stderr, "usage: record_filter [--shuffle] FILE\n");
    return 2;
  }
  std::set<size_t> keep;
  std::ifstream list(argv[argc - 1]);
  for (size_t i; list >> i;) keep.insert(i);
  dstk::wire::RecordReader reader(STDIN_FILENO);
  std::vector<std::string> out;
  for (size_t i = 0;; ++i) {
    auto rec = reader.Next();
    if (!rec.ok()) {
      std::fprintf(stderr, "record_filter: %s\n", rec.status().message().c_str());
      return 4;
    }
    if (!rec->has_value()) break;
    if (!keep.count(i)) continue;
    msgpack::sbuffer buf;
    msgpack::pack(buf, (*rec)->get());
    out.emplace_back(buf.data(), buf.size());
  }
  if (shuffle) std::shuffle(out.begin(), out.end(), std::mt19937(12345));
  for (const auto& r : out) {
    if (!dstk::WriteAll(STDOUT_FILENO, {reinterpret_cast<const uint8_t*>(r.data()), r.size()}).ok())
      return 6;
  }
  return 0;
}
