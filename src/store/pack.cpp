#include "mlpack/store/pack.hpp"

#include <algorithm>
#include <atomic>
#include <exception>
#include <mutex>

#include "mlpack/crypto/sha256.hpp"
#include "mlpack/manifest/format.hpp"
#include "mlpack/scan/scan.hpp"
#include "mlpack/store/objects.hpp"
#include "mlpack/util/error.hpp"
#include "mlpack/util/fs.hpp"
#include "mlpack/util/log.hpp"
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

namespace {

// The manifest's record of a scan, findings capped.
manifest::ScanRecord record_of(const scan::Report& report) {
  manifest::ScanRecord record;
  record.scanner = scan::kScannerVersion;
  record.verdict = std::string(scan::verdict_name(report.verdict()));
  for (const auto& f : report.findings) {
    if (record.findings.size() >= manifest::kMaxScanFindings) break;
    record.findings.push_back(
        {std::string(scan::severity_name(f.severity)), f.kind, f.detail, f.member});
  }
  return record;
}

std::string first_findings(const scan::Report& report, scan::Severity severity) {
  std::string out;
  std::size_t n = 0;
  for (const auto& f : report.findings) {
    if (f.severity != severity) continue;
    if (++n > 3) {
      out += ", ...";
      break;
    }
    out += (out.empty() ? "" : ", ") + f.detail + (f.member.empty() ? "" : " in " + f.member);
  }
  return out;
}

// Refuses dangerous files (unless allowed) before anything is committed, and
// warns about the rest.
void apply_scan_policy(const std::vector<manifest::FileEntry>& files,
                       const std::vector<scan::Report>& reports, bool allow_unsafe) {
  std::vector<std::string> dangerous;
  for (std::size_t i = 0; i < files.size(); ++i) {
    const scan::Verdict v = reports[i].verdict();
    if (v == scan::Verdict::kDangerous) {
      dangerous.push_back(files[i].path + " (" +
                          first_findings(reports[i], scan::Severity::kDangerous) + ")");
    } else if (v == scan::Verdict::kUnknown) {
      log::warn(files[i].path + " imports code on neither the safe nor the dangerous list: " +
                first_findings(reports[i], scan::Severity::kUnknown) +
                "; check it before loading it");
    }
  }
  if (dangerous.empty()) return;
  std::string list;
  for (const auto& d : dangerous) list += (list.empty() ? "" : "; ") + d;
  if (!allow_unsafe) {
    throw IntegrityError("refusing to pack what could run code when loaded: " + list +
                         " (mlpack scan FILE shows why; --allow-unsafe packs it anyway)");
  }
  log::warn("packing what could run code when loaded, as --allow-unsafe asks: " + list);
}

}  // namespace

PackResult pack(Repository& repo, const manifest::Spec& spec, const Signer& sign,
                const PackOptions& options) {
  fs::FileLock lock(repo.lock_path(), fs::FileLock::Mode::kShared);

  const std::size_t count = spec.files.size();
  std::vector<std::optional<IngestedFile>> ingested(count);
  std::vector<scan::Report> reports(count);
  // Independent files hash in parallel; one buffer per worker keeps memory
  // flat. The scan reads the staged copy, the very bytes that get stored.
  util::parallel_for(count, options.jobs, [&](std::size_t i) {
    ingested[i].emplace(ingest_file(repo, spec.files[i].source, manifest::kFormatSniffBytes));
    reports[i] = scan::scan_file(ingested[i]->object.file.path(), spec.files[i].path);
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
    if (reports[i].scanned) e.scan = record_of(reports[i]);
    m.files.push_back(std::move(e));
    txn.add(std::move(in.object));
  }
  apply_scan_policy(m.files, reports, options.allow_unsafe);
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
