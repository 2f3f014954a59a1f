#include "mlpack/remote/gcs_auth.hpp"

#include <yaml-cpp/yaml.h>

#include <fstream>

#include "mlpack/crypto/rs256.hpp"
#include "mlpack/util/base64.hpp"
#include "mlpack/util/error.hpp"
#include "mlpack/util/fs.hpp"
#include "mlpack/util/json.hpp"
#include "mlpack/util/log.hpp"

namespace mlpack::remote {
namespace {

constexpr const char* kDefaultEndpoint = "https://storage.googleapis.com";
constexpr const char* kDefaultTokenUri = "https://oauth2.googleapis.com/token";
constexpr const char* kScope = "https://www.googleapis.com/auth/devstorage.read_write";
// Refresh this long before a token expires, so none runs out mid-transfer.
constexpr std::chrono::seconds kExpiryMargin{300};

std::optional<std::string> non_empty(const std::optional<std::string>& v) {
  if (v && !v->empty()) return v;
  return std::nullopt;
}

std::string strip_slashes(std::string s) {
  while (!s.empty() && s.back() == '/') s.pop_back();
  return s;
}

// JSON is YAML: yaml-cpp reads token answers and key files.
YAML::Node parse_json(const std::string& text, const std::string& what) {
  try {
    YAML::Node n = YAML::Load(text);
    if (!n.IsMap()) throw YAML::Exception(YAML::Mark(), "not an object");
    return n;
  } catch (const YAML::Exception&) {
    throw RuntimeError(what + " is not a JSON object");
  }
}

std::string field(const YAML::Node& n, const char* key) {
  const YAML::Node v = n[key];
  return v && v.IsScalar() ? v.Scalar() : std::string();
}

// A token and when to stop using it, shared by the threads of one command.
class CachedToken {
 public:
  template <typename Fetch>
  std::string get(Fetch&& fetch) {
    std::lock_guard lock(mutex_);
    if (!token_.empty() && std::chrono::steady_clock::now() < refresh_at_) return token_;
    auto [token, lifetime] = fetch();
    token_ = std::move(token);
    refresh_at_ =
        std::chrono::steady_clock::now() + std::max(lifetime - kExpiryMargin, lifetime / 2);
    return token_;
  }
  void clear() {
    std::lock_guard lock(mutex_);
    token_.clear();
  }

 private:
  std::mutex mutex_;
  std::string token_;
  std::chrono::steady_clock::time_point refresh_at_;
};

// A token answer: {"access_token": ..., "expires_in": N, "token_type": "Bearer"}.
std::pair<std::string, std::chrono::seconds> read_token_answer(const net::Response& r,
                                                               const std::string& from) {
  const YAML::Node n = parse_json(r.body, "the answer of " + from);
  const std::string token = field(n, "access_token");
  if (token.empty()) throw RuntimeError(from + " answered without an access_token");
  long lifetime = 3600;
  try {
    if (!field(n, "expires_in").empty()) lifetime = std::stol(field(n, "expires_in"));
  } catch (const std::exception&) {
  }
  return {token, std::chrono::seconds(std::max(lifetime, 60L))};
}

class ServiceAccountCredentials final : public GcsCredentials {
 public:
  ServiceAccountCredentials(ServiceAccount account, std::string file)
      : account_(std::move(account)), file_(std::move(file)) {}

  std::string token(const net::HttpClient& http) override {
    return cache_.get([&] {
      const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                           std::chrono::system_clock::now().time_since_epoch())
                           .count();
      net::Request req;
      req.method = "POST";
      req.url = account_.token_uri;
      req.headers.push_back({"Content-Type", "application/x-www-form-urlencoded"});
      req.body = net::Body::of(
          "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion=" +
          make_jwt_assertion(account_, kScope, now));
      net::Response r = http.send(std::move(req));
      if (!r.ok()) {
        std::string why = "HTTP " + std::to_string(r.status);
        try {
          const YAML::Node n = YAML::Load(r.body);
          if (n.IsMap() && !field(n, "error").empty()) {
            why = field(n, "error");
            if (!field(n, "error_description").empty()) why += ": " + field(n, "error_description");
          }
        } catch (const YAML::Exception&) {
        }
        throw RuntimeError("the token endpoint " + net::redact_url(account_.token_uri) +
                           " refused the service account " + account_.client_email + " (" + why +
                           "): check that " + file_ +
                           " holds a current key of that account (keys can be revoked)");
      }
      return read_token_answer(r, "the token endpoint");
    });
  }
  void invalidate() override { cache_.clear(); }
  std::string describe() const override {
    return "service account " + account_.client_email + " from " + file_;
  }

 private:
  ServiceAccount account_;
  std::string file_;
  CachedToken cache_;
};

class StaticCredentials final : public GcsCredentials {
 public:
  explicit StaticCredentials(std::string token) : token_(std::move(token)) {}
  std::string token(const net::HttpClient&) override { return token_; }
  std::string describe() const override { return "the token in GOOGLE_OAUTH_ACCESS_TOKEN"; }

