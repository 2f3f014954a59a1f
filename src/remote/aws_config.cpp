#include "mlpack/remote/aws_config.hpp"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <map>

#include "mlpack/util/error.hpp"
#include "mlpack/util/fs.hpp"

namespace mlpack::remote {
namespace {

using Section = std::map<std::string, std::string>;
using IniFile = std::map<std::string, Section>;

std::string trim(const std::string& s) {
  std::size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return s.substr(b, e - b);
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// The AWS shared-config dialect of INI: [section], key = value, comments
// with '#' or ';'. Indented lines belong to a nested block ("s3 =\n  key =
// value"), which no setting read here uses, so they are skipped.
IniFile parse_ini(const std::string& text, const std::string& file) {
  IniFile out;
  std::string section;
  bool have_section = false;
  std::size_t start = 0, line_no = 0;
  while (start <= text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string raw = text.substr(start, end - start);
    start = end + 1;
    ++line_no;
    if (!raw.empty() && raw.back() == '\r') raw.pop_back();
    const bool indented = !raw.empty() && std::isspace(static_cast<unsigned char>(raw[0]));
    const std::string line = trim(raw);
    if (line.empty() || line[0] == '#' || line[0] == ';') continue;
    if (line.front() == '[') {
      if (line.back() != ']') {
        throw UsageError(file + ":" + std::to_string(line_no) + ": malformed section header");
      }
      section = trim(line.substr(1, line.size() - 2));
      have_section = true;
      out[section];
      continue;
    }
    if (indented) continue;
    const std::size_t eq = line.find('=');
    if (eq == std::string::npos || !have_section) {
      // Never echo the line: it may hold a secret.
      throw UsageError(file + ":" + std::to_string(line_no) +
                       ": expected 'key = value' in a [section]");
    }
    out[section][lower(trim(line.substr(0, eq)))] = trim(line.substr(eq + 1));
  }
  return out;
}

std::optional<IniFile> read_ini(const std::string& path) {
  std::error_code ec;
  if (!stdfs::exists(path, ec)) return std::nullopt;
  return parse_ini(fs::read_file(path, 1 << 20), path);
}

std::optional<std::string> non_empty(const std::optional<std::string>& v) {
  if (v && !v->empty()) return v;
  return std::nullopt;
}

std::optional<std::string> setting(const Section* s, const char* key) {
  if (!s) return std::nullopt;
  auto it = s->find(key);
  if (it == s->end() || it->second.empty()) return std::nullopt;
  return it->second;
}

std::optional<net::sigv4::Credentials> credentials_in(const Section* s, const std::string& where) {
  auto id = setting(s, "aws_access_key_id");
  auto secret = setting(s, "aws_secret_access_key");
  if (!id && !secret) return std::nullopt;
  if (!id || !secret) {
    throw UsageError(where +
                     " has only half a key pair: set both aws_access_key_id and "
                     "aws_secret_access_key");
  }
  return net::sigv4::Credentials{*id, *secret, setting(s, "aws_session_token").value_or("")};
}

std::string strip_trailing_slashes(std::string s) {
  while (!s.empty() && s.back() == '/') s.pop_back();
  return s;
}

}  // namespace

AwsSettings resolve_aws_settings(const Remote& remote, const EnvLookup& env) {
  AwsSettings out;
  const std::string home = non_empty(env("HOME")).value_or("");
  const std::string credentials_file =
      non_empty(env("AWS_SHARED_CREDENTIALS_FILE")).value_or(home + "/.aws/credentials");
  const std::string config_file = non_empty(env("AWS_CONFIG_FILE")).value_or(home + "/.aws/config");
  const auto explicit_profile = non_empty(env("AWS_PROFILE"));
  const std::string profile = explicit_profile.value_or("default");

  const std::optional<IniFile> creds_ini = read_ini(credentials_file);
  const std::optional<IniFile> config_ini = read_ini(config_file);
  auto find = [](const std::optional<IniFile>& ini, const std::string& name) -> const Section* {
    if (!ini) return nullptr;
    auto it = ini->find(name);
    return it == ini->end() ? nullptr : &it->second;
  };
  const Section* creds_section = find(creds_ini, profile);
  // In the config file, profiles other than default are "[profile NAME]".
  const Section* config_section =
      find(config_ini, profile == "default" ? "default" : "profile " + profile);
  if (!config_section && profile == "default") config_section = find(config_ini, "profile default");
  if (explicit_profile && !creds_section && !config_section) {
    throw UsageError("AWS_PROFILE=" + profile + ": no such profile in " + credentials_file +
                     " or " + config_file);
  }

  // Credentials.
  auto id = non_empty(env("AWS_ACCESS_KEY_ID"));
  auto secret = non_empty(env("AWS_SECRET_ACCESS_KEY"));
  if (id || secret) {
    if (!id || !secret) {
      throw UsageError("set both AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or neither");
    }
    out.credentials =
        net::sigv4::Credentials{*id, *secret, non_empty(env("AWS_SESSION_TOKEN")).value_or("")};
    out.credentials_source = "environment";
  } else if (auto c =
                 credentials_in(creds_section, "profile " + profile + " in " + credentials_file)) {
    out.credentials = c;
    out.credentials_source = "profile " + profile + " in " + credentials_file;
  } else if (auto c2 =
                 credentials_in(config_section, "profile " + profile + " in " + config_file)) {
    out.credentials = c2;
    out.credentials_source = "profile " + profile + " in " + config_file;
  } else {
    out.credentials_source = "none (anonymous)";
  }

  // Region.
  if (!remote.region.empty()) {
    out.region = remote.region;
  } else if (auto r = non_empty(env("AWS_REGION"))) {
    out.region = *r;
  } else if (auto r2 = non_empty(env("AWS_DEFAULT_REGION"))) {
    out.region = *r2;
  } else if (auto r3 = setting(config_section, "region")) {
    out.region = *r3;
  } else {
    out.region = "us-east-1";
  }
  for (char c : out.region) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-')) {
      throw UsageError("invalid AWS region '" + out.region + "'");
    }
  }

  // Endpoint and addressing.
  std::optional<std::string> custom;
  if (!remote.endpoint.empty()) {
    custom = remote.endpoint;
  } else if (auto e = non_empty(env("AWS_ENDPOINT_URL_S3"))) {
    custom = e;
  } else if (auto e2 = non_empty(env("AWS_ENDPOINT_URL"))) {
    custom = e2;
  } else if (auto e3 = setting(config_section, "endpoint_url")) {
    custom = e3;
  }
  if (custom) {
    const std::string e = strip_trailing_slashes(*custom);
    if (!e.starts_with("http://") && !e.starts_with("https://")) {
      throw UsageError("S3 endpoint must be an http(s):// URL, got " + e);
    }
    out.endpoint = e;
    out.path_style = true;
  } else {
    out.endpoint = "https://s3." + out.region + ".amazonaws.com";
    // A bucket with dots does not match AWS's wildcard certificate.
    out.path_style = remote.path_style || remote.url.host.find('.') != std::string::npos;
  }
  if (remote.path_style) out.path_style = true;
  return out;
}

}  // namespace mlpack::remote
