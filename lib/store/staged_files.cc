#include "store/staged_files.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "store/file_util.h"

namespace dstk::store {

StagedFiles::~StagedFiles() {
  for (const auto& [path, s] : writes_) {
    ::close(s.fd);
    ::unlink(s.tmp.c_str());
  }
}

Status StagedFiles::Write(const std::string& path,
                          const std::vector<std::span<const uint8_t>>& parts) {
  auto written = WriteTempFile(path, parts);
  if (!written.ok()) return written.status();
  const int fd = written->fd;
  std::string tmp = std::move(written->path);
  // Start the writeback now, so the disk works while the unit handles the rest of the group.
  ::sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE);
  auto [it, fresh] = writes_.try_emplace(path, Staged{tmp, fd});
  if (!fresh) {
    ::close(it->second.fd);
    ::unlink(it->second.tmp.c_str());
    it->second = Staged{std::move(tmp), fd};
  }
  removes_.erase(path);  // the rename replaces it
  return Status::Ok();
}

const std::string& StagedFiles::ReadPath(const std::string& path) const {
  auto it = writes_.find(path);
  return it == writes_.end() ? path : it->second.tmp;
}

Status StagedFiles::Remove(const std::string& path) {
  if (auto it = writes_.find(path); it != writes_.end()) {
    ::close(it->second.fd);
    Status st = RemoveFile(it->second.tmp);
    writes_.erase(it);
    DSTK_RETURN_IF_ERROR(st);
  }
  removes_.insert(path);
  return Status::Ok();
}

Status StagedFiles::Commit() {
  // A write whose data cannot be made durable is dropped, not retried: after a failed
  // fdatasync Linux marks the pages clean, so a second one would succeed without the data.
  for (auto it = writes_.begin(); it != writes_.end(); ++it) {
    if (it->second.fd < 0) continue;  // synced by a commit that failed later on
    const bool synced = ::fdatasync(it->second.fd) == 0;
    Status st = synced ? Status::Ok() : FlushError("fdatasync", it->second.tmp);
    if (::close(it->second.fd) != 0 && st.ok()) st = Errno("close", it->second.tmp);
    it->second.fd = -1;
    if (!st.ok()) {
      ::unlink(it->second.tmp.c_str());
      writes_.erase(it);
      return st;
    }
  }
  for (auto it = writes_.begin(); it != writes_.end();) {
    if (::rename(it->second.tmp.c_str(), it->first.c_str()) != 0)
      return Errno("rename", it->second.tmp);
    dirs_.insert(ParentDir(it->first));
    it = writes_.erase(it);
  }
  for (auto it = dirs_.begin(); it != dirs_.end();) {
    DSTK_RETURN_IF_ERROR(SyncDir(*it));
    it = dirs_.erase(it);
  }
  // Only now may old files go: what replaces them is durable.
  std::set<std::string> changed;
  for (auto it = removes_.begin(); it != removes_.end();) {
    DSTK_RETURN_IF_ERROR(RemoveFile(*it));
    changed.insert(ParentDir(*it));
    it = removes_.erase(it);
  }
  for (const auto& dir : changed) {
    // A directory of a deleted object may be gone by now (nothing removes them today).
    Status st = SyncDir(dir);
    if (!st.ok() && st.code() != Code::kNotFound) return st;
  }
  return Status::Ok();
}

}  // namespace dstk::store
