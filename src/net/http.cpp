#include "mlpack/net/http.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <exception>
#include <mutex>
#include <random>
#include <thread>

#include "curl_handles.hpp"
#include "mlpack/crypto/sha256.hpp"
#include "mlpack/util/error.hpp"
#include "mlpack/util/fs.hpp"
#include "mlpack/util/log.hpp"

namespace mlpack::net {

namespace detail {
void ensure_curl_initialised() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
      throw RuntimeError("cannot initialise libcurl");
    }
  });
}
}  // namespace detail

namespace {

using detail::EasyHandle;
using detail::HeaderList;

bool is_digits(const std::string& s) {
  return !s.empty() &&
         std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c); });
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

std::string trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return std::string(s);
}

long env_number(const char* name, long fallback, long min, long max) {
  const char* text = std::getenv(name);
  if (!text || !*text) return fallback;
  char* end = nullptr;
  errno = 0;
  const long value = std::strtol(text, &end, 10);
  if (errno != 0 || *end != '\0' || value < min || value > max) {
    throw UsageError(std::string(name) + "='" + text + "' is not a whole number from " +
                     std::to_string(min) + " to " + std::to_string(max));
  }
  return value;
}

// Hashes a file body on its own thread while the same bytes are being sent
// (the second read comes from the page cache), so that verifying an upload
// costs the sending thread nothing but a wait for the digest before the
// last bytes leave. Stops early when the upload is abandoned.
class BackgroundHash {
 public:
  explicit BackgroundHash(const Body& body)
      : file_(body.file),
        offset_(body.offset),
        size_(body.size),
        thread_([this](std::stop_token stop) { run(stop); }) {}

  // The digest (hex); rethrows what hashing threw.
  std::string result() {
    std::unique_lock lock(mutex_);
    done_cv_.wait(lock, [this] { return done_; });
    if (error_) std::rethrow_exception(error_);
    return hex_;
  }

 private:
  void run(std::stop_token stop) {
    std::string hex;
    std::exception_ptr error;
    try {
      fs::UniqueFd fd = fs::open_read(file_);
      crypto::Sha256 hash;
      std::vector<std::uint8_t> buffer(1 << 20);
      std::uint64_t done = 0;
      while (done < size_ && !stop.stop_requested()) {
        const size_t want =
            static_cast<size_t>(std::min<std::uint64_t>(buffer.size(), size_ - done));
        const ssize_t got =
            ::pread(fd.get(), buffer.data(), want, static_cast<off_t>(offset_ + done));
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) throw RuntimeError("cannot read " + file_.string() + " to hash it");
        hash.update(std::span<const std::uint8_t>(buffer.data(), static_cast<size_t>(got)));
        done += static_cast<std::uint64_t>(got);
      }
      hex = hash.finish_hex();
    } catch (...) {
      error = std::current_exception();
    }
    std::lock_guard lock(mutex_);
    hex_ = std::move(hex);
    error_ = error;
    done_ = true;
    done_cv_.notify_all();
  }

  stdfs::path file_;
  std::uint64_t offset_;
  std::uint64_t size_;
  std::mutex mutex_;
  std::condition_variable done_cv_;
  bool done_ = false;
  std::string hex_;
  std::exception_ptr error_;
  std::jthread thread_;  // last: joined before the members it uses go away
};

// What one attempt saw, shared with curl's callbacks. Callbacks never throw
// through libcurl: they park the exception here and abort the transfer.
struct Attempt {
  const Request* request = nullptr;
  CURL* handle = nullptr;
  Response response;
  bool in_headers = true;
  // Download: bytes of the resource the caller holds, and how many bytes of
  // this response's body to drop first (a server that ignored our Range).
  std::uint64_t have = 0;
  std::uint64_t skip = 0;
  bool range_checked = false;
  bool delivering = false;  // the body goes to the sink
  // Upload.
  int body_fd = -1;
  std::uint64_t body_sent = 0;
  BackgroundHash* body_hash = nullptr;  // when the body is to be verified
  std::int64_t progress_reported = 0;
  std::exception_ptr error;
};

void report(Attempt& a, std::int64_t delta) {
  if (delta == 0 || !a.request->progress) return;
  a.progress_reported += delta;
  (*a.request->progress)(delta);
}

