// The transfer engine every network backend uses (DESIGN.md §6, net): one
// HTTP request at a time per caller thread, over pooled libcurl handles that
// keep their connections alive. It retries what is worth retrying
// (connection errors, timeouts, 429, 5xx) with exponential backoff and
// jitter, honouring Retry-After; a download cut off mid-way resumes with
// Range, an upload restarts from its first byte. Commands never see libcurl.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace mlpack::net {

namespace stdfs = std::filesystem;

struct Header {
  std::string name;
  std::string value;
};

// Receives a download's bytes in order, each byte once, across retries.
using Sink = std::function<void(std::span<const std::uint8_t>)>;
// Bytes moved since the last call; negative when an upload starts over.
using ProgressFn = std::function<void(std::int64_t)>;

// A request body: nothing, bytes in memory, or a slice of a file (read as it
// is sent, so a 10 GiB upload costs one buffer).
struct Body {
  enum class Kind { kNone, kBytes, kFile };
  Kind kind = Kind::kNone;
  std::string bytes;
  stdfs::path file;
  std::uint64_t offset = 0;
  std::uint64_t size = 0;
  // A file body's expected SHA-256 (hex). It is hashed as it is read and
  // checked before its last bytes leave, so a copy that rotted on disk is
  // never completed on the server: the transfer fails with IntegrityError.
  std::string verify_sha256;

  static Body none() { return {}; }
  static Body of(std::string bytes);
  static Body of_file(const stdfs::path& file, std::uint64_t offset, std::uint64_t size);
  std::uint64_t length() const { return kind == Kind::kBytes ? bytes.size() : size; }
};

struct Request {
  std::string method = "GET";
  std::string url;  // may carry user:password@, which is sent as basic auth and never printed
  std::vector<Header> headers;
  Body body;
  // Where a 2xx response body goes. Without a sink it is kept in
  // Response::body, up to max_body bytes (more is a RuntimeError).
  const Sink* sink = nullptr;
  std::uint64_t max_body = 1 << 20;
  // With a sink: the caller already has this many bytes; ask for the rest,
  // up to and including byte `range_end` when it is set.
  std::uint64_t resume_from = 0;
  std::optional<std::uint64_t> range_end;
  const ProgressFn* progress = nullptr;
  // Called before every attempt, so a signature can cover a fresh date.
  std::function<void(Request&)> prepare;
  // Overrides the client's retries (0: one attempt), for a caller that
  // recovers in its own way (a resumable upload asks where it stands).
  std::optional<int> retries;
};

struct Response {
  long status = 0;
  std::vector<Header> headers;  // of the final response; names as sent
  std::string body;             // non-2xx bodies (for error messages) and sink-less 2xx bodies
  std::optional<std::string> header(std::string_view name) const;  // case-insensitive
  bool ok() const { return status >= 200 && status < 300; }
};

struct TransferOptions {
  std::string ca_file;  // a private CA's PEM bundle
  std::chrono::seconds connect_timeout{10};
  std::chrono::seconds low_speed_time{30};  // abort below low_speed_limit this long
  long low_speed_limit = 1024;              // bytes per second
  int retries = 5;                          // attempts after the first
  std::chrono::milliseconds backoff_base{250};
  std::chrono::milliseconds backoff_max{20'000};
  std::chrono::seconds retry_after_max{120};  // a longer Retry-After gives up
  bool use_netrc = true;                      // ~/.netrc, when the URL has no password

  // Defaults, then MLPACK_RETRIES, MLPACK_CONNECT_TIMEOUT, MLPACK_TIMEOUT
  // (the low-speed time, seconds) and MLPACK_CA_FILE. Throws UsageError on
  // a malformed value.
  static TransferOptions from_environment();
};

class HttpClient {
 public:
  explicit HttpClient(TransferOptions options);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Sends the request, retrying transient failures, and returns the final
  // response whatever its status. Throws RuntimeError when the transport
  // fails for good (naming the URL, never its credentials), and rethrows
  // whatever the sink threw. Safe to call from several threads at once.
  Response send(Request request) const;

  const TransferOptions& options() const { return options_; }

 private:
  struct Pool;
  TransferOptions options_;
  std::unique_ptr<Pool> pool_;
};

// The URL without user:password@, for messages and logs.
std::string redact_url(const std::string& url);
// Percent-encodes everything but unreserved characters and '/'.
std::string encode_path(std::string_view path);
std::string decode_percent(std::string_view text);

// The libcurl version and its TLS library, for --version.
std::string curl_version_text();

}  // namespace mlpack::net
