// Checking a RunSpec and finding the program to exec. Internal to lib/exec.
#pragma once

#include <string>
#include <vector>

#include "util/status.h"

namespace dstk::exec {

// kInvalidArgument unless argv has a non-empty argv[0] and no string holds a NUL byte.
Status CheckArgv(const std::vector<std::string>& argv);

// `env` with every kScratchToken replaced by `scratch`. kInvalidArgument for an entry without
// '=' (or starting with one) or holding a NUL byte.
Result<std::vector<std::string>> PrepareEnv(const std::vector<std::string>& env,
                                            const std::string& scratch);

// The path to exec for `name`: `name` itself when it holds a '/', else the first executable
// regular file `dir/name` for an absolute `dir` in the PATH of `env` (the first PATH entry).
// kNotFound "command not found: NAME" when there is none; kInvalidArgument "permission
// denied: NAME" when such files exist but none may be executed.
Result<std::string> ResolveCommand(const std::string& name, const std::vector<std::string>& env);

}  // namespace dstk::exec
