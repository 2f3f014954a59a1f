// The manifest: the YAML document that lists every file of an artifact and
// its metadata. Its exact bytes are hashed (the artifact's id) and signed, so
// writing is canonical: fixed key order, files sorted by path.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "mlpack/util/json.hpp"

namespace mlpack::manifest {

inline constexpr const char* kApiVersion = "mlpack.dev/v1";

// Roles a file can play; anything else is refused.
bool is_valid_role(std::string_view role);
inline constexpr const char* kRoles =
    "model, preprocessing, metadata, requirements, code, data, docs, other";

// What the model scan (the `scan` module) found in a file when it was packed.
struct ScanFinding {
  std::string severity;  // unknown | dangerous
  std::string kind;
  std::string detail;
  std::string member;  // inside a container; empty for the file itself
};
struct ScanRecord {
  std::string scanner;  // the scanner's rules version
  std::string verdict;  // clean | unknown | dangerous
  std::vector<ScanFinding> findings;
};
// Findings kept per file, so a hostile file cannot bloat the manifest.
inline constexpr std::size_t kMaxScanFindings = 50;

struct FileEntry {
  std::string path;  // relative, '/'-separated, no '..'
  std::string role;
  std::uint64_t size = 0;
  std::string sha256;  // lower-case hex
  std::string format;
  std::optional<ScanRecord> scan;  // for formats that can carry code
};

struct Manifest {
  Manifest() = default;
  Manifest(const Manifest&) = default;
  Manifest(Manifest&&) = default;
  // No assignment: assigning a YAML::Node writes through to every node it
  // shares data with, so `a = b` could silently rewrite a third manifest.
  Manifest& operator=(const Manifest&) = delete;
  Manifest& operator=(Manifest&&) = delete;

  std::string name;
  std::string version;
  std::string description;
  std::string created;  // RFC 3339 UTC, "2025-01-20T10:00:00Z"
  std::string tool_version;
  std::string git_commit;  // empty when the model folder is not in git
  // Free-form sections copied from the spec; null when absent.
  YAML::Node model;          // framework, format, path
  YAML::Node preprocessing;  // path, input_schema
  YAML::Node metadata;
  YAML::Node environment;
  YAML::Node params;
  YAML::Node metrics;
  YAML::Node metric_goals;
  std::vector<FileEntry> files;  // sorted by path

  std::uint64_t total_size() const;
};

// Canonical YAML bytes of the manifest (sorts the files first).
std::string write_manifest(Manifest m);
// Parses and validates; `origin` names the source in error messages.
// Throws IntegrityError for a malformed manifest (it is data we did not write).
Manifest read_manifest(std::string_view bytes, std::string_view origin);

// True when a and b describe the same content: everything but `created` and
// the tool version, which differ between two packs of the same inputs.
bool same_content(const Manifest& a, const Manifest& b);

// A path from a manifest or archive that is safe to create under a folder:
// relative, no empty, '.' or '..' components, no backslash or NUL.
bool is_safe_relative_path(std::string_view path);

// YAML → JSON for --json output: plain scalars that read as numbers, booleans
// or null keep that type; quoted scalars stay strings.
json::Value yaml_to_json(const YAML::Node& node);
json::Value manifest_to_json(const Manifest& m);
json::Value files_to_json(const std::vector<FileEntry>& files);

// Emits a free-form node so that it reads back with the same scalars
// (quoted strings stay quoted).
void emit_node(YAML::Emitter& out, const YAML::Node& node);

}  // namespace mlpack::manifest