size_t on_header(char* data, size_t size, size_t count, void* user) {
  auto& a = *static_cast<Attempt*>(user);
  const size_t n = size * count;
  std::string_view line(data, n);
  if (line.starts_with("HTTP/")) {
    // A new response (after 100 Continue, say): forget the previous one's headers.
    a.response.headers.clear();
    return n;
  }
  const size_t colon = line.find(':');
  if (colon != std::string_view::npos) {
    a.response.headers.push_back({trim(line.substr(0, colon)), trim(line.substr(colon + 1))});
  }
  return n;
}

// Parses "bytes START-END/TOTAL"; START, or nullopt.
std::optional<std::uint64_t> content_range_start(const std::string& value) {
  if (!value.starts_with("bytes ")) return std::nullopt;
  try {
    std::size_t used = 0;
    const unsigned long long start = std::stoull(value.substr(6), &used);
    return start;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

size_t on_body(char* data, size_t size, size_t count, void* user) {
  auto& a = *static_cast<Attempt*>(user);
  const size_t n = size * count;
  try {
    if (a.in_headers) {
      a.in_headers = false;
      curl_easy_getinfo(a.handle, CURLINFO_RESPONSE_CODE, &a.response.status);
      a.delivering = a.request->sink && a.response.status >= 200 && a.response.status < 300;
      if (a.delivering && (a.have > 0 || a.request->range_end)) {
        if (a.response.status == 206) {
          auto start = content_range_start(a.response.header("Content-Range").value_or(""));
          if (start != a.have) {
            throw RuntimeError("GET " + redact_url(a.request->url) +
                               ": the server resumed at another offset than asked");
          }
        } else {
          a.skip = a.have;  // a 200: the whole resource again
        }
      }
    }
    std::span<const std::uint8_t> chunk(reinterpret_cast<const std::uint8_t*>(data), n);
    if (a.delivering) {
      const std::uint64_t dropped = std::min<std::uint64_t>(a.skip, chunk.size());
      a.skip -= dropped;
      chunk = chunk.subspan(dropped);
      if (a.request->range_end) {
        // A server that ignored the range sends the rest too: not ours.
        const std::uint64_t room =
            *a.request->range_end + 1 - std::min(a.have, *a.request->range_end + 1);
        chunk = chunk.first(static_cast<size_t>(std::min<std::uint64_t>(room, chunk.size())));
      }
      if (!chunk.empty()) {
        (*a.request->sink)(chunk);
        a.have += chunk.size();
      }
    } else {
      const std::uint64_t limit = a.response.ok() ? a.request->max_body : 64 * 1024;
      if (a.response.body.size() + chunk.size() > limit) {
        if (!a.response.ok()) return n;  // an error page: its start is enough
        throw RuntimeError(a.request->method + " " + redact_url(a.request->url) +
                           ": the response is larger than expected (over " + std::to_string(limit) +
                           " bytes)");
      }
      a.response.body.append(reinterpret_cast<const char*>(chunk.data()), chunk.size());
    }
    return n;
  } catch (...) {
    a.error = std::current_exception();
    return 0;  // CURLE_WRITE_ERROR: stops the transfer
  }
}

size_t on_read(char* buffer, size_t size, size_t count, void* user) {
  auto& a = *static_cast<Attempt*>(user);
  const Body& body = a.request->body;
  const std::uint64_t left = body.length() - a.body_sent;
  const size_t want = static_cast<size_t>(std::min<std::uint64_t>(size * count, left));
  if (want == 0) return 0;
  if (body.kind == Body::Kind::kBytes) {
    std::memcpy(buffer, body.bytes.data() + a.body_sent, want);
    a.body_sent += want;
    report(a, static_cast<std::int64_t>(want));
    return want;
  }
  const ssize_t got =
      ::pread(a.body_fd, buffer, want, static_cast<off_t>(body.offset + a.body_sent));
  if (got <= 0) {
    a.error = std::make_exception_ptr(RuntimeError(
        "cannot read " + body.file.string() +
        (got < 0 ? ": " + std::string(std::strerror(errno)) : ": it shrank while being sent")));
    return CURL_READFUNC_ABORT;
  }
  if (a.body_hash && a.body_sent + static_cast<std::uint64_t>(got) == body.length()) {
    // The last bytes stay here until the whole body proved to be what it claims.
    std::string digest;
    try {
      digest = a.body_hash->result();
    } catch (...) {
      a.error = std::current_exception();
      return CURL_READFUNC_ABORT;
    }
    if (digest != body.verify_sha256) {
      a.error = std::make_exception_ptr(IntegrityError(
          body.file.string() + " does not match its digest (sha256:" +
          body.verify_sha256.substr(0, 12) + "): the local copy is corrupt; nothing was sent"));
      return CURL_READFUNC_ABORT;
    }
  }
  a.body_sent += static_cast<std::uint64_t>(got);
  report(a, got);
  return static_cast<size_t>(got);
}

int on_seek(void* user, curl_off_t offset, int origin) {
  auto& a = *static_cast<Attempt*>(user);
  if (origin != SEEK_SET || offset < 0 ||
      static_cast<std::uint64_t>(offset) > a.request->body.length()) {
    return CURL_SEEKFUNC_CANTSEEK;
  }
  report(a, static_cast<std::int64_t>(offset) - static_cast<std::int64_t>(a.body_sent));
  a.body_sent = static_cast<std::uint64_t>(offset);
  return CURL_SEEKFUNC_OK;
}

bool transient(CURLcode code) {
  switch (code) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
      return true;
    default:
      return false;
  }
}

bool transient(long status) {
  return status == 408 || status == 429 || (status >= 500 && status != 501 && status != 505);
}

// Retry-After as seconds (delta or HTTP date), if the response has one.
std::optional<std::chrono::seconds> retry_after(const Response& r) {
  auto value = r.header("Retry-After");
  if (!value) return std::nullopt;
  if (is_digits(*value)) {
    try {
      return std::chrono::seconds(std::stol(*value));
    } catch (const std::exception&) {
      return std::nullopt;
    }
  }
  const time_t when = curl_getdate(value->c_str(), nullptr);
  if (when < 0) return std::nullopt;
  return std::chrono::seconds(std::max<time_t>(0, when - ::time(nullptr)));
}

std::chrono::milliseconds backoff(const TransferOptions& o, int attempt) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  const auto ceiling = std::min<std::int64_t>(o.backoff_max.count(), o.backoff_base.count()
                                                                         << std::min(attempt, 20));
  // Half fixed, half random: spreads out clients that failed together.
  std::uniform_int_distribution<std::int64_t> jitter(0, std::max<std::int64_t>(ceiling / 2, 1));
  return std::chrono::milliseconds(ceiling / 2 + jitter(rng));
}

