#include "mlpack/store/maintenance.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include "mlpack/crypto/sha256.hpp"
#include "mlpack/store/stages.hpp"
#include "mlpack/util/error.hpp"
#include "mlpack/util/fs.hpp"

namespace mlpack::store {

std::vector<std::string> reachable_manifests(const Repository& repo) {
  std::set<std::string> roots;
  for (const auto& t : repo.list_tags()) roots.insert(t.digest);
  for (const auto& s : repo.list_stages()) roots.insert(s.digest);
  // A rollback can go back to any version a stage ever held.
  for (const auto& d : digests_in_stage_logs(repo)) {
    if (repo.has_object(d)) roots.insert(d);
  }
  return {roots.begin(), roots.end()};
}

GcReport collect_garbage(Repository& repo, bool dry_run) {
  fs::FileLock lock(repo.lock_path(), fs::FileLock::Mode::kExclusive);
  GcReport report;
  std::set<std::string> live;
  for (const auto& hex : reachable_manifests(repo)) {
    live.insert(hex);
    // A ref to a missing or corrupt manifest is fsck's business; gc must not
    // guess, so it stops rather than delete blobs that manifest might need.
    manifest::Manifest m = repo.read_manifest(hex);
    for (const auto& f : m.files) live.insert(f.sha256);
  }
  for (const auto& hex : repo.all_objects()) {
    if (live.count(hex)) {
      ++report.objects_kept;
      continue;
    }
    struct stat st {};
    const stdfs::path p = repo.object_path(hex);
    if (::stat(p.c_str(), &st) == 0) report.bytes_removed += static_cast<std::uint64_t>(st.st_size);
    ++report.objects_removed;
    if (!dry_run && ::unlink(p.c_str()) != 0 && errno != ENOENT) {
      throw_system_error("cannot remove " + p.string(), errno);
    }
  }
  // With the exclusive lock held no writer is live, so every temp file is debris.
  std::error_code ec;
  for (const stdfs::path& dir : {repo.tmp_dir()}) {
    for (auto it = stdfs::directory_iterator(dir, ec); !ec && it != stdfs::directory_iterator();
         it.increment(ec)) {
      ++report.temp_files_removed;
      if (!dry_run) stdfs::remove_all(it->path(), ec);
    }
  }
  // Temp files of ref writes interrupted between create and link.
  for (const char* kind : {"tags", "stages"}) {
    for (auto it = stdfs::recursive_directory_iterator(repo.root() / "refs" / kind, ec);
         !ec && it != stdfs::recursive_directory_iterator(); it.increment(ec)) {
      if (it->is_regular_file() && it->path().filename().string().starts_with(".tmp-")) {
        ++report.temp_files_removed;
        if (!dry_run) stdfs::remove(it->path(), ec);
      }
    }
  }
  // Signatures of manifests that are gone.
  for (auto it = stdfs::directory_iterator(repo.signatures_dir(), ec);
       !ec && it != stdfs::directory_iterator(); it.increment(ec)) {
    if (!live.count(it->path().filename().string()) && !dry_run) stdfs::remove_all(it->path(), ec);
  }
  // Unpacked caches of artifacts nothing references any more.
  for (auto it = stdfs::directory_iterator(repo.cache_dir(), ec);
       !ec && it != stdfs::directory_iterator(); it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (!live.count(name) && !dry_run) stdfs::remove_all(it->path(), ec);
  }
  return report;
}

FsckReport check_repository(const Repository& repo) {
  fs::FileLock lock(repo.lock_path(), fs::FileLock::Mode::kShared);
  FsckReport report;
  std::mutex mutex;
  auto problem = [&](std::string kind, std::string object, std::string detail) {
    std::lock_guard guard(mutex);
    report.problems.push_back({std::move(kind), std::move(object), std::move(detail)});
  };

  const std::vector<std::string> objects = repo.all_objects();
  std::atomic<std::size_t> next{0};
  {
    std::vector<std::jthread> pool;
    unsigned workers = std::max(1u, std::thread::hardware_concurrency());
    for (unsigned w = 0; w < workers; ++w) {
      pool.emplace_back([&] {
        for (std::size_t i = next++; i < objects.size(); i = next++) {
          try {
            if (crypto::sha256_file_hex(repo.object_path(objects[i])) != objects[i]) {
              problem("corrupt-object", objects[i], "content does not match its digest");
            }
          } catch (const Error& e) {
            problem("corrupt-object", objects[i], e.what());
          }
        }
      });
    }
  }
  report.objects_checked = objects.size();

  std::set<std::string> checked_manifests;
  auto check_root = [&](const std::string& ref, const std::string& hex) {
    ++report.refs_checked;
    if (!repo.has_object(hex)) {
      problem("missing-object", hex, "manifest for " + ref + " is missing");
      return;
    }
    if (!checked_manifests.insert(hex).second) return;
    std::optional<manifest::Manifest> read;
    try {
      read.emplace(repo.read_manifest(hex));
    } catch (const Error& e) {
      problem("bad-manifest", hex, std::string(e.what()) + " (for " + ref + ")");
      return;
    }
    const manifest::Manifest& m = *read;
    for (const auto& f : m.files) {
      struct stat st {};
      if (::stat(repo.object_path(f.sha256).c_str(), &st) != 0) {
        problem("missing-object", f.sha256, f.path + " of " + ref + " is missing");
      } else if (static_cast<std::uint64_t>(st.st_size) != f.size) {
        problem("corrupt-object", f.sha256,
                f.path + " of " + ref + " has size " + std::to_string(st.st_size) + ", expected " +
                    std::to_string(f.size));
      }
    }
  };
  // Ref by ref (not list_tags, which stops at the first corrupt one), so one
  // bad ref cannot hide the problems of the refs after it.
  for (const auto& [kind, sep] : {std::pair{"tags", ":"}, std::pair{"stages", "@"}}) {
    const stdfs::path base = repo.root() / "refs" / kind;
    std::vector<stdfs::path> paths;
    std::error_code ec;
    for (auto it = stdfs::recursive_directory_iterator(base, ec);
         !ec && it != stdfs::recursive_directory_iterator(); it.increment(ec)) {
      if (it->is_regular_file()) paths.push_back(it->path());
    }
    std::sort(paths.begin(), paths.end());
    for (const auto& p : paths) {
      const std::string name = p.parent_path().lexically_relative(base).generic_string();
      const std::string label = p.filename().string();
      if (!manifest::is_valid_name(name) || !manifest::is_valid_version(label)) continue;
      try {
        check_root(name + sep + label, read_ref_file(p));
      } catch (const Error& e) {
        problem("bad-ref", "", e.what());
      }
    }
  }
  std::sort(report.problems.begin(), report.problems.end(),
            [](const FsckProblem& a, const FsckProblem& b) {
              return std::tie(a.kind, a.object, a.detail) < std::tie(b.kind, b.object, b.detail);
            });
  report.problems.erase(std::unique(report.problems.begin(), report.problems.end(),
                                    [](const FsckProblem& a, const FsckProblem& b) {
                                      return a.kind == b.kind && a.object == b.object &&
                                             a.detail == b.detail;
                                    }),
                        report.problems.end());
  return report;
}

}  // namespace mlpack::store
