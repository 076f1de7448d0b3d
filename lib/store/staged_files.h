// Group commit for a unit's files: many atomic writes and removals made durable by one Commit.
//
// A unit used to make every slice and manifest durable on its own (write a temp file, fsync,
// rename, fsync the directory): four to five waits for the disk per file, so a unit stored a few
// hundred small objects a second however many clients pushed at once. StagedFiles keeps the
// same crash guarantee (after a crash each file is absent, its old content, or the whole new
// content) and pays for the waits once per group of requests:
//
//   Write   writes the new content to a temp file next to the target, not synced.
//   Remove  forgets a staged write now (its temp file goes), and unlinks the target at Commit,
//           after every staged write is durable: a publish removes the previous manifest only
//           once the new one cannot be lost.
//   Commit  starts writeback of every temp file at once (sync_file_range), waits for each
//           (fdatasync: one journal commit covers the group, not one per file), renames each
//           over its target, fsyncs each directory whose entries changed, then unlinks the
//           removed files and fsyncs their directories.
//
// Until Commit, ReadPath says where a staged file's bytes are, so a unit serves what it has
// accepted. A unit must not acknowledge a write before the Commit that covers it returns Ok
// (the server holds those replies: node/server.h). A failed Commit keeps what it has not done
// and the next one tries again; a crash forgets it all, and a unit removes temp files at start.
// Why not syncfs(2): it flushes every file on the file system, other units' and programs' too.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "util/status.h"
#include "util/unique_fd.h"

namespace dstk::store {

class StagedFiles {
 public:
  StagedFiles() = default;
  ~StagedFiles();  // removes the temp files of writes never committed
  StagedFiles(const StagedFiles&) = delete;
  StagedFiles& operator=(const StagedFiles&) = delete;

  // Stages `parts` (concatenated) as the next content of `path`. ENOSPC/EDQUOT are kLimit and
  // leave nothing behind. Staging a path again replaces the earlier staged content.
  Status Write(const std::string& path, const std::vector<std::span<const uint8_t>>& parts);
  // Where `path`'s current content is: its staged temp file, or `path` itself.
  const std::string& ReadPath(const std::string& path) const;
  // Drops any staged write of `path` and unlinks `path` at the next Commit.
  Status Remove(const std::string& path);
  // A directory whose entries changed outside this class (a mkdir in it): fsynced at Commit.
  void DirChanged(const std::string& dir) { dirs_.insert(dir); }

  bool empty() const { return writes_.empty() && removes_.empty() && dirs_.empty(); }
  Status Commit();

 private:
  struct Staged {
    std::string tmp;  // the temp file
    UniqueFd fd;      // open on it until the commit, so syncing it needs no path lookup
  };
  std::map<std::string, Staged> writes_;  // target path -> its staged content
  std::set<std::string> removes_;         // targets to unlink once the writes are durable
  std::set<std::string> dirs_;            // directories to fsync
};

}  // namespace dstk::store
