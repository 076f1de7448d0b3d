#include "exec/command.h"

#include <sys/stat.h>
#include <unistd.h>

#include <string_view>

#include "exec/runner.h"

namespace dstk::exec {
namespace {

bool HasNul(const std::string& s) {
  return s.find('\0') != std::string::npos;
}

}  // namespace

std::vector<std::string> CleanEnv() {
  const std::string scratch(kScratchToken);
  return {"PATH=/usr/local/bin:/usr/bin:/bin", "HOME=" + scratch, "TMPDIR=" + scratch,
          "LANG=C.UTF-8"};
}

Status CheckArgv(const std::vector<std::string>& argv) {
  if (argv.empty() || argv[0].empty()) return Status::Invalid("empty command");
  for (const std::string& arg : argv) {
    if (HasNul(arg)) return Status::Invalid("command argument holds a NUL byte");
  }
  return Status::Ok();
}

Result<std::vector<std::string>> PrepareEnv(const std::vector<std::string>& env,
                                            const std::string& scratch) {
  std::vector<std::string> out;
  out.reserve(env.size());
  for (const std::string& entry : env) {
    const size_t eq = entry.find('=');
    if (eq == std::string::npos || eq == 0) {
      return Status::Invalid("environment entry is not KEY=VALUE: " + entry);
    }
    if (HasNul(entry)) return Status::Invalid("environment entry holds a NUL byte");
    std::string value = entry.substr(eq + 1);
    for (size_t at = value.find(kScratchToken); at != std::string::npos;
         at = value.find(kScratchToken, at + scratch.size())) {
      value.replace(at, kScratchToken.size(), scratch);
    }
    out.push_back(entry.substr(0, eq + 1) + value);
  }
  return out;
}

Result<std::string> ResolveCommand(const std::string& name, const std::vector<std::string>& env) {
  if (name.find('/') != std::string::npos) return name;
  std::string_view path;
  bool have_path = false;
  for (const std::string& entry : env) {
    if (entry.starts_with("PATH=")) {
      path = std::string_view(entry).substr(5);
      have_path = true;
      break;
    }
  }
  bool denied = false;
  while (have_path) {
    const size_t colon = path.find(':');
    const std::string_view dir = path.substr(0, colon);
    if (dir.starts_with('/')) {  // empty and relative entries would mean the scratch dir
      std::string candidate(dir);
      candidate += '/';
      candidate += name;
      struct stat sb {};
      if (::stat(candidate.c_str(), &sb) == 0 && S_ISREG(sb.st_mode)) {
        if (::access(candidate.c_str(), X_OK) == 0) return candidate;
        denied = true;
      }
    }
    if (colon == std::string_view::npos) break;
    path.remove_prefix(colon + 1);
  }
  if (denied) return Status::Invalid("permission denied: " + name);
  return Status::NotFound("command not found: " + name +
                          (have_path ? "" : " (no PATH in the environment)"));
}

}  // namespace dstk::exec
