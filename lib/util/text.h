// Small text helpers shared by the readers of key, trust and allow-list files.
#pragma once

#include <string>

namespace dstk {

// `s` without leading and trailing blanks (spaces, tabs, CR, LF).
inline std::string Trim(const std::string& s) {
  const size_t b = s.find_first_not_of(" \t\r\n");
  const size_t e = s.find_last_not_of(" \t\r\n");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

}  // namespace dstk
