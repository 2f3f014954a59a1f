// Safe extraction target. Files are written to temp names beside their
// final place and renamed only when every file has been verified, so a
// failed unpack leaves the folder as it was. Parents are created one level at
// a time and a symlink anywhere on the way is refused: nothing can be
// written outside the target folder.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "mlpack/util/fs.hpp"

namespace mlpack::archive {

class OutputTree {
 public:
  explicit OutputTree(std::filesystem::path dir);
  // Without a commit, removes the temp files and the folders it created.
  ~OutputTree();
  OutputTree(const OutputTree&) = delete;
  OutputTree& operator=(const OutputTree&) = delete;
  // A temp file that becomes `relative_path` on commit; the path must be safe.
  fs::TempFile& open(const std::string& relative_path);
  void commit();
  const std::filesystem::path& dir() const { return dir_; }

 private:
  std::filesystem::path dir_;
  std::vector<std::pair<fs::TempFile, std::filesystem::path>> pending_;
  std::vector<std::filesystem::path> created_dirs_;  // in creation order
  bool committed_ = false;
};

}  // namespace mlpack::archive
