// The pack spec: what `mlpack.yaml` and the pack flags say to pack. Loading
// resolves every path, walks model folders and reads params/metrics files,
// so the packer gets a flat list of files and the metadata sections.
#pragma once

#include <ctime>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

namespace mlpack::manifest {

// What the pack command line says; flags override the spec file.
struct PackRequest {
  std::filesystem::path dir = ".";
  std::optional<std::filesystem::path> spec_file;  // default: DIR/mlpack.yaml when present
  std::optional<std::string> tag;                  // NAME:VERSION or NAME
  std::optional<std::string> model;
  std::optional<std::string> preprocessing;
  std::vector<std::string> files;  // P[:ROLE]
  std::optional<std::string> metrics_file;
  std::optional<std::string> params_file;
  std::vector<std::string> sets;  // KEY=VALUE, dotted keys into the spec
};

struct SourceFile {
  std::filesystem::path source;  // where to read it
  std::string path;              // where it lives in the artifact
  std::string role;
  std::string format;  // from the spec; empty means detect
};

struct Spec {
  std::string name;
  std::string version;
  std::string description;
  YAML::Node model;          // framework, path (artifact path)
  YAML::Node preprocessing;  // path, input_schema
  YAML::Node metadata;
  YAML::Node environment;
  YAML::Node params;
  YAML::Node metrics;
  YAML::Node metric_goals;
  std::vector<SourceFile> files;
  bool has_preprocessing = false;
  std::filesystem::path base_dir;
};

// Throws UsageError (exit 2) for a malformed spec, naming file and line, and
// NotFoundError (exit 4) for a file the spec names that does not exist.
Spec load_spec(const PackRequest& request);

// Role guessed from a file name for --file without :ROLE.
std::string guess_role(const std::filesystem::path& path);

// HEAD commit of the git work tree containing `path`, read from .git
// directly (no git binary needed); empty when there is none.
std::string find_git_commit(const std::filesystem::path& path);

// RFC 3339 UTC creation time, honouring SOURCE_DATE_EPOCH.
std::string creation_time();
// `t` as RFC 3339 UTC ("2025-01-20T10:00:00Z"), the one time format mlpack writes.
std::string format_utc(std::time_t t);

}  // namespace mlpack::manifest
