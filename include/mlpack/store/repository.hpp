// The local `.mlpack` repository: content-addressed objects (blobs and
// manifests) under objects/sha256/, immutable version tags under refs/tags/,
// stages under refs/stages/. Found like git: -C DIR, MLPACK_DIR, or by
// walking up from the working folder.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "mlpack/manifest/manifest.hpp"
#include "mlpack/manifest/names.hpp"

namespace mlpack::store {

namespace stdfs = std::filesystem;

struct TagEntry {
  std::string name;
  std::string version;
  std::string digest;  // hex
};

// A signature of one NAME:VERSION binding of a manifest (minisign text).
struct SignatureEntry {
  std::string name;
  std::string version;
  std::string text;
};

struct StageEntry {
  std::string name;
  std::string stage;
  std::string digest;  // hex
};

class Repository {
 public:
  // The repository for a command: `dir_flag` (-C), else $MLPACK_DIR, else the
  // nearest `.mlpack` at or above the working folder. Throws NotFoundError.
  static Repository open(const std::optional<stdfs::path>& dir_flag);
  // Creates `.mlpack` in `work_dir`; returns it and whether it was new.
  static std::pair<Repository, bool> init(const stdfs::path& work_dir);

  const stdfs::path& root() const { return root_; }  // the .mlpack folder
  stdfs::path object_path(const std::string& hex) const;
  bool has_object(const std::string& hex) const;
  stdfs::path tmp_dir() const { return root_ / "tmp"; }
  stdfs::path cache_dir() const { return root_ / "cache"; }
  stdfs::path lock_path() const { return root_ / "lock"; }

  // Reads a manifest object and checks its digest before parsing it.
  std::string read_manifest_bytes(const std::string& hex) const;
  manifest::Manifest read_manifest(const std::string& hex) const;

  std::optional<std::string> read_tag(const std::string& name, const std::string& version) const;
  enum class TagResult { kCreated, kUnchanged, kConflict };
  // Create-only: an existing tag is never moved. `existing` gets its digest.
  TagResult create_tag(const std::string& name, const std::string& version,
                       const std::string& digest, std::string* existing = nullptr);
  std::vector<TagEntry> list_tags(const std::string& name_filter = "") const;

  std::optional<std::string> read_stage(const std::string& name, const std::string& stage) const;
  std::vector<StageEntry> list_stages(const std::string& name_filter = "") const;

  // Signatures live under signatures/<manifest hex>/<name>/<version>.minisig,
  // one per binding, written before the tag they sign.
  void write_signature(const std::string& hex, const std::string& name, const std::string& version,
                       const std::string& text);
  std::optional<std::string> read_signature(const std::string& hex, const std::string& name,
                                            const std::string& version) const;
  std::vector<SignatureEntry> list_signatures(const std::string& hex) const;
  // The signature that speaks for `ref`: its own binding when it names a
  // version, else the manifest's NAME:VERSION, else any.
  std::optional<SignatureEntry> signature_for(const std::string& hex, const manifest::Manifest& m,
                                              const manifest::Ref* ref = nullptr) const;
  stdfs::path signatures_dir() const { return root_ / "signatures"; }

  // Every object whose hex digest starts with `prefix`.
  std::vector<std::string> find_objects(const std::string& prefix) const;
  // Every object digest in the store.
  std::vector<std::string> all_objects() const;

  // Resolves a REF (not an archive file) to a manifest digest. Throws
  // NotFoundError naming what exists, or UsageError for an ambiguous prefix.
  std::string resolve(const manifest::Ref& ref) const;

 private:
  explicit Repository(stdfs::path root) : root_(std::move(root)) {}
  stdfs::path root_;
};

std::string read_ref_file(const stdfs::path& path);

}  // namespace mlpack::store
