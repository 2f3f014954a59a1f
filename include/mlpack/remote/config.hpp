// Named remotes, kept in the repository's .mlpack/config.yaml: a URL
// (file://, plain path, http(s)://, s3://bucket/prefix, gs://bucket/prefix)
// and per-remote options. URLs are checked when they are added, and a URL
// that carries a password is refused: credentials never live in the repo.
// (`-r URL` on a transfer names a remote for one command, password allowed.)
#pragma once

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "mlpack/store/repository.hpp"

namespace mlpack::remote {

namespace stdfs = std::filesystem;

struct RemoteUrl {
  std::string scheme;    // file, http, https, s3, gs
  std::string host;      // http(s): host[:port]; s3/gs: the bucket
  std::string path;      // file: absolute path; others: the prefix, no leading '/'
  std::string user;      // http(s): user name for basic auth
  std::string password;  // http(s): only in a URL given for one command, never stored
  std::string text;      // canonical form, as stored and shown: never a password
};

// Throws UsageError naming what is wrong and the accepted forms. A plain
// path becomes an absolute file:// URL. A password in the URL is refused
// unless `allow_password` (a URL typed for one command, never saved).
RemoteUrl parse_remote_url(const std::string& text, bool allow_password = false);

struct Remote {
  std::string name;
  RemoteUrl url;
  std::string endpoint;  // s3/gs: another API host, http(s)://host[:port]
  std::string region;    // s3
  bool path_style = false;
  std::string ca_file;  // http(s), s3, gs: a private CA's certificates (PEM)
};

bool is_valid_remote_name(const std::string& name);

class RemoteConfig {
 public:
  explicit RemoteConfig(const store::Repository& repo);

  const std::vector<Remote>& remotes() const { return remotes_; }
  const Remote* find(const std::string& name) const;

  // Throws ConflictError when the name is taken.
  void add(Remote remote);
  // KEY is url, endpoint, region, path-style or ca-file. Throws NotFoundError/UsageError.
  void set(const std::string& name, const std::string& key, const std::string& value);
  // Throws NotFoundError.
  void remove(const std::string& name);
  // Writes .mlpack/config.yaml atomically, keeping its other settings.
  void save() const;

  // What push and pull use: `requested` (-r: a name, or a URL used as is),
  // else "origin", else the only remote. Throws NotFoundError / UsageError
  // saying which to pass.
  Remote select(const std::optional<std::string>& requested) const;

 private:
  stdfs::path file_;
  std::vector<Remote> remotes_;
};

// Reads an environment variable: where backends find credentials and
// endpoints, injectable so that tests can give their own.
using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;
EnvLookup process_environment();

// Checks an option against the remote's scheme (endpoint for s3/gs only, ...).
void check_options(const Remote& remote);

}  // namespace mlpack::remote
