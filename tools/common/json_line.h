// JSON output of the tools: one object per line. Never throws: a string that is not UTF-8 (a
// name from a unit that broke the naming rule, a command's stderr) is printed with U+FFFD in
// place of each bad byte, instead of nlohmann's default of throwing, which aborted the tool.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace dstk::tools {

template <class Json>
std::string JsonLine(const Json& j) {
  return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

}  // namespace dstk::tools
