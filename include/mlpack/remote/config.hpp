// Named remotes, kept in the repository's .mlpack/config.yaml: a URL
// (file://, plain path, http(s)://, s3://bucket/prefix, gs://bucket/prefix)
// and per-remote options. URLs are checked when they are added, and a URL
// that carries a password is refused: credentials never live in the repo.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "mlpack/store/repository.hpp"

namespace mlpack::remote {

namespace stdfs = std::filesystem;

struct RemoteUrl {
  std::string scheme;  // file, http, https, s3, gs
  std::string host;    // http(s): host[:port]; s3/gs: the bucket
  std::string path;    // file: absolute path; others: the prefix, no leading '/'
  std::string text;    // canonical form, as stored
};

// Throws UsageError naming what is wrong and the accepted forms. A plain
// path becomes an absolute file:// URL.
RemoteUrl parse_remote_url(const std::string& text);

struct Remote {
  std::string name;
  RemoteUrl url;
  std::string endpoint;  // s3/gs: another API host, http(s)://host[:port]
  std::string region;    // s3
  bool path_style = false;
};

bool is_valid_remote_name(const std::string& name);

class RemoteConfig {
 public:
  explicit RemoteConfig(const store::Repository& repo);

  const std::vector<Remote>& remotes() const { return remotes_; }
  const Remote* find(const std::string& name) const;

  // Throws ConflictError when the name is taken.
  void add(Remote remote);
  // KEY is url, endpoint, region or path-style. Throws NotFoundError/UsageError.
  void set(const std::string& name, const std::string& key, const std::string& value);
  // Throws NotFoundError.
  void remove(const std::string& name);
  // Writes .mlpack/config.yaml atomically, keeping its other settings.
  void save() const;

  // What push and pull use: `requested` (-r), else "origin", else the only
  // remote. Throws NotFoundError / UsageError saying which to pass.
  const Remote& select(const std::optional<std::string>& requested) const;

 private:
  stdfs::path file_;
  std::vector<Remote> remotes_;
};

// Checks an option against the remote's scheme (endpoint for s3/gs only, ...).
void check_options(const Remote& remote);

}  // namespace mlpack::remote