// What went wrong with the transport, with a hint where there is one.
std::string transport_detail(CURLcode code, const char* errbuf) {
  const std::string detail = errbuf && *errbuf ? errbuf : curl_easy_strerror(code);
  switch (code) {
    case CURLE_PEER_FAILED_VERIFICATION:
      return "the server's TLS certificate is not trusted (" + detail +
             "); if it comes from a private CA, pass --ca-file with that CA's certificate";
    case CURLE_SSL_CACERT_BADFILE:
      return "cannot use the CA file (" + detail + ")";
    case CURLE_COULDNT_RESOLVE_HOST:
      return "cannot resolve the host (" + detail + ")";
    default:
      return detail;
  }
}

// A resumed download that already had every byte: the server answers 416
// with "bytes */TOTAL".
bool range_was_complete(const Response& r, std::uint64_t have) {
  if (r.status != 416) return false;
  const std::string value = r.header("Content-Range").value_or("");
  if (!value.starts_with("bytes */")) return false;
  const std::string total = value.substr(8);
  return is_digits(total) && std::stoull(total) == have;
}

}  // namespace

Body Body::of(std::string bytes) {
  Body b;
  b.kind = Kind::kBytes;
  b.size = bytes.size();
  b.bytes = std::move(bytes);
  return b;
}

Body Body::of_file(const stdfs::path& file, std::uint64_t offset, std::uint64_t size) {
  Body b;
  b.kind = Kind::kFile;
  b.file = file;
  b.offset = offset;
  b.size = size;
  return b;
}

std::optional<std::string> Response::header(std::string_view name) const {
  for (const auto& h : headers) {
    if (iequals(h.name, name)) return h.value;
  }
  return std::nullopt;
}

