// Small POSIX file helpers for the store: the durable-publish sequence and whole-file reads.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "util/status.h"
#include "util/unique_fd.h"

namespace dstk::store {

// A temp file next to `path` holding `parts` (concatenated), open for writing, not synced; on
// an error nothing is left behind. The first step of WriteFileAtomic and of a staged write.
struct TempFile {
  std::string path;
  UniqueFd fd;
};
Result<TempFile> WriteTempFile(const std::string& path,
                               const std::vector<std::span<const uint8_t>>& parts);

// Writes `parts` (concatenated) to `path` so that after a crash `path` is either absent, its
// old content, or the whole new content: a temp file in the same directory, fsync, rename over
// `path`, fsync the directory. ENOSPC and EDQUOT come back as kLimit; the temp file is removed.
Status WriteFileAtomic(const std::string& path, const std::vector<std::span<const uint8_t>>& parts);

// The directory part of `path` ("." when it has none).
std::string ParentDir(const std::string& path);

// write(2) of all of `data` (EINTR and short writes retried); errors name `path`.
Status WriteFully(int fd, std::span<const uint8_t> data, const std::string& path);

// Reads a whole file. kNotFound when it does not exist.
Result<std::vector<uint8_t>> ReadFile(const std::string& path);

// fsync of a directory, so that renames and unlinks in it are durable.
Status SyncDir(const std::string& dir);

// mkdir -p that fsyncs each parent whose entries it changed; with `unsynced`, the parents are
// appended there for the caller to fsync later (a group commit: store/staged_files.h).
Status MakeDirs(const std::string& root, const std::string& relative,
                std::vector<std::string>* unsynced = nullptr);

// pwrite of all `size` bytes at `offset` (EINTR and short writes retried); errors name `path`.
Status PwriteAll(int fd, const uint8_t* data, size_t size, uint64_t offset,
                 const std::string& path);

// pread of all `size` bytes at `offset` (EINTR and short reads retried); errors name `path`, and
// a file that ends first is kCorruption (what was read there was written whole).
Status PreadAll(int fd, uint8_t* data, size_t size, uint64_t offset, const std::string& path);

// Removes a file; a missing file is not an error. The caller syncs the directory.
Status RemoveFile(const std::string& path);

// Small files that carry their own CRC32C (manifests, claim states): the body, then the body's
// CRC32C little-endian. WithCrc appends it; BodyIfCrcMatches gives the body back, or kCorruption
// ("WHAT truncated" / "WHAT CRC mismatch").
std::string WithCrc(std::string_view body);
Result<std::span<const uint8_t>> BodyIfCrcMatches(std::span<const uint8_t> file,
                                                  const std::string& what);

// The errno of a failed call as a Status naming the call and the path: kLimit for ENOSPC and
// EDQUOT (a full disk is the operator's to fix, not an I/O fault), kNotFound for ENOENT, else
// kIoError.
Status Errno(const std::string& what, const std::string& path);
// A failed fsync/fdatasync: always kIoError, whatever the errno (ENOSPC too). After one, Linux
// may have dropped the dirty pages and marked them clean, so retrying the flush would report
// success without the data: a unit stops rather than acknowledge anything more (dsnode(8)).
Status FlushError(const std::string& what, const std::string& path);

// The basename prefix of temp files; Open() removes any left by a crash.
inline constexpr const char* kTempPrefix = ".tmp.";

}  // namespace dstk::store
