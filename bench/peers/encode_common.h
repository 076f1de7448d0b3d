// Shared by the encode peers: read FILE in segments (default 4 MiB, like dsenc), cut each into
// k data slices of equal padded length, hand them to an encoder, discard the parity. Prints one
// line: "bytes=B seconds=S encode_seconds=E" (S: wall time of the whole loop incl. reads; E: the
// time inside the encoder only).
#pragma once
#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <vector>

struct EncodeArgs {
  const char* file = nullptr;
  int k = 4, m = 2;
  size_t segment = 4u << 20;
  size_t align = 64;
};

inline EncodeArgs ParseEncodeArgs(int argc, char** argv, const char* usage) {
  EncodeArgs a;
  if (argc < 4) {
    std::fprintf(stderr, "usage: %s\n", usage);
    std::exit(2);
  }
  a.file = argv[1];
  a.k = std::atoi(argv[2]);
  a.m = std::atoi(argv[3]) - a.k;
  if (argc > 4) a.segment = std::strtoull(argv[4], nullptr, 10);
  if (a.k < 1 || a.m < 1) {
    std::fprintf(stderr, "need 1 <= k < n\n");
    std::exit(2);
  }
  return a;
}

// encode(len, data pointers, parity pointers)
inline int RunEncodeLoop(const EncodeArgs& a,
                         const std::function<void(size_t, uint8_t**, uint8_t**)>& encode) {
  using Clock = std::chrono::steady_clock;
  int fd = ::open(a.file, O_RDONLY);
  if (fd < 0) {
    std::perror(a.file);
    return 6;
  }
  size_t len = (a.segment + a.k - 1) / a.k;
  len = (len + a.align - 1) / a.align * a.align;
  std::vector<uint8_t> seg(len * a.k + 4096), parity(len * a.m);
  std::vector<uint8_t*> data(a.k), par(a.m);
  for (int i = 0; i < a.k; ++i) data[i] = seg.data() + i * len;
  for (int i = 0; i < a.m; ++i) par[i] = parity.data() + i * len;
  uint64_t bytes = 0, sink = 0;
  double enc = 0;
  const auto t0 = Clock::now();
  for (;;) {
    size_t got = 0;
    while (got < a.segment) {
      ssize_t r = ::read(fd, seg.data() + got, a.segment - got);
      if (r < 0) {
        std::perror("read");
        return 6;
      }
      if (r == 0) break;
      got += static_cast<size_t>(r);
    }
    if (got == 0) break;
    if (got < len * a.k) std::memset(seg.data() + got, 0, len * a.k - got);
    const auto e0 = Clock::now();
    encode(len, data.data(), par.data());
    enc += std::chrono::duration<double>(Clock::now() - e0).count();
    sink += par[a.m - 1][len - 1];
    bytes += got;
    if (got < a.segment) break;
  }
  const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  std::printf("bytes=%llu seconds=%.6f encode_seconds=%.6f sink=%llu\n",
              static_cast<unsigned long long>(bytes), secs, enc,
              static_cast<unsigned long long>(sink & 1));
  ::close(fd);
  return 0;
}
