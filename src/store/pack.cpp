#include "mlpack/store/pack.hpp"

#include <algorithm>
#include <atomic>
#include <exception>
#include <mutex>

#include "mlpack/crypto/sha256.hpp"
#include "mlpack/manifest/format.hpp"
#include "mlpack/store/objects.hpp"
#include "mlpack/util/error.hpp"
#include "mlpack/util/fs.hpp"
#include "mlpack/util/parallel.hpp"
#include "mlpack/version.hpp"

namespace mlpack::store {

bool tag_artifact(Repository& repo, const std::string& name, const std::string& version,
                  const std::string& digest) {
  std::string existing;
  switch (repo.create_tag(name, version, digest, &existing)) {
    case Repository::TagResult::kCreated:
      return true;
    case Repository::TagResult::kUnchanged:
      return false;
    case Repository::TagResult::kConflict:
      break;
  }
  throw ConflictError(name + ":" + version + " already exists with other content (sha256:" +
                      existing.substr(0, 12) + "); versions are immutable, pick a new version");
}

PackResult pack(Repository& repo, const manifest::Spec& spec, const Signer& sign, unsigned jobs) {
  fs::FileLock lock(repo.lock_path(), fs::FileLock::Mode::kShared);

  const std::size_t count = spec.files.size();
  std::vector<std::optional<IngestedFile>> ingested(count);
  // Independent files hash in parallel; one buffer per worker keeps memory flat.
  util::parallel_for(count, jobs, [&](std::size_t i) {
    ingested[i].emplace(ingest_file(repo, spec.files[i].source, manifest::kFormatSniffBytes));
  });

  manifest::Manifest m;
  m.name = spec.name;
  m.version = spec.version;
  m.description = spec.description;
  m.created = manifest::creation_time();
  m.tool_version = kToolVersion;
  m.git_commit = manifest::find_git_commit(spec.base_dir);
  m.model = spec.model;
  m.preprocessing = spec.preprocessing;
  m.metadata = spec.metadata;
  m.environment = spec.environment;
  m.params = spec.params;
  m.metrics = spec.metrics;
  m.metric_goals = spec.metric_goals;
  Transaction txn(repo);
  for (std::size_t i = 0; i < count; ++i) {
    const auto& src = spec.files[i];
    IngestedFile& in = *ingested[i];
    manifest::FileEntry e;
    e.path = src.path;
    e.role = src.role;
    e.size = in.object.size;
    e.sha256 = in.object.sha256;
    e.format = src.format.empty() ? manifest::detect_format(in.head, src.path) : src.format;
    m.files.push_back(std::move(e));
    txn.add(std::move(in.object));
  }
  const std::string bytes = manifest::write_manifest(std::move(m));
  const std::string digest = crypto::sha256_hex(bytes);
  // A fresh object rather than assigning to `m`: assigning a YAML::Node
  // rewrites the node it shares with the spec.
  manifest::Manifest stored = manifest::read_manifest(bytes, "new manifest");

  // Same version again: identical content is a no-op, anything else a conflict.
  if (auto existing = repo.read_tag(spec.name, spec.version)) {
    manifest::Manifest old = repo.read_manifest(*existing);
    if (manifest::same_content(old, stored)) return PackResult{*existing, std::move(old), false};
    throw ConflictError(spec.name + ":" + spec.version +
                        " already exists with other content (sha256:" + existing->substr(0, 12) +
                        "); versions are immutable, pick a new version");
  }

  ObjectWriter manifest_writer(repo);
  manifest_writer.write(bytes);
  txn.add(manifest_writer.finish());
  txn.commit();
  if (sign) {
    const std::string signature = sign(bytes, digest, spec.name, spec.version);
    if (!signature.empty()) repo.write_signature(digest, spec.name, spec.version, signature);
  }
  std::string winner;
  switch (repo.create_tag(spec.name, spec.version, digest, &winner)) {
    case Repository::TagResult::kCreated:
      return PackResult{digest, std::move(stored), true};
    case Repository::TagResult::kUnchanged:
      return PackResult{digest, std::move(stored), false};
    case Repository::TagResult::kConflict:
      break;
  }
  // Another pack of the same version won the race; fine if it packed the same.
  manifest::Manifest other = repo.read_manifest(winner);
  if (manifest::same_content(other, stored)) return PackResult{winner, std::move(other), false};
  throw ConflictError(spec.name + ":" + spec.version + " was just created by another writer with " +
                      "other content (sha256:" + winner.substr(0, 12) + ")");
}

}  // namespace mlpack::store