TransferOptions TransferOptions::from_environment() {
  TransferOptions o;
  o.retries = static_cast<int>(env_number("MLPACK_RETRIES", o.retries, 0, 100));
  o.connect_timeout = std::chrono::seconds(
      env_number("MLPACK_CONNECT_TIMEOUT", o.connect_timeout.count(), 1, 3600));
  o.low_speed_time =
      std::chrono::seconds(env_number("MLPACK_TIMEOUT", o.low_speed_time.count(), 1, 86400));
  if (const char* ca = std::getenv("MLPACK_CA_FILE"); ca && *ca) o.ca_file = ca;
  return o;
}

struct HttpClient::Pool {
  std::mutex mutex;
  std::vector<EasyHandle> idle;

  EasyHandle acquire() {
    {
      std::lock_guard lock(mutex);
      if (!idle.empty()) {
        EasyHandle h = std::move(idle.back());
        idle.pop_back();
        return h;
      }
    }
    EasyHandle h(curl_easy_init());
    if (!h) throw RuntimeError("cannot create a libcurl handle");
    return h;
  }
  void release(EasyHandle h) {
    // reset() keeps the live connections, which is the point of the pool.
    curl_easy_reset(h.get());
    std::lock_guard lock(mutex);
    idle.push_back(std::move(h));
  }
};

HttpClient::HttpClient(TransferOptions options)
    : options_(std::move(options)), pool_(std::make_unique<Pool>()) {
  detail::ensure_curl_initialised();
  if (!options_.ca_file.empty()) {
    std::error_code ec;
    if (!stdfs::is_regular_file(options_.ca_file, ec)) {
      throw NotFoundError("CA file " + options_.ca_file + " not found");
    }
  }
}

HttpClient::~HttpClient() = default;

