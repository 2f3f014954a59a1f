// One interface for every kind of remote (DESIGN.md §6): exists, get, put,
// put_if_absent, compare_and_swap, list, remove, on keys relative to the
// remote's prefix. A backend knows nothing of manifests; push and pull
// (sync.hpp) are written once, above it, and call a backend from several
// threads at once.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "mlpack/net/http.hpp"
#include "mlpack/remote/config.hpp"

namespace mlpack::remote {

// Receives an object's bytes as they arrive, each byte once.
using Sink = net::Sink;

class Backend {
 public:
  virtual ~Backend() = default;
  virtual std::string describe() const = 0;  // for messages: the remote's URL

  virtual bool exists(const std::string& key) = 0;
  // Streams the object from byte `offset` on to `sink` (a download that
  // resumes). Throws NotFoundError when it is missing.
  virtual void get(const std::string& key, const Sink& sink, std::uint64_t offset) = 0;
  // Large objects, faster: fetches bytes [offset, size) of the object into
  // `fd` (written at their offsets) as several ranges at once. `landed(end)`
  // is called, one call at a time, whenever every byte before `end` is in.
  // Returns false, having done nothing, when the backend has no faster way
  // than get(). Throws NotFoundError when the object is missing.
  virtual bool get_ranges(const std::string& key, int fd, std::uint64_t offset, std::uint64_t size,
                          const std::function<void(std::uint64_t)>& landed,
                          const net::ProgressFn& progress) {
    (void)key, (void)fd, (void)offset, (void)size, (void)landed, (void)progress;
    return false;
  }
  // Small objects (refs, manifests): the whole content, or nullopt.
  virtual std::optional<std::string> get_small(const std::string& key, std::size_t max_bytes) = 0;
  // Replaces the object with the file's first `size` bytes, whose SHA-256 is
  // `sha256`; readers never see half of it. With `verify`, the bytes are
  // checked as they are read, and when they do not match (the local copy
  // rotted) nothing appears and IntegrityError is thrown; without, the
  // caller vouches for them.
  virtual void put_file(const std::string& key, const stdfs::path& file, std::uint64_t size,
                        const std::string& sha256, bool verify,
                        const net::ProgressFn& progress) = 0;
  virtual void put_bytes(const std::string& key, const std::string& bytes) = 0;
  // Creates the object only if it does not exist; false when it did.
  virtual bool put_if_absent(const std::string& key, const std::string& bytes) = 0;
  // Writes `bytes` only if the object still holds `expected` (nullopt: does
  // not exist). False when someone else changed it first.
  virtual bool compare_and_swap(const std::string& key, const std::optional<std::string>& expected,
                                const std::string& bytes) = 0;
  // Keys under `prefix`, sorted.
  virtual std::vector<std::string> list(const std::string& prefix) = 0;
  virtual void remove(const std::string& key) = 0;
};

// The backend for a remote's URL scheme. Throws UsageError for schemes this
// build cannot reach yet.
std::unique_ptr<Backend> open_backend(const Remote& remote, const net::TransferOptions& options);

// Backends, by scheme.
std::unique_ptr<Backend> open_file_backend(const Remote& remote);
std::unique_ptr<Backend> open_http_backend(const Remote& remote,
                                           const net::TransferOptions& options);
std::unique_ptr<Backend> open_s3_backend(const Remote& remote, const net::TransferOptions& options);
std::unique_ptr<Backend> open_gcs_backend(const Remote& remote,
                                          const net::TransferOptions& options);

}  // namespace mlpack::remote
