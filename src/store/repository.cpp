#include "mlpack/store/repository.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <cstdlib>
#include <tuple>

#include "mlpack/crypto/sha256.hpp"
#include "mlpack/util/error.hpp"
#include "mlpack/util/fs.hpp"
#include "mlpack/util/hex.hpp"

namespace mlpack::store {
namespace {

constexpr const char* kDirName = ".mlpack";

bool is_repository(const stdfs::path& p) {
  std::error_code ec;
  return stdfs::is_directory(p / "objects", ec) && stdfs::is_directory(p / "refs", ec);
}

// A flag or MLPACK_DIR may name the work folder or the .mlpack folder itself.
std::optional<stdfs::path> as_repository(const stdfs::path& p) {
  if (p.filename() == kDirName && is_repository(p)) return p;
  if (is_repository(p / kDirName)) return p / kDirName;
  return std::nullopt;
}

std::string ref_content(const std::string& digest) {
  return "sha256:" + digest + "\n";
}

// Walks refs/<kind>/ and yields (name, label, digest); the last path
// component is the label (versions cannot hold '/'), the rest is the name.
template <typename Fn>
void walk_refs(const stdfs::path& base, const std::string& name_filter, Fn fn) {
  std::error_code ec;
  if (!stdfs::is_directory(base, ec)) return;
  std::vector<std::pair<std::string, std::string>> found;
  for (auto it = stdfs::recursive_directory_iterator(base, ec);
       it != stdfs::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) break;
    if (!it->is_regular_file()) continue;
    const std::string label = it->path().filename().string();
    if (label.starts_with(".tmp-")) continue;
    const std::string name = it->path().parent_path().lexically_relative(base).generic_string();
    if (!manifest::is_valid_name(name) || !manifest::is_valid_version(label)) continue;
    if (!name_filter.empty() && name != name_filter) continue;
    found.emplace_back(name, label);
  }
  std::sort(found.begin(), found.end());
  for (const auto& [name, label] : found) {
    std::string digest;
    try {
      digest = read_ref_file(base / name / label);
    } catch (const NotFoundError&) {
      continue;  // a ref removed while listing
    }
    fn(name, label, digest);
  }
}

}  // namespace

std::string read_ref_file(const stdfs::path& path) {
  std::string text = fs::read_file(path, 4096);
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  if (!text.starts_with("sha256:") || text.size() != 7 + 64 || !hex::is_lower_hex(text.substr(7))) {
    throw IntegrityError("corrupt ref " + path.string() + ": run mlpack fsck");
  }
  return text.substr(7);
}

Repository Repository::open(const std::optional<stdfs::path>& dir_flag) {
  if (dir_flag) {
    if (auto r = as_repository(*dir_flag)) return Repository(stdfs::absolute(*r));
    throw NotFoundError("no mlpack repository in " + dir_flag->string() +
                        ": run 'mlpack init' there first");
  }
  if (const char* env = std::getenv("MLPACK_DIR"); env && *env) {
    if (auto r = as_repository(env)) return Repository(stdfs::absolute(*r));
    throw NotFoundError("MLPACK_DIR=" + std::string(env) +
                        " is not an mlpack repository: run 'mlpack init' there first");
  }
  std::error_code ec;
  stdfs::path dir = stdfs::current_path(ec);
  for (; !dir.empty(); dir = dir.parent_path()) {
    if (is_repository(dir / kDirName)) return Repository(dir / kDirName);
    if (dir == dir.root_path()) break;
  }
  throw NotFoundError(
      "not in an mlpack repository (or any parent folder): run 'mlpack init', or use -C DIR or "
      "MLPACK_DIR");
}

std::pair<Repository, bool> Repository::init(const stdfs::path& work_dir) {
  stdfs::path root = stdfs::absolute(work_dir) / kDirName;
  bool existed = is_repository(root);
  std::error_code ec;
  for (const char* sub : {"objects/sha256", "refs/tags", "refs/stages", "logs", "tmp", "cache"}) {
    stdfs::create_directories(root / sub, ec);
    if (ec) throw RuntimeError("cannot create " + (root / sub).string() + ": " + ec.message());
  }
  if (!stdfs::exists(root / "config.yaml")) {
    fs::write_file_atomic(root / "config.yaml", "# mlpack repository configuration\nlayout: 1\n");
  }
  return {Repository(root), !existed};
}