 private:
  std::string token_;
};

class MetadataCredentials final : public GcsCredentials {
 public:
  explicit MetadataCredentials(std::string host) : host_(std::move(host)) {}
  std::string token(const net::HttpClient& http) override {
    return cache_.get([&] {
      net::Request req;
      req.url = "http://" + host_ + "/computeMetadata/v1/instance/service-accounts/default/token";
      req.headers.push_back({"Metadata-Flavor", "Google"});
      net::Response r = http.send(std::move(req));
      if (!r.ok()) {
        throw RuntimeError("the metadata server " + host_ + " gave no token (HTTP " +
                           std::to_string(r.status) +
                           "): check that the VM has a service account with storage access");
      }
      return read_token_answer(r, "the metadata server");
    });
  }
  void invalidate() override { cache_.clear(); }
  std::string describe() const override { return "the metadata server " + host_; }

 private:
  std::string host_;
  CachedToken cache_;
};

// google-auth's test for "this is a GCE VM": the DMI product name.
bool on_google_compute_engine() {
  std::ifstream in("/sys/class/dmi/id/product_name");
  std::string name;
  std::getline(in, name);
  return name.find("Google") != std::string::npos;
}

}  // namespace

ServiceAccount load_service_account(const std::string& path) {
  std::string text;
  try {
    text = fs::read_file(path, 1 << 20);
  } catch (const Error&) {
    throw UsageError("GOOGLE_APPLICATION_CREDENTIALS=" + path + ": cannot read the key file");
  }
  YAML::Node n;
  try {
    n = YAML::Load(text);
  } catch (const YAML::Exception&) {
    throw UsageError(path + " is not a JSON key file");
  }
  if (!n.IsMap()) throw UsageError(path + " is not a JSON key file");
  if (field(n, "type") != "service_account") {
    throw UsageError(path + " is a '" + field(n, "type") +
                     "' credentials file; mlpack reads service-account key files (for a user "
                     "login, export GOOGLE_OAUTH_ACCESS_TOKEN=$(gcloud auth print-access-token))");
  }
  ServiceAccount a{field(n, "client_email"), field(n, "private_key"), field(n, "private_key_id"),
                   field(n, "token_uri")};
  if (a.client_email.empty() || a.private_key.empty()) {
    throw UsageError(path + " lacks client_email or private_key");
  }
  if (a.token_uri.empty()) a.token_uri = kDefaultTokenUri;
  return a;
}

std::string make_jwt_assertion(const ServiceAccount& account, const std::string& scope,
                               std::int64_t now) {
  // json::escape quotes what it escapes.
  std::string header = "{\"alg\":\"RS256\",\"typ\":\"JWT\"";
  if (!account.private_key_id.empty()) header += ",\"kid\":" + json::escape(account.private_key_id);
  header += "}";
  const std::string claims =
      "{\"iss\":" + json::escape(account.client_email) + ",\"scope\":" + json::escape(scope) +
      ",\"aud\":" + json::escape(account.token_uri) + ",\"iat\":" + std::to_string(now) +
      ",\"exp\":" + std::to_string(now + 3600) + "}";
  const std::string signing_input = base64::encode_url(header) + "." + base64::encode_url(claims);
  return signing_input + "." +
         base64::encode_url(crypto::rs256_sign(account.private_key, signing_input));
}

GcsSettings resolve_gcs_settings(const Remote& remote, const EnvLookup& env) {
  GcsSettings out;
  if (auto emulator = non_empty(env("STORAGE_EMULATOR_HOST"))) {
    std::string e = strip_slashes(*emulator);
    if (e.find("://") == std::string::npos) e = "http://" + e;
    out.endpoint = e;
    out.source = "the emulator at STORAGE_EMULATOR_HOST (no authentication)";
    return out;
  }
  out.endpoint = remote.endpoint.empty() ? kDefaultEndpoint : strip_slashes(remote.endpoint);
  if (auto file = non_empty(env("GOOGLE_APPLICATION_CREDENTIALS"))) {
    out.credentials =
        std::make_shared<ServiceAccountCredentials>(load_service_account(*file), *file);
  } else if (auto token = non_empty(env("GOOGLE_OAUTH_ACCESS_TOKEN"))) {
    out.credentials = std::make_shared<StaticCredentials>(*token);
  } else if (auto host = non_empty(env("GCE_METADATA_HOST"))) {
    out.credentials = std::make_shared<MetadataCredentials>(*host);
  } else if (on_google_compute_engine()) {
    out.credentials = std::make_shared<MetadataCredentials>("metadata.google.internal");
  }
  out.source = out.credentials ? out.credentials->describe() : "none (anonymous)";
  log::debug("gs:// credentials: " + out.source);
  return out;
}

}  // namespace mlpack::remote
