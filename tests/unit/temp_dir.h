// A fresh directory under the temp dir for one test, removed with everything in it at the end.
#pragma once

#include <stdlib.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <string>

namespace dstk::test {

class TempDir {
 public:
  explicit TempDir(const std::string& what = "dstk-test") {
    std::string tmpl = (std::filesystem::temp_directory_path() / (what + ".XXXXXX")).string();
    REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace dstk::test
