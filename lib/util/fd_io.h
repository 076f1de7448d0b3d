// Whole-buffer reads and writes on file descriptors, retrying short transfers and EINTR.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <span>
#include <string>

#include "util/status.h"

namespace dstk {

// Reads until `buf` is full or end of file; returns the bytes read.
Result<size_t> ReadFull(int fd, std::span<uint8_t> buf);

// Writes all of `data`. kIoError (with errno's text) on failure, EPIPE included.
Status WriteAll(int fd, std::span<const uint8_t> data);

// Writes every buffer of `parts` in order, gathered with writev: no copy into one buffer.
Status WriteAllGathered(int fd, std::span<const std::span<const uint8_t>> parts);

// The number of bytes left to read when `fd` is a regular file positioned at its start (a
// file given by name or redirected with <); kUnknown for pipes, terminals and sockets.
inline constexpr uint64_t kUnknownLength = ~uint64_t{0};
uint64_t KnownLength(int fd);

// Creates `path` (never over an existing file) with `mode`, writes `body` and fsyncs it: how key
// files are written.
Status WriteNewFile(const std::string& path, const std::string& body, mode_t mode);

}  // namespace dstk
