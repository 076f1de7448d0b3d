#include "store/staged_files.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "store/file_util.h"

namespace dstk::store {

StagedFiles::~StagedFiles() {
  for (const auto& [path, s] : writes_) ::unlink(s.tmp.c_str());  // s.fd closes with writes_
}

Status StagedFiles::Write(const std::string& path,
                          const std::vector<std::span<const uint8_t>>& parts) {
  auto written = WriteTempFile(path, parts);
  if (!written.ok()) return written.status();
  // Start the writeback now, so the disk works while the unit handles the rest of the group.
  ::sync_file_range(written->fd.get(), 0, 0, SYNC_FILE_RANGE_WRITE);
  Staged staged{std::move(written->path), std::move(written->fd)};
  auto it = writes_.find(path);
  if (it == writes_.end()) {
    writes_.emplace(path, std::move(staged));
  } else {
    ::unlink(it->second.tmp.c_str());
    it->second = std::move(staged);  // closes the replaced temp file's descriptor
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
    it->second.fd.reset();
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
    if (!it->second.fd.valid()) continue;  // synced by a commit that failed later on
    const bool synced = ::fdatasync(it->second.fd.get()) == 0;
    Status st = synced ? Status::Ok() : FlushError("fdatasync", it->second.tmp);
    // Checked: the rename below publishes the file, so a close error must stop it.
    if (Status closed = it->second.fd.Close(it->second.tmp); !closed.ok() && st.ok()) st = closed;
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
