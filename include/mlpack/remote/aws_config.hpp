// Where an s3:// remote's credentials, region and endpoint come from, in the
// order the AWS SDKs use, so that a machine already set up for the AWS CLI
// needs nothing more. Secrets stay in memory: never in messages or logs.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "mlpack/net/sigv4.hpp"
#include "mlpack/remote/config.hpp"

namespace mlpack::remote {

struct AwsSettings {
  std::optional<net::sigv4::Credentials> credentials;  // nullopt: anonymous (public buckets)
  std::string credentials_source;  // "environment", "profile default in ~/.aws/credentials", ...
  std::string region;
  std::string endpoint;  // scheme://host[:port], no trailing '/'
  bool path_style = false;
};

// Credentials: AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY (+ AWS_SESSION_TOKEN),
// else the profile (AWS_PROFILE, else "default") in AWS_SHARED_CREDENTIALS_FILE
// (~/.aws/credentials), else in AWS_CONFIG_FILE (~/.aws/config), else none.
// Region: the remote's, else AWS_REGION, AWS_DEFAULT_REGION, the profile's,
// else us-east-1. Endpoint: the remote's, else AWS_ENDPOINT_URL_S3,
// AWS_ENDPOINT_URL, the profile's endpoint_url, else AWS's own (virtual-hosted
// addressing); a custom endpoint, a bucket with dots or the remote's
// path-style option means path-style addressing. Throws UsageError for a
// malformed file, a profile that does not exist, or half a key pair.
AwsSettings resolve_aws_settings(const Remote& remote, const EnvLookup& env);

}  // namespace mlpack::remote
