// A temp folder per test, removed when the test passes and kept (with its
// path printed) when it fails, so a failure can be looked at.
#pragma once

#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

namespace mlpack::test {

class TestDir {
 public:
  TestDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "mlpack-unit-XXXXXX").string();
    path_ = ::mkdtemp(tmpl.data());
  }
  ~TestDir() {
    if (Catch::getResultCapture().lastAssertionPassed()) {
      std::error_code ec;
      std::filesystem::remove_all(path_, ec);
    } else {
      WARN("test folder kept: " << path_);
    }
  }
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path write(const std::string& rel, const std::string& content) const {
    std::filesystem::path p = path_ / rel;
    std::filesystem::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << content;
    return p;
  }

 private:
  std::filesystem::path path_;
};

}  // namespace mlpack::test
