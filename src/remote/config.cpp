#include "mlpack/remote/config.hpp"

#include <algorithm>
#include <cctype>
#include <cstdlib>

#include <yaml-cpp/yaml.h>

#include "mlpack/manifest/names.hpp"
#include "mlpack/net/http.hpp"
#include "mlpack/util/error.hpp"
#include "mlpack/util/fs.hpp"

namespace mlpack::remote {
namespace {

constexpr const char* kForms =
    "a remote URL is file:///path (or a plain path), http(s)://host[:port]/path, "
    "s3://bucket[/prefix] or gs://bucket[/prefix]";

std::string strip_slashes(std::string s) {
  while (!s.empty() && s.front() == '/') s.erase(s.begin());
  while (!s.empty() && s.back() == '/') s.pop_back();
  return s;
}

bool is_bucket_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_';
}

void check_bucket(const std::string& scheme, const std::string& bucket, const std::string& text) {
  const bool ok =
      bucket.size() >= 3 && bucket.size() <= 222 &&
      std::all_of(bucket.begin(), bucket.end(), is_bucket_char) &&
      std::isalnum(static_cast<unsigned char>(bucket.front())) &&
      std::isalnum(static_cast<unsigned char>(bucket.back())) &&
      (scheme == "gs" || (bucket.size() <= 63 && bucket.find('_') == std::string::npos));
  if (!ok) {
    throw UsageError("invalid bucket '" + bucket + "' in " + text +
                     ": bucket names are 3-63 lower-case letters, digits, '-' and '.'");
  }
}

void check_prefix(const std::string& prefix, const std::string& text) {
  if (prefix.empty()) return;
  std::size_t start = 0;
  for (;;) {
    std::size_t slash = prefix.find('/', start);
    std::string part = prefix.substr(start, slash == std::string::npos ? slash : slash - start);
    if (part.empty() || part == "." || part == "..") {
      throw UsageError("invalid path in " + text + ": empty, '.' or '..' segments are not allowed");
    }
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  for (char c : prefix) {
    if (static_cast<unsigned char>(c) < 0x20 || c == '?' || c == '#' || c == '\\') {
      throw UsageError("invalid character in the path of " + text);
    }
  }
}

std::string scalar(const YAML::Node& n) {
  return n && n.IsScalar() ? n.Scalar() : std::string();
}

}  // namespace

EnvLookup process_environment() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());
    if (!v) return std::nullopt;
    return std::string(v);
  };
}

bool is_valid_remote_name(const std::string& name) {
  return manifest::is_valid_version(name) && name.size() <= 64;
}

