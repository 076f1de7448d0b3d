#include "util/temp_file.h"

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace dstk {

std::string TempDir() {
  const char* dir = ::getenv("TMPDIR");
  return dir != nullptr && dir[0] != '\0' ? std::string(dir) : std::string("/tmp");
}

Result<UniqueFd> OpenUnlinkedTempFile(const std::string& prefix) {
  std::string path = TempDir();
  path.push_back('/');
  path.append(prefix);
  path.append(".XXXXXX");
  UniqueFd fd(::mkostemp(path.data(), O_CLOEXEC));
  if (!fd.valid()) {
    return Status::IoError("cannot create a temp file " + path + ": " + std::strerror(errno));
  }
  ::unlink(path.c_str());
  return fd;
}

}  // namespace dstk