Response HttpClient::send(Request request) const {
  // A handle returns to the pool whatever happens to the attempt.
  struct Lease {
    Pool& pool;
    EasyHandle handle;
    ~Lease() {
      if (handle) pool.release(std::move(handle));
    }
  } lease{*pool_, pool_->acquire()};
  CURL* h = lease.handle.get();

  fs::UniqueFd body_fd;
  if (request.body.kind == Body::Kind::kFile) body_fd = fs::open_read(request.body.file);
  // Hashed once, on its own thread, for every attempt.
  std::unique_ptr<BackgroundHash> body_hash;
  if (request.body.kind == Body::Kind::kFile && !request.body.verify_sha256.empty()) {
    body_hash = std::make_unique<BackgroundHash>(request.body);
  }

  std::uint64_t have = request.resume_from;
  std::int64_t progress_total = 0;
  for (int attempt = 0;; ++attempt) {
    if (request.prepare) request.prepare(request);
    curl_easy_reset(h);
    Attempt a;
    a.request = &request;
    a.handle = h;
    a.have = have;
    a.body_fd = body_fd.get();
    a.body_hash = body_hash.get();

    char errbuf[CURL_ERROR_SIZE] = {0};
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(h, CURLOPT_URL, request.url.c_str());
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    // Paths go out as given: S3 keys like "a/../b" are signed byte for byte.
    curl_easy_setopt(h, CURLOPT_PATH_AS_IS, 1L);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT,
                     static_cast<long>(options_.connect_timeout.count()));
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, options_.low_speed_limit);
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, static_cast<long>(options_.low_speed_time.count()));
    curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(h, CURLOPT_BUFFERSIZE, 256L * 1024);
    curl_easy_setopt(h, CURLOPT_UPLOAD_BUFFERSIZE, 512L * 1024);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "mlpack");
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
    if (!options_.ca_file.empty()) curl_easy_setopt(h, CURLOPT_CAINFO, options_.ca_file.c_str());
    if (options_.use_netrc)
      curl_easy_setopt(h, CURLOPT_NETRC, static_cast<long>(CURL_NETRC_OPTIONAL));
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &a);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &a);

    HeaderList headers;
    for (const auto& hd : request.headers) headers.append((hd.name + ": " + hd.value).c_str());
    const bool ranged = request.sink && (have > 0 || request.range_end);
    if (ranged) {
      if (request.range_end && have > *request.range_end) return Response{206, {}, {}};
      headers.append(("Range: bytes=" + std::to_string(have) + "-" +
                      (request.range_end ? std::to_string(*request.range_end) : ""))
                         .c_str());
    }

    if (request.method == "HEAD") {
      curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    } else if (request.body.kind != Body::Kind::kNone || request.method == "PUT") {
      curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
      curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(request.body.length()));
      curl_easy_setopt(h, CURLOPT_READFUNCTION, on_read);
      curl_easy_setopt(h, CURLOPT_READDATA, &a);
      curl_easy_setopt(h, CURLOPT_SEEKFUNCTION, on_seek);
      curl_easy_setopt(h, CURLOPT_SEEKDATA, &a);
      curl_easy_setopt(h, CURLOPT_EXPECT_100_TIMEOUT_MS, 1000L);
      if (request.method != "PUT") {
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, request.method.c_str());
      }
    } else if (request.method != "GET") {
      curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, request.method.c_str());
    }
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers.get());

    const auto started = std::chrono::steady_clock::now();
    const CURLcode code = curl_easy_perform(h);
    if (a.error) std::rethrow_exception(a.error);
    if (a.in_headers) curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &a.response.status);
    progress_total += a.progress_reported;
    have = a.have;

    const auto elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - started);
    std::string outcome = code == CURLE_OK ? std::to_string(a.response.status)
                                           : std::string(curl_easy_strerror(code));
    log::debug(request.method + " " + redact_url(request.url) + " -> " + outcome + " (" +
               std::to_string(elapsed.count()).substr(0, 5) + " s)");

    const bool retry_transport = code != CURLE_OK && transient(code);
    const bool retry_status = code == CURLE_OK && transient(a.response.status);
    const std::string what = request.method + " " + redact_url(request.url);
    if (code != CURLE_OK && !retry_transport) {
      throw RuntimeError(what + ": " + transport_detail(code, errbuf));
    }
    if (ranged && range_was_complete(a.response, have)) {
      a.response.status = 206;
      a.response.body.clear();
      return std::move(a.response);
    }
    if (!retry_transport && !retry_status) {
      // An upload that went through counts once, whatever earlier attempts reported.
      return std::move(a.response);
    }
    // An upload starts over: take back what its failed attempt reported.
    if (request.body.kind != Body::Kind::kNone && progress_total != 0 && request.progress) {
      (*request.progress)(-progress_total);
      progress_total = 0;
    }
    if (attempt >= request.retries.value_or(options_.retries)) {
      const std::string why = retry_status
                                  ? "the server answered " + std::to_string(a.response.status)
                                  : transport_detail(code, errbuf);
      throw RuntimeError(what + ": " + why + " (gave up after " + std::to_string(attempt + 1) +
                         " attempts)");
    }
    auto wait = backoff(options_, attempt);
    if (retry_status) {
      if (auto after = retry_after(a.response)) {
        if (*after > options_.retry_after_max) {
          throw RuntimeError(what + ": the server answered " + std::to_string(a.response.status) +
                             " and asks to retry after " + std::to_string(after->count()) +
                             " s; try again later");
        }
        wait = std::max<std::chrono::milliseconds>(wait, *after);
      }
    }
    log::debug("retrying " + what + " in " + std::to_string(wait.count()) + " ms (attempt " +
               std::to_string(attempt + 2) + " of " +
               std::to_string(request.retries.value_or(options_.retries) + 1) + ")");
    std::this_thread::sleep_for(wait);
  }
}

std::string redact_url(const std::string& url) {
  const std::size_t scheme = url.find("://");
  if (scheme == std::string::npos) return url;
  const std::size_t host_start = scheme + 3;
  const std::size_t path = url.find('/', host_start);
  const std::size_t at = url.rfind('@', path == std::string::npos ? url.size() : path);
  if (at == std::string::npos || at < host_start) return url;
  return url.substr(0, host_start) + url.substr(at + 1);
}

std::string encode_path(std::string_view path) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  out.reserve(path.size());
  for (unsigned char c : path) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~' || c == '/') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::string decode_percent(std::string_view text) {
  auto value = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size() && value(text[i + 1]) >= 0 &&
        value(text[i + 2]) >= 0) {
      out += static_cast<char>(value(text[i + 1]) * 16 + value(text[i + 2]));
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

std::string curl_version_text() {
  const curl_version_info_data* info = curl_version_info(CURLVERSION_NOW);
  std::string text = std::string("libcurl ") + info->version;
  if (info->ssl_version) text += std::string(" (") + info->ssl_version + ")";
  return text;
}

}  // namespace mlpack::net
