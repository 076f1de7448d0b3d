// A run's private working directory: made with mkdtemp, removed with everything in it.
// Internal to lib/exec.
#pragma once

#include <string>

#include "util/status.h"

namespace dstk::exec {

class ScratchDir {
 public:
  // Makes `parent`/dstk-run.XXXXXX, mode 0700.
  static Result<ScratchDir> Create(const std::string& parent);

  ScratchDir(ScratchDir&& other) noexcept : path_(std::move(other.path_)) { other.path_.clear(); }
  ScratchDir& operator=(ScratchDir&&) = delete;
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  // The fallback for early returns: a caller that must know the tree went calls Remove() and
  // checks it; here a failure can only leave a stray directory under the parent behind.
  ~ScratchDir() { (void)Remove(); }

  const std::string& path() const { return path_; }

  // Removes the directory and everything below it (see RemoveTree). Later calls do nothing.
  Status Remove();

 private:
  explicit ScratchDir(std::string path) : path_(std::move(path)) {}
  std::string path_;
};

// Removes the directory `path` and everything below it, as rm -rf would, but: symbolic links
// are removed, never followed; directories the command made unreadable or unwritable are made
// ours first; and a tree of any depth is removed with a bounded number of open descriptors
// (deep subtrees are moved up to `path` and removed from there).
Status RemoveTree(const std::string& path);

}  // namespace dstk::exec
