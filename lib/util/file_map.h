// Read-only mappings of a file's segments: the way `dsenc split`, put and repair read a regular
// file without copying it (see SegmentReader for why).
//
// If the file shrinks under a mapping, touching the lost pages raises SIGBUS: tools that map
// user files install a handler that says so and exits (tools/common/sigbus.h).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "util/status.h"

namespace dstk {

// A private read-only mapping of `len` bytes of a file, unmapped when destroyed.
class MappedRegion {
 public:
  MappedRegion() = default;
  ~MappedRegion();
  MappedRegion(MappedRegion&& other) noexcept;
  MappedRegion& operator=(MappedRegion&& other) noexcept;
  MappedRegion(const MappedRegion&) = delete;
  MappedRegion& operator=(const MappedRegion&) = delete;

  // Maps [offset, offset + len) of `fd`. `offset` must be page-aligned; len 0 maps nothing and
  // yields an empty region. With `populate`, every page is mapped in the one call (a fault per
  // page costs more than the read it replaces); without, pages are mapped by Populate or on
  // first touch.
  static Result<MappedRegion> Map(int fd, uint64_t offset, size_t len, bool populate = true);

  // Maps the pages of bytes [offset, offset + len) of the region now, as one call. Threads may
  // populate different parts of one region at once (unlike mmap and munmap, which take the
  // process's address-space lock for writing, this only reads it). Kernels before 5.14 lack
  // it; there the pages are mapped on first touch instead.
  void Populate(size_t offset, size_t len) const;

  // Drops the page mappings of bytes [offset, offset + len) (page-aligned offset): the
  // memory they count goes, the region stays valid (touching the bytes maps them again).
  void Release(size_t offset, size_t len) const;

  std::span<const uint8_t> bytes() const { return {static_cast<const uint8_t*>(addr_), len_}; }

 private:
  void Reset();

  void* addr_ = nullptr;
  size_t len_ = 0;
};

// The bytes [start, end) of a file that can be mapped segment by segment.
struct MappableRange {
  uint64_t start = 0;  // the descriptor's offset when asked
  uint64_t end = 0;    // the file's length when asked
};

// The range of `fd` to map, or nullopt when it must be read instead: not a regular file, or
// its offset or `segment_size` not a multiple of the page size.
std::optional<MappableRange> FindMappableRange(int fd, size_t segment_size);

}  // namespace dstk