stdfs::path Repository::object_path(const std::string& hex) const {
  return root_ / "objects" / "sha256" / hex.substr(0, 2) / hex;
}

bool Repository::has_object(const std::string& hex) const {
  struct stat st {};
  return ::stat(object_path(hex).c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

std::string Repository::read_manifest_bytes(const std::string& hex) const {
  std::string bytes;
  try {
    bytes = fs::read_file(object_path(hex));
  } catch (const NotFoundError&) {
    throw NotFoundError("manifest sha256:" + hex + " is missing from the store: run mlpack fsck");
  }
  if (crypto::sha256_hex(bytes) != hex) {
    throw IntegrityError("manifest sha256:" + hex +
                         " is corrupt (digest mismatch): run mlpack fsck");
  }
  return bytes;
}

manifest::Manifest Repository::read_manifest(const std::string& hex) const {
  return manifest::read_manifest(read_manifest_bytes(hex), "sha256:" + hex.substr(0, 12));
}

std::optional<std::string> Repository::read_tag(const std::string& name,
                                                const std::string& version) const {
  stdfs::path p = root_ / "refs" / "tags" / name / version;
  std::error_code ec;
  if (!stdfs::is_regular_file(p, ec)) return std::nullopt;
  return read_ref_file(p);
}

Repository::TagResult Repository::create_tag(const std::string& name, const std::string& version,
                                             const std::string& digest, std::string* existing) {
  stdfs::path dir = root_ / "refs" / "tags" / name;
  std::error_code ec;
  stdfs::create_directories(dir, ec);
  if (ec) {
    throw ConflictError("cannot create tag " + name + ":" + version + ": " + ec.message() +
                        " (a version named like this namespace exists?)");
  }
  fs::TempFile tmp(dir);
  tmp.write(ref_content(digest));
  tmp.sync();
  if (tmp.commit_exclusive(dir / version)) {
    fs::fsync_dir(dir);
    return TagResult::kCreated;
  }
  if (stdfs::is_directory(dir / version, ec)) {
    throw ConflictError("cannot create tag " + name + ":" + version + ": " + name + "/" + version +
                        " is already a namespace of other models");
  }
  std::string current = read_ref_file(dir / version);
  if (existing) *existing = current;
  return current == digest ? TagResult::kUnchanged : TagResult::kConflict;
}

std::vector<TagEntry> Repository::list_tags(const std::string& name_filter) const {
  std::vector<TagEntry> out;
  walk_refs(root_ / "refs" / "tags", name_filter,
            [&](const std::string& n, const std::string& v, const std::string& d) {
              out.push_back({n, v, d});
            });
  return out;
}

std::optional<std::string> Repository::read_stage(const std::string& name,
                                                  const std::string& stage) const {
  stdfs::path p = root_ / "refs" / "stages" / name / stage;
  std::error_code ec;
  if (!stdfs::is_regular_file(p, ec)) return std::nullopt;
  return read_ref_file(p);
}

std::vector<StageEntry> Repository::list_stages(const std::string& name_filter) const {
  std::vector<StageEntry> out;
  walk_refs(root_ / "refs" / "stages", name_filter,
            [&](const std::string& n, const std::string& s, const std::string& d) {
              out.push_back({n, s, d});
            });
  return out;
}

void Repository::write_signature(const std::string& hex, const std::string& name,
                                 const std::string& version, const std::string& text) {
  const stdfs::path dir = signatures_dir() / hex / name;
  std::error_code ec;
  stdfs::create_directories(dir, ec);
  if (ec) throw RuntimeError("cannot create " + dir.string() + ": " + ec.message());
  fs::write_file_atomic(dir / (version + ".minisig"), text);
}

std::optional<std::string> Repository::read_signature(const std::string& hex,
                                                      const std::string& name,
                                                      const std::string& version) const {
  const stdfs::path p = signatures_dir() / hex / name / (version + ".minisig");
  std::error_code ec;
  if (!stdfs::is_regular_file(p, ec)) return std::nullopt;
  return fs::read_file(p, 64 << 10);
}

std::vector<SignatureEntry> Repository::list_signatures(const std::string& hex) const {
  std::vector<SignatureEntry> out;
  const stdfs::path base = signatures_dir() / hex;
  std::error_code ec;
  for (auto it = stdfs::recursive_directory_iterator(base, ec);
       !ec && it != stdfs::recursive_directory_iterator(); it.increment(ec)) {
    if (!it->is_regular_file() || it->path().extension() != ".minisig") continue;
    const std::string version = it->path().stem().string();
    const std::string name = it->path().parent_path().lexically_relative(base).generic_string();
    if (!manifest::is_valid_name(name) || !manifest::is_valid_version(version)) continue;
    out.push_back({name, version, fs::read_file(it->path(), 64 << 10)});
  }
  std::sort(out.begin(), out.end(), [](const SignatureEntry& a, const SignatureEntry& b) {
    return std::tie(a.name, a.version) < std::tie(b.name, b.version);
  });
  return out;
}

std::optional<SignatureEntry> Repository::signature_for(const std::string& hex,
                                                        const manifest::Manifest& m,
                                                        const manifest::Ref* ref) const {
  if (ref && ref->kind == manifest::Ref::Kind::kVersion) {
    if (auto text = read_signature(hex, ref->name, ref->version)) {
      return SignatureEntry{ref->name, ref->version, *text};
    }
  }
  if (auto text = read_signature(hex, m.name, m.version)) {
    return SignatureEntry{m.name, m.version, *text};
  }
  auto all = list_signatures(hex);
  if (all.empty()) return std::nullopt;
  return all.front();
}

std::vector<std::string> Repository::find_objects(const std::string& prefix) const {
  std::vector<std::string> out;
  std::error_code ec;
  auto scan = [&](const stdfs::path& dir) {
    for (auto it = stdfs::directory_iterator(dir, ec); !ec && it != stdfs::directory_iterator();
         it.increment(ec)) {
      const std::string name = it->path().filename().string();
      if (name.size() == 64 && hex::is_lower_hex(name) && name.starts_with(prefix)) {
        out.push_back(name);
      }
    }
  };
  const stdfs::path base = root_ / "objects" / "sha256";
  if (prefix.size() >= 2) {
    scan(base / prefix.substr(0, 2));
  } else {
    for (auto it = stdfs::directory_iterator(base, ec); !ec && it != stdfs::directory_iterator();
         it.increment(ec)) {
      if (it->is_directory()) scan(it->path());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::string> Repository::all_objects() const {
  return find_objects("");
}

std::string Repository::resolve(const manifest::Ref& ref) const {
  using Kind = manifest::Ref::Kind;
  switch (ref.kind) {
    case Kind::kVersion: {
      if (auto d = read_tag(ref.name, ref.version)) return *d;
      std::string known;
      for (const auto& t : list_tags(ref.name)) known += (known.empty() ? "" : ", ") + t.version;
      throw NotFoundError("version " + ref.text + " not found" +
                          (known.empty() ? " (no versions of " + ref.name + " in this repository)"
                                         : " (versions of " + ref.name + ": " + known + ")"));
    }
    case Kind::kStage: {
      if (auto d = read_stage(ref.name, ref.stage)) return *d;
      throw NotFoundError("stage " + ref.text + " not found: promote a version to it first");
    }
    case Kind::kDigest: {
      std::vector<std::string> candidates;
      for (const auto& hex : find_objects(ref.digest)) {
        // Only manifests are artifacts; blobs share the object store.
        try {
          manifest::Manifest m = read_manifest(hex);
          if (ref.name.empty() || m.name == ref.name) candidates.push_back(hex);
        } catch (const Error&) {
        }
      }
      if (candidates.empty()) throw NotFoundError("no artifact matches " + ref.text);
      if (candidates.size() > 1) {
        throw UsageError("digest prefix in " + ref.text + " is ambiguous (" +
                         std::to_string(candidates.size()) + " artifacts): give more hex digits");
      }
      return candidates.front();
    }
    case Kind::kArchiveFile:
      break;
  }
  throw UsageError("'" + ref.text + "' is an archive file, not a reference in the repository");
}

}  // namespace mlpack::store
