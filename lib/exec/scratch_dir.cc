#include "exec/scratch_dir.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "util/unique_fd.h"

namespace dstk::exec {
namespace {

// Below this depth a subdirectory is moved up to the top instead of being descended into.
constexpr int kMaxDepth = 16;
// Passes over the top directory before giving up (each pass removes or moves something).
constexpr int kMaxPasses = 1000;

Status Errno(const std::string& what, const std::string& path) {
  return Status::IoError(what + " " + path + ": " + std::strerror(errno));
}

class TreeRemover {
 public:
  TreeRemover(std::string root, int top_fd) : root_(std::move(root)), top_fd_(top_fd) {}

  // Empties the directory `fd` (at `depth` below the top); sets `progress` when it removed or
  // moved anything. Entries that remain after it returns are deep directories it moved up.
  Status Empty(int fd, int depth, bool& progress) {
    const int list_fd = ::dup(fd);
    if (list_fd < 0) return Errno("dup", root_);
    DIR* dir = ::fdopendir(list_fd);
    if (dir == nullptr) {
      ::close(list_fd);
      return Errno("opendir", root_);
    }
    ::rewinddir(dir);
    std::vector<std::string> names;
    errno = 0;
    while (const dirent* e = ::readdir(dir)) {
      if (std::strcmp(e->d_name, ".") != 0 && std::strcmp(e->d_name, "..") != 0) {
        names.emplace_back(e->d_name);
      }
    }
    const int read_errno = errno;
    ::closedir(dir);
    if (read_errno != 0) {
      errno = read_errno;
      return Errno("readdir", root_);
    }
    for (const std::string& name : names) {
      DSTK_RETURN_IF_ERROR(RemoveEntry(fd, name, depth, progress));
    }
    return Status::Ok();
  }

 private:
  Status RemoveEntry(int fd, const std::string& name, int depth, bool& progress) {
    if (::unlinkat(fd, name.c_str(), 0) == 0 || errno == ENOENT) {
      progress = true;
      return Status::Ok();
    }
    if (errno != EISDIR) return Errno("unlink", root_ + "/.../" + name);
    if (depth >= kMaxDepth) return MoveToTop(fd, name, progress);
    // unlinkat said EISDIR, so `name` is a directory, not a link: chmod does not follow one.
    ::fchmodat(fd, name.c_str(), S_IRWXU, 0);
    UniqueFd sub(::openat(fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!sub.valid()) return Errno("open", root_ + "/.../" + name);
    DSTK_RETURN_IF_ERROR(Empty(sub.get(), depth + 1, progress));
    if (::unlinkat(fd, name.c_str(), AT_REMOVEDIR) == 0) {
      progress = true;
    } else if (errno != ENOTEMPTY && errno != EEXIST) {  // not empty: moved-up parts remain
      return Errno("rmdir", root_ + "/.../" + name);
    }
    return Status::Ok();
  }

  Status MoveToTop(int fd, const std::string& name, bool& progress) {
    for (;;) {
      const std::string moved = ".dstk-deep." + std::to_string(next_id_++);
      if (::renameat(fd, name.c_str(), top_fd_, moved.c_str()) == 0) {
        progress = true;
        return Status::Ok();
      }
      if (errno != EEXIST && errno != ENOTEMPTY) return Errno("rename", root_ + "/.../" + name);
    }
  }

  std::string root_;
  int top_fd_;
  uint64_t next_id_ = 0;
};

}  // namespace

Result<ScratchDir> ScratchDir::Create(const std::string& parent) {
  if (parent.empty()) return Status::Invalid("no scratch parent directory given");
  std::string path = parent + "/dstk-run.XXXXXX";
  if (::mkdtemp(path.data()) == nullptr) return Errno("mkdtemp", path);
  return ScratchDir(std::move(path));
}

Status ScratchDir::Remove() {
  if (path_.empty()) return Status::Ok();
  Status st = RemoveTree(path_);
  path_.clear();
  return st;
}

Status RemoveTree(const std::string& path) {
  UniqueFd top(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!top.valid()) {
    if (errno == ENOENT) return Status::Ok();
    ::chmod(path.c_str(), S_IRWXU);
    top.reset(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!top.valid()) return Errno("open", path);
  }
  ::fchmod(top.get(), S_IRWXU);
  TreeRemover remover(path, top.get());
  for (int pass = 0; pass < kMaxPasses; ++pass) {
    bool progress = false;
    DSTK_RETURN_IF_ERROR(remover.Empty(top.get(), 0, progress));
    if (::rmdir(path.c_str()) == 0) return Status::Ok();
    if (errno != ENOTEMPTY && errno != EEXIST) return Errno("rmdir", path);
    if (!progress) break;
  }
  return Status::IoError("cannot empty " + path + ": entries keep appearing or cannot be removed");
}

}  // namespace dstk::exec