RemoteUrl parse_remote_url(const std::string& text, bool allow_password) {
  if (text.empty()) throw UsageError(std::string("empty remote URL: ") + kForms);
  RemoteUrl url;
  const std::size_t sep = text.find("://");
  if (sep == std::string::npos) {
    // A plain path: a directory remote.
    std::error_code ec;
    url.scheme = "file";
    url.path = stdfs::absolute(text, ec).lexically_normal().string();
    while (url.path.size() > 1 && url.path.back() == '/') url.path.pop_back();
    url.text = "file://" + net::encode_path(url.path);
    return url;
  }
  url.scheme = text.substr(0, sep);
  std::string rest = text.substr(sep + 3);
  if (url.scheme == "file") {
    if (!rest.starts_with("/")) {
      throw UsageError("file URL " + text + " needs an absolute path (file:///srv/models)");
    }
    // A file URL is percent-encoded (file:///srv/my%20models); a plain path is not.
    url.path = stdfs::path(net::decode_percent(rest)).lexically_normal().string();
    while (url.path.size() > 1 && url.path.back() == '/') url.path.pop_back();
    url.text = "file://" + net::encode_path(url.path);
    return url;
  }
  if (url.scheme != "http" && url.scheme != "https" && url.scheme != "s3" && url.scheme != "gs") {
    throw UsageError("unsupported remote scheme '" + url.scheme + "': " + kForms);
  }
  const std::size_t slash = rest.find('/');
  url.host = rest.substr(0, slash);
  url.path = strip_slashes(slash == std::string::npos ? "" : rest.substr(slash));
  if (url.host.empty())
    throw UsageError("remote URL " + text + " has no host or bucket: " + kForms);
  if (const std::size_t at = url.host.rfind('@'); at != std::string::npos) {
    std::string userinfo = url.host.substr(0, at);
    url.host = url.host.substr(at + 1);
    const std::size_t colon = userinfo.find(':');
    if (url.scheme != "http" && url.scheme != "https") {
      throw UsageError("remote URL " + url.scheme +
                       "://...: credentials do not belong in the URL; use your cloud's usual "
                       "credentials (environment, profile files)");
    }
    if (colon != std::string::npos && !allow_password) {
      throw UsageError("remote URL " + text.substr(0, sep + 3) +
                       "...: a password does not belong in the repository's config; use "
                       "MLPACK_HTTP_TOKEN or ~/.netrc, or pass the URL with -r for one command");
    }
    url.user = userinfo.substr(0, colon);
    if (colon != std::string::npos) url.password = userinfo.substr(colon + 1);
    if (url.user.empty()) throw UsageError("remote URL has an empty user name before '@'");
    for (char c : url.user) {
      if (static_cast<unsigned char>(c) < 0x21 || c == '/' || c == '@') {
        throw UsageError("invalid user name in remote URL");
      }
    }
    if (url.host.empty()) throw UsageError("remote URL has no host after '@'");
  }
  if (url.scheme == "s3" || url.scheme == "gs") {
    check_bucket(url.scheme, url.host, text);
  } else {
    for (char c : url.host) {
      if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == ':' ||
            c == '[' || c == ']')) {
        throw UsageError("invalid host '" + url.host + "' in " + text);
      }
    }
  }
  check_prefix(url.path, text);
  url.text = url.scheme + "://" + (url.user.empty() ? "" : url.user + "@") + url.host +
             (url.path.empty() ? "" : "/" + url.path);
  return url;
}

void check_options(const Remote& r) {
  const bool cloud = r.url.scheme == "s3" || r.url.scheme == "gs";
  if (!r.endpoint.empty()) {
    if (!cloud) throw UsageError("--endpoint applies to s3:// and gs:// remotes only");
    RemoteUrl e = parse_remote_url(r.endpoint);
    if (e.scheme != "http" && e.scheme != "https") {
      throw UsageError("endpoint must be an http(s):// URL, got " + r.endpoint);
    }
  }
  if (!r.region.empty() && r.url.scheme != "s3") {
    throw UsageError("--region applies to s3:// remotes only");
  }
  for (char c : r.region) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-')) {
      throw UsageError("invalid region '" + r.region + "'");
    }
  }
  if (r.path_style && r.url.scheme != "s3") {
    throw UsageError("--path-style applies to s3:// remotes only");
  }
  if (!r.ca_file.empty() && r.url.scheme == "file") {
    throw UsageError("--ca-file applies to network remotes only");
  }
}

RemoteConfig::RemoteConfig(const store::Repository& repo) : file_(repo.root() / "config.yaml") {
  std::error_code ec;
  if (!stdfs::exists(file_, ec)) return;
  YAML::Node doc;
  try {
    doc = YAML::Load(fs::read_file(file_));
  } catch (const YAML::ParserException& e) {
    throw UsageError(file_.string() + ":" + std::to_string(e.mark.line + 1) +
                     ": malformed YAML: " + e.msg);
  }
  const YAML::Node list = doc["remotes"];
  if (!list) return;
  if (!list.IsMap()) throw UsageError(file_.string() + ": remotes must be a mapping");
  for (const auto& kv : list) {
    Remote r;
    r.name = kv.first.Scalar();
    const YAML::Node& n = kv.second;
    if (!n.IsMap()) throw UsageError(file_.string() + ": remote " + r.name + " must be a mapping");
    r.url = parse_remote_url(scalar(n["url"]));
    r.endpoint = scalar(n["endpoint"]);
    r.region = scalar(n["region"]);
    r.path_style = scalar(n["path-style"]) == "true";
    r.ca_file = scalar(n["ca-file"]);
    remotes_.push_back(std::move(r));
  }
}

const Remote* RemoteConfig::find(const std::string& name) const {
  for (const auto& r : remotes_) {
    if (r.name == name) return &r;
  }
  return nullptr;
}

