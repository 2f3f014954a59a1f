// Housekeeping: gc deletes what no ref reaches (and stray temp files left by
// a killed process); fsck re-hashes every object and checks every ref.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "mlpack/store/repository.hpp"

namespace mlpack::store {

struct GcReport {
  std::uint64_t objects_removed = 0;
  std::uint64_t bytes_removed = 0;
  std::uint64_t objects_kept = 0;
  std::uint64_t temp_files_removed = 0;
};

// Holds the repository lock exclusively, so no pack or import runs meanwhile.
GcReport collect_garbage(Repository& repo, bool dry_run);

struct FsckProblem {
  std::string kind;    // corrupt-object, missing-object, bad-ref, bad-manifest
  std::string object;  // hex digest or ref
  std::string detail;
};

struct FsckReport {
  std::uint64_t objects_checked = 0;
  std::uint64_t refs_checked = 0;
  std::vector<FsckProblem> problems;
};

FsckReport check_repository(const Repository& repo);

// Manifest digests reachable from tags and stages.
std::vector<std::string> reachable_manifests(const Repository& repo);

}  // namespace mlpack::store
