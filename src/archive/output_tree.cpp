#include "mlpack/archive/output_tree.hpp"

#include <sys/stat.h>

#include <unistd.h>

#include <cerrno>

#include "mlpack/manifest/manifest.hpp"
#include "mlpack/util/error.hpp"

namespace mlpack::archive {
namespace stdfs = std::filesystem;

OutputTree::OutputTree(stdfs::path dir) : dir_(std::move(dir)) {
  std::vector<stdfs::path> missing;
  for (stdfs::path p = dir_; !p.empty() && !stdfs::exists(p); p = p.parent_path()) {
    missing.push_back(p);
    if (p == p.parent_path()) break;
  }
  std::error_code ec;
  stdfs::create_directories(dir_, ec);
  if (ec) throw RuntimeError("cannot create " + dir_.string() + ": " + ec.message());
  created_dirs_.assign(missing.rbegin(), missing.rend());
}

OutputTree::~OutputTree() {
  if (committed_) return;
  pending_.clear();  // unlinks the temp files
  for (auto it = created_dirs_.rbegin(); it != created_dirs_.rend(); ++it) {
    ::rmdir(it->c_str());  // only succeeds when empty, as intended
  }
}

fs::TempFile& OutputTree::open(const std::string& relative_path) {
  if (!manifest::is_safe_relative_path(relative_path)) {
    throw IntegrityError("refusing unsafe path '" + relative_path + "'");
  }
  stdfs::path parent = dir_;
  stdfs::path rel(relative_path);
  for (auto it = rel.begin(); it != rel.end(); ++it) {
    if (std::next(it) == rel.end()) break;
    parent /= *it;
    struct stat st {};
    if (::lstat(parent.c_str(), &st) == 0) {
      if (S_ISLNK(st.st_mode)) {
        throw IntegrityError("refusing to write through symlink " + parent.string());
      }
      if (!S_ISDIR(st.st_mode)) {
        throw IntegrityError("cannot write " + relative_path + ": " + parent.string() +
                             " is not a folder");
      }
    } else if (::mkdir(parent.c_str(), 0755) == 0) {
      created_dirs_.push_back(parent);
    } else if (errno != EEXIST) {
      throw_system_error("cannot create " + parent.string(), errno);
    }
  }
  stdfs::path target = dir_ / rel;
  struct stat st {};
  if (::lstat(target.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
    throw IntegrityError("cannot write " + relative_path + ": a folder is in the way");
  }
  pending_.emplace_back(fs::TempFile(parent, ".mlpack-tmp-"), target);
  return pending_.back().first;
}

void OutputTree::commit() {
  for (auto& [file, target] : pending_) {
    file.close();
    ::chmod(file.path().c_str(), 0644);
  }
  for (auto& [file, target] : pending_) file.commit_replace(target);
  pending_.clear();
  committed_ = true;
  fs::fsync_dir(dir_);
}

}  // namespace mlpack::archive
