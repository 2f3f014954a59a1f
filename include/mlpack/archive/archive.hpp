// One-file transport. Export writes a deterministic POSIX (pax) tar, zstd
// optional: manifest.yaml, manifest.yaml.minisig when signed, then
// files/<path> in manifest order. Reading checks every entry against the
// manifest as it streams (type, path, size counted as written, digest), so
// hostile archives are refused with exit 3 before anything becomes visible.
#pragma once

#include <filesystem>
#include <functional>
#include <optional>
#include <set>
#include <string>

#include "mlpack/archive/output_tree.hpp"
#include "mlpack/manifest/manifest.hpp"
#include "mlpack/manifest/names.hpp"
#include "mlpack/store/objects.hpp"
#include "mlpack/store/repository.hpp"

namespace mlpack::archive {

namespace stdfs = std::filesystem;

// The linked libarchive and its compression libraries, for --version.
std::string libarchive_version_text();

inline constexpr std::size_t kMaxManifestBytes = 16u << 20;
inline constexpr std::size_t kMaxSignatureBytes = 64u << 10;

struct ArchiveHead {
  std::string manifest_bytes;
  std::string digest;  // hex of manifest_bytes
  manifest::Manifest manifest;
  std::optional<std::string> signature;
};

// Reads and checks only the manifest (and signature) at the head of FILE.
ArchiveHead read_archive_head(const stdfs::path& file);

// Writes FILE atomically (temp + rename), with manifest.yaml.minisig when a
// signature is given. Blob digests are re-checked as they are copied, so a
// corrupt store never exports silently.
void export_artifact(const store::Repository& repo, const std::string& digest,
                     const stdfs::path& out, bool zstd,
                     const std::optional<std::string>& signature);

// Streams a whole archive. For each listed file, `open_output` returns where
// its bytes go (nullptr to skip it); the bytes are checked against the
// manifest as they stream and `on_file_done` runs once they matched.
struct ArchiveVisitor {
  std::function<void(const ArchiveHead&)> on_head;
  std::function<fs::TempFile*(const manifest::FileEntry&)> open_output;
  std::function<void(const manifest::FileEntry&)> on_file_done;
};
ArchiveHead walk_archive(const stdfs::path& file, const ArchiveVisitor& visitor);

// Decides, from the manifest and signature alone, whether an archive may come
// in and under which NAME:VERSION; it throws to refuse. It runs before a
// single file byte is written anywhere.
using HeadCheck = std::function<manifest::NameVersion(const ArchiveHead&)>;

struct ImportResult {
  ArchiveHead head;
  manifest::NameVersion binding;
  bool created = false;  // false: the version already held this artifact
};
// Verifies everything, then stores blobs, manifest and signature and tags
// the binding `check` returned.
ImportResult import_archive(store::Repository& repo, const stdfs::path& file,
                            const HeadCheck& check, const store::ContentCheck& content_check = {});

// Role filter: empty means every file.
using RoleSet = std::set<std::string>;
bool wants(const RoleSet& roles, const manifest::FileEntry& f);

// Both run `content_check` (when set) over the files they write, after they
// are verified and before any becomes visible in `dir`.
void unpack_from_store(const store::Repository& repo, const manifest::Manifest& m,
                       const stdfs::path& dir, const RoleSet& roles,
                       const store::ContentCheck& content_check = {});
void unpack_from_archive(const stdfs::path& file, const stdfs::path& dir, const RoleSet& roles,
                         const HeadCheck& check, const store::ContentCheck& content_check = {});

// The folder holding the artifact's files, unpacked once under
// .mlpack/cache/<digest>/ (made read-only) and reused after that.
stdfs::path materialize(const store::Repository& repo, const std::string& digest,
                        const manifest::Manifest& m,
                        const std::optional<stdfs::path>& archive_file = std::nullopt,
                        const HeadCheck& check = nullptr,
                        const store::ContentCheck& content_check = {});

}  // namespace mlpack::archive