void RemoteConfig::add(Remote remote) {
  if (!is_valid_remote_name(remote.name)) {
    throw UsageError("invalid remote name '" + remote.name +
                     "': names match [A-Za-z0-9][A-Za-z0-9._-]{0,63}");
  }
  if (find(remote.name)) {
    throw ConflictError("remote " + remote.name + " already exists (" +
                        find(remote.name)->url.text + "): 'mlpack remote set " + remote.name +
                        " url URL' changes it");
  }
  check_options(remote);
  remotes_.push_back(std::move(remote));
}

void RemoteConfig::set(const std::string& name, const std::string& key, const std::string& value) {
  auto it = std::find_if(remotes_.begin(), remotes_.end(),
                         [&](const Remote& r) { return r.name == name; });
  if (it == remotes_.end()) throw NotFoundError("no remote named " + name);
  Remote updated = *it;
  if (key == "url") {
    updated.url = parse_remote_url(value);
  } else if (key == "endpoint") {
    updated.endpoint = value;
  } else if (key == "region") {
    updated.region = value;
  } else if (key == "path-style") {
    if (value != "true" && value != "false") throw UsageError("path-style is true or false");
    updated.path_style = value == "true";
  } else if (key == "ca-file") {
    updated.ca_file = value.empty() ? value : stdfs::absolute(value).lexically_normal().string();
  } else {
    throw UsageError("unknown remote setting '" + key +
                     "': url, endpoint, region, path-style or ca-file");
  }
  check_options(updated);
  *it = std::move(updated);
}

void RemoteConfig::remove(const std::string& name) {
  auto it = std::find_if(remotes_.begin(), remotes_.end(),
                         [&](const Remote& r) { return r.name == name; });
  if (it == remotes_.end()) throw NotFoundError("no remote named " + name);
  remotes_.erase(it);
}

void RemoteConfig::save() const {
  YAML::Node doc;
  std::error_code ec;
  if (stdfs::exists(file_, ec)) doc = YAML::Load(fs::read_file(file_));
  if (!doc.IsMap()) doc = YAML::Node(YAML::NodeType::Map);
  YAML::Emitter out;
  out << YAML::BeginMap;
  for (const auto& kv : doc) {
    if (kv.first.Scalar() == "remotes") continue;
    out << YAML::Key << kv.first.Scalar() << YAML::Value << kv.second;
  }
  if (!remotes_.empty()) {
    out << YAML::Key << "remotes" << YAML::Value << YAML::BeginMap;
    for (const auto& r : remotes_) {
      out << YAML::Key << r.name << YAML::Value << YAML::BeginMap;
      out << YAML::Key << "url" << YAML::Value << r.url.text;
      if (!r.endpoint.empty()) out << YAML::Key << "endpoint" << YAML::Value << r.endpoint;
      if (!r.region.empty()) out << YAML::Key << "region" << YAML::Value << r.region;
      if (r.path_style) out << YAML::Key << "path-style" << YAML::Value << "true";
      if (!r.ca_file.empty()) out << YAML::Key << "ca-file" << YAML::Value << r.ca_file;
      out << YAML::EndMap;
    }
    out << YAML::EndMap;
  }
  out << YAML::EndMap;
  fs::write_file_atomic(file_,
                        "# mlpack repository configuration\n" + std::string(out.c_str()) + "\n");
}

Remote RemoteConfig::select(const std::optional<std::string>& requested) const {
  if (requested) {
    if (const Remote* r = find(*requested)) return *r;
    if (requested->find("://") != std::string::npos || requested->starts_with("/") ||
        requested->starts_with(".")) {
      // A URL for this command only: it may carry a password, as it is never saved.
      Remote adhoc;
      adhoc.url = parse_remote_url(*requested, true);
      adhoc.name = adhoc.url.text;
      return adhoc;
    }
    throw NotFoundError("no remote named " + *requested + ": 'mlpack remote list' shows them");
  }
  if (const Remote* r = find("origin")) return *r;
  if (remotes_.size() == 1) return remotes_.front();
  if (remotes_.empty()) {
    throw NotFoundError("no remote configured: 'mlpack remote add origin URL' first");
  }
  throw UsageError("several remotes and none named origin: pick one with -r NAME");
}

}  // namespace mlpack::remote
