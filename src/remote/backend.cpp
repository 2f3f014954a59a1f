#include "mlpack/remote/backend.hpp"

#include "mlpack/util/error.hpp"

namespace mlpack::remote {

std::unique_ptr<Backend> open_backend(const Remote& remote, const net::TransferOptions& options) {
  const std::string& scheme = remote.url.scheme;
  if (scheme == "file") return open_file_backend(remote);
  if (scheme == "http" || scheme == "https") return open_http_backend(remote, options);
  if (scheme == "s3") return open_s3_backend(remote, options);
  if (scheme == "gs") return open_gcs_backend(remote, options);
  throw UsageError("remote " + remote.name + " (" + remote.url.text + "): " + scheme +
                   ":// remotes are not supported by this build yet; directory, HTTP(S) and "
                   "S3 remotes are");
}

}  // namespace mlpack::remote
