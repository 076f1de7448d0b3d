#include "store/file_util.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "codec/crc32c.h"

namespace dstk::store {

Status Errno(const std::string& what, const std::string& path) {
  const int e = errno;
  std::string msg = what + " " + path + ": " + std::strerror(e);
  if (e == ENOSPC || e == EDQUOT) return Status::Limit(msg);
  if (e == ENOENT) return Status::NotFound(msg);
  return Status::IoError(msg);
}

Status FlushError(const std::string& what, const std::string& path) {
  return Status::IoError(what + " " + path + ": " + std::strerror(errno) +
                         " (a failed flush: the data may be lost from the page cache)");
}

std::string WithCrc(std::string_view body) {
  std::string out(body);
  const uint32_t crc = codec::Crc32c({reinterpret_cast<const uint8_t*>(body.data()), body.size()});
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>(crc >> (8 * i)));
  return out;
}

Result<std::span<const uint8_t>> BodyIfCrcMatches(std::span<const uint8_t> file,
                                                  const std::string& what) {
  if (file.size() < 4) return Status::Corruption(what + " truncated");
  const auto body = file.first(file.size() - 4);
  uint32_t crc = 0;
  for (int i = 0; i < 4; ++i) crc |= uint32_t{file[body.size() + i]} << (8 * i);
  if (codec::Crc32c(body) != crc) return Status::Corruption(what + " CRC mismatch");
  return body;
}

std::string ParentDir(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? "." : path.substr(0, slash);
}

Status WriteFully(int fd, std::span<const uint8_t> data, const std::string& path) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return Errno("write", path);
    }
    data = data.subspan(static_cast<size_t>(n));
  }
  return Status::Ok();
}

Status SyncDir(const std::string& dir) {
  const UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd.valid()) return Errno("open", dir);
  if (::fsync(fd.get()) != 0) return FlushError("fsync", dir);
  return Status::Ok();
}

Result<TempFile> WriteTempFile(const std::string& path,
                               const std::vector<std::span<const uint8_t>>& parts) {
  TempFile t{ParentDir(path) + "/" + kTempPrefix + "XXXXXX", UniqueFd()};
  t.fd.reset(::mkostemp(t.path.data(), O_CLOEXEC));
  if (!t.fd.valid()) return Errno("create", t.path);
  for (const auto& part : parts) {
    Status st = WriteFully(t.fd.get(), part, t.path);
    if (!st.ok()) {
      ::unlink(t.path.c_str());
      return st;  // t.fd closes with t
    }
  }
  return t;
}

Status WriteFileAtomic(const std::string& path,
                       const std::vector<std::span<const uint8_t>>& parts) {
  const std::string dir = ParentDir(path);
  auto written = WriteTempFile(path, parts);
  if (!written.ok()) return written.status();
  UniqueFd& fd = written->fd;
  const std::string& tmp = written->path;
  Status st;
  if (st.ok() && ::fsync(fd.get()) != 0) st = FlushError("fsync", tmp);
  // Checked: the rename below publishes the file, and a close error may mean the data is not
  // all there (NFS reports write errors only at close).
  if (Status closed = fd.Close(tmp); !closed.ok() && st.ok()) st = closed;
  if (st.ok() && ::rename(tmp.c_str(), path.c_str()) != 0) st = Errno("rename", tmp);
  if (!st.ok()) {
    ::unlink(tmp.c_str());
    return st;
  }
  return SyncDir(dir);
}

Result<std::vector<uint8_t>> ReadFile(const std::string& path) {
  // O_NOATIME: a unit reads each slice it serves, and an access-time update makes every first
  // read of a file an inode write (ext4's relatime); a unit never looks at access times. Only
  // the file's owner may ask for it (EPERM otherwise), so fall back to a plain open.
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOATIME));
  if (!fd.valid() && errno == EPERM) fd.reset(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return Errno("open", path);
  struct stat sb {};
  if (::fstat(fd.get(), &sb) != 0) return Errno("stat", path);
  // Read one byte past the size seen, so a file that grew meanwhile is read whole too.
  std::vector<uint8_t> data(static_cast<size_t>(sb.st_size) + 1);
  size_t have = 0;
  for (;;) {
    if (have == data.size()) data.resize(data.size() * 2);
    const ssize_t n = ::read(fd.get(), data.data() + have, data.size() - have);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Errno("read", path);
    }
    if (n == 0) break;
    have += static_cast<size_t>(n);
  }
  data.resize(have);
  return data;
}

Status MakeDirs(const std::string& root, const std::string& relative,
                std::vector<std::string>* unsynced) {
  std::string current = root;
  size_t start = 0;
  while (start < relative.size()) {
    size_t end = relative.find('/', start);
    if (end == std::string::npos) end = relative.size();
    const std::string parent = current;
    // Appended in two steps: `"/" + substr` trips GCC 12's -Wrestrict false positive at -O2
    // and above (Release builds with -Werror failed on it).
    current.push_back('/');
    current.append(relative, start, end - start);
    if (::mkdir(current.c_str(), 0755) == 0) {
      if (unsynced != nullptr) {
        unsynced->push_back(parent);
      } else {
        DSTK_RETURN_IF_ERROR(SyncDir(parent));
      }
    } else if (errno != EEXIST) {
      return Errno("mkdir", current);
    }
    start = end + 1;
  }
  return Status::Ok();
}

Status PwriteAll(int fd, const uint8_t* data, size_t size, uint64_t offset,
                 const std::string& path) {
  size_t done = 0;
  while (done < size) {
    const ssize_t n = ::pwrite(fd, data + done, size - done, static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return Errno("write", path);
    }
    done += static_cast<size_t>(n);
  }
  return Status::Ok();
}

Status PreadAll(int fd, uint8_t* data, size_t size, uint64_t offset, const std::string& path) {
  size_t done = 0;
  while (done < size) {
    const ssize_t n = ::pread(fd, data + done, size - done, static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return Errno("read", path);
    }
    if (n == 0) {
      return Status::Corruption(path + ": ends before byte " + std::to_string(offset + size));
    }
    done += static_cast<size_t>(n);
  }
  return Status::Ok();
}

Status RemoveFile(const std::string& path) {
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) return Errno("unlink", path);
  return Status::Ok();
}

}  // namespace dstk::store
