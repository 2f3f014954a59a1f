// Where a gs:// remote's access token comes from, in the order Google's
// client libraries use: the emulator switch, a service-account key file
// (an RS256-signed JWT exchanged for a token), a static token for CI, the
// GCE metadata server; else anonymous. Tokens are cached until shortly
// before they expire and never printed.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "mlpack/net/http.hpp"
#include "mlpack/remote/config.hpp"

namespace mlpack::remote {

class GcsCredentials {
 public:
  virtual ~GcsCredentials() = default;
  // A bearer token, fetched or cached. Throws RuntimeError saying what to
  // check when none can be had.
  virtual std::string token(const net::HttpClient& http) = 0;
  // The server refused the token: the next call fetches a fresh one.
  virtual void invalidate() {}
  // Where the token comes from, for messages ("service account x@y from FILE").
  virtual std::string describe() const = 0;
};

struct GcsSettings {
  std::string endpoint;  // the JSON API's root, scheme://host[:port], no trailing '/'
  std::shared_ptr<GcsCredentials> credentials;  // null: anonymous
  std::string source;                           // for messages
};

// STORAGE_EMULATOR_HOST: that endpoint, no auth. Else the remote's endpoint
// (or https://storage.googleapis.com) with, in turn, the service account in
// GOOGLE_APPLICATION_CREDENTIALS, the token in GOOGLE_OAUTH_ACCESS_TOKEN,
// the metadata server (GCE_METADATA_HOST, or metadata.google.internal when
// this machine is a Google Compute Engine VM), else anonymous. Throws
// UsageError for a key file that cannot be used.
GcsSettings resolve_gcs_settings(const Remote& remote, const EnvLookup& env);

// A service account's key file, as the Cloud console writes it.
struct ServiceAccount {
  std::string client_email;
  std::string private_key;  // PEM
  std::string private_key_id;
  std::string token_uri;
};
ServiceAccount load_service_account(const std::string& path);
// The signed assertion (header.claims.signature) asking `token_uri` for a
// token with `scope`, valid from `now` for an hour.
std::string make_jwt_assertion(const ServiceAccount& account, const std::string& scope,
                               std::int64_t now);

}  // namespace mlpack::remote
