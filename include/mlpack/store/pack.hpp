// Packing: turns a loaded spec into blobs, a manifest and a version tag.
// Files are read once each, several at a time; the tag is written last and
// create-only, so a version never points at missing data or changes content.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "mlpack/manifest/manifest.hpp"
#include "mlpack/manifest/spec.hpp"
#include "mlpack/store/repository.hpp"

namespace mlpack::store {

struct PackResult {
  std::string digest;  // manifest hex
  manifest::Manifest manifest;
  bool created = false;  // false: the version already held identical content
};

// Returns the signature of the binding NAME:VERSION -> digest of these
// manifest bytes, or "" for none.
using Signer = std::function<std::string(std::string_view manifest_bytes, const std::string& digest,
                                         const std::string& name, const std::string& version)>;

struct PackOptions {
  unsigned jobs = 0;          // files read at once; 0: one per core
  bool allow_unsafe = false;  // pack files the scan finds dangerous (with a warning)
};

// Every file is scanned (the `scan` module) and its result recorded in the
// manifest. Throws IntegrityError (exit 3) when a file is dangerous, unless
// allow_unsafe, and ConflictError (exit 5) when NAME:VERSION exists with
// other content; either way the store is left exactly as it was. The
// signature, when `sign` gives one, is stored before the tag, so a tag is
// never briefly unsigned.
PackResult pack(Repository& repo, const manifest::Spec& spec, const Signer& sign,
                const PackOptions& options = {});

// Stores manifest bytes as an object and tags it; shared by pack and import.
// Returns false when the tag already pointed at this digest.
bool tag_artifact(Repository& repo, const std::string& name, const std::string& version,
                  const std::string& digest);

}  // namespace mlpack::store
