// The Google Cloud Storage backend, on the JSON API.
//
// Small objects go up in one request (uploadType=media). Blobs of 16 MiB and
// more use a resumable upload sent in chunks (multiples of 256 KiB); when a
// chunk fails, the session is asked where it stands (an empty PUT with
// "Content-Range: bytes */TOTAL", answered by 308 and the Range it holds) and
// the upload goes on from there, so a broken connection costs at most one
// chunk. Version tags are created with ifGenerationMatch=0, stages replaced
// with ifGenerationMatch=<generation read>: a 412 means another writer got
// there first.
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <thread>

#include "mlpack/crypto/sha256.hpp"
#include "mlpack/net/sigv4.hpp"
#include "mlpack/remote/backend.hpp"
#include "mlpack/remote/gcs_auth.hpp"
#include "mlpack/util/error.hpp"
#include "mlpack/util/fs.hpp"
#include "mlpack/util/log.hpp"

namespace mlpack::remote {
namespace {

constexpr std::uint64_t kMiB = 1 << 20;
constexpr std::uint64_t kResumableFrom = 16 * kMiB;
constexpr std::uint64_t kChunkSize = 16 * kMiB;  // a multiple of 256 KiB, as GCS requires
constexpr int kChunkFailures = 6;                // in a row, before the upload gives up

// Percent-encodes everything but unreserved characters: object names go in
// one path segment, '/' included.
std::string encode_component(const std::string& text) {
  return net::sigv4::uri_encode(text, true);
}

// {"error": {"code": 412, "message": "...", "errors": [{"reason": "conditionNotMet"}]}}
std::pair<std::string, std::string> error_of(const std::string& body) {
  try {
    YAML::Node n = YAML::Load(body);
    if (!n.IsMap() || !n["error"] || !n["error"].IsMap()) return {};
    const YAML::Node e = n["error"];
    std::string reason;
    if (e["errors"] && e["errors"].IsSequence() && e["errors"].size() > 0 &&
        e["errors"][0]["reason"]) {
      reason = e["errors"][0]["reason"].Scalar();
    }
    return {reason, e["message"] && e["message"].IsScalar() ? e["message"].Scalar() : ""};
  } catch (const YAML::Exception&) {
    return {};
  }
}

// "bytes=0-N" → N + 1 bytes persisted; no header → none.
std::uint64_t persisted_from(const net::Response& r) {
  const std::string range = r.header("Range").value_or("");
  const std::size_t dash = range.find('-');
  if (!range.starts_with("bytes=") || dash == std::string::npos) return 0;
  try {
    return std::stoull(range.substr(dash + 1)) + 1;
  } catch (const std::exception&) {
    return 0;
  }
}

class GcsBackend final : public Backend {
 public:
  GcsBackend(const Remote& remote, const net::TransferOptions& options, GcsSettings settings)
      : url_(remote.url), client_(options), gcs_(std::move(settings)) {
    bucket_ = url_.host;
    prefix_ = url_.path;
  }

  std::string describe() const override { return url_.text; }

  bool exists(const std::string& key) override {
    net::Response r = send(make("GET", object_url(key) + "?fields=generation"));
    if (r.ok()) return true;
    if (is_missing_object(r)) return false;
    fail("GET " + key, r);
  }

  void get(const std::string& key, const Sink& sink, std::uint64_t offset) override {
    net::Request req = make("GET", object_url(key) + "?alt=media");
    req.sink = &sink;
    req.resume_from = offset;
    net::Response r = send(std::move(req));
    if (r.ok() || r.status == 416) return;
    if (is_missing_object(r)) throw NotFoundError(key + " not found on " + describe());
    fail("GET " + key, r);
  }

  std::optional<std::string> get_small(const std::string& key, std::size_t max_bytes) override {
    return read_with_generation(key, max_bytes).first;
  }

  void put_file(const std::string& key, const stdfs::path& file, std::uint64_t size,
                const std::string& sha256, bool verify, const net::ProgressFn& progress) override {
    if (size >= kResumableFrom) {
      put_resumable(key, file, size, verify ? sha256 : std::string(), progress);
      return;
    }
    net::Request req = make("POST", upload_url(key, "media", std::nullopt));
    req.body = net::Body::of_file(file, 0, size);
    if (verify) req.body.verify_sha256 = sha256;
    req.headers.push_back({"Content-Type", "application/octet-stream"});
    req.progress = progress ? &progress : nullptr;
    net::Response r = send(std::move(req));
    if (!r.ok()) fail("upload of " + key, r);
  }

  void put_bytes(const std::string& key, const std::string& bytes) override {
    net::Response r = upload_bytes(key, bytes, std::nullopt);
    if (!r.ok()) fail("upload of " + key, r);
  }

  bool put_if_absent(const std::string& key, const std::string& bytes) override {
    net::Response r = upload_bytes(key, bytes, std::string("0"));
    if (r.ok()) return true;
    if (r.status == 412) return false;
    fail("upload of " + key, r);
  }

  bool compare_and_swap(const std::string& key, const std::optional<std::string>& expected,
                        const std::string& bytes) override {
    if (!expected) return put_if_absent(key, bytes);
    auto [current, generation] = read_with_generation(key, 1 << 20);
    if (current != expected || generation.empty()) return false;
    net::Response r = upload_bytes(key, bytes, generation);
    if (r.ok()) return true;
    if (r.status == 412) return false;
    fail("upload of " + key, r);
  }

  std::vector<std::string> list(const std::string& prefix) override {
    std::vector<std::string> keys;
    const std::string full = object_name(prefix.empty() ? "" : prefix + "/");
    const std::string strip = prefix_.empty() ? "" : prefix_ + "/";
    std::string token;
    for (;;) {
      std::string url = gcs_.endpoint + "/storage/v1/b/" + encode_component(bucket_) +
                        "/o?prefix=" + encode_component(full) +
                        "&fields=" + encode_component("items(name),nextPageToken");
      if (!token.empty()) url += "&pageToken=" + encode_component(token);
      net::Request req = make("GET", url);
      req.max_body = 32 << 20;
      net::Response r = send(std::move(req));
      if (!r.ok()) fail("listing " + prefix, r);
      YAML::Node n;
      try {
        n = YAML::Load(r.body);
      } catch (const YAML::Exception&) {
        throw RuntimeError("listing " + prefix + " on " + describe() + ": the answer is not JSON");
      }
      if (n["items"] && n["items"].IsSequence()) {
        for (const auto& item : n["items"]) {
          if (!item["name"]) continue;
          const std::string name = item["name"].Scalar();
          if (name.starts_with(strip)) keys.push_back(name.substr(strip.size()));
        }
      }
      token = n["nextPageToken"] ? n["nextPageToken"].Scalar() : std::string();
      if (token.empty()) break;
    }
    std::sort(keys.begin(), keys.end());
    return keys;
  }

  void remove(const std::string& key) override {
    net::Response r = send(make("DELETE", object_url(key)));
    if (r.ok() || is_missing_object(r)) return;
    fail("DELETE " + key, r);
  }

 private:
  std::string object_name(const std::string& key) const {
    return prefix_.empty() ? key : prefix_ + "/" + key;
  }
  std::string object_url(const std::string& key) const {
    return gcs_.endpoint + "/storage/v1/b/" + encode_component(bucket_) + "/o/" +
           encode_component(object_name(key));
  }
  std::string upload_url(const std::string& key, const char* type,
                         const std::optional<std::string>& if_generation) const {
    std::string url = gcs_.endpoint + "/upload/storage/v1/b/" + encode_component(bucket_) +
                      "/o?uploadType=" + type + "&name=" + encode_component(object_name(key));
    if (if_generation) url += "&ifGenerationMatch=" + *if_generation;
    return url;
  }

  // A request that carries a fresh (or cached) token on every attempt.
  net::Request make(const std::string& method, const std::string& url) const {
    net::Request req;
    req.method = method;
    req.url = url;
    if (gcs_.credentials) {
      req.prepare = [this](net::Request& r) {
        std::erase_if(r.headers, [](const net::Header& h) { return h.name == "Authorization"; });
        r.headers.push_back({"Authorization", "Bearer " + gcs_.credentials->token(client_)});
      };
    }
    return req;
  }

  // Sends; a 401 drops the cached token and tries once more with a new one.
  net::Response send(net::Request req) const {
    net::Response r = client_.send(req);
    if (r.status == 401 && gcs_.credentials) {
      gcs_.credentials->invalidate();
      r = client_.send(std::move(req));
    }
    return r;
  }

  net::Response upload_bytes(const std::string& key, const std::string& bytes,
                             const std::optional<std::string>& if_generation) {
    net::Request req = make("POST", upload_url(key, "media", if_generation));
    req.body = net::Body::of(bytes);
    req.headers.push_back({"Content-Type", "application/octet-stream"});
    return send(std::move(req));
  }

  std::pair<std::optional<std::string>, std::string> read_with_generation(const std::string& key,
                                                                          std::size_t max_bytes) {
    net::Request req = make("GET", object_url(key) + "?alt=media");
    req.max_body = max_bytes;
    net::Response r = send(std::move(req));
    if (r.ok()) return {std::move(r.body), r.header("x-goog-generation").value_or("")};
    if (is_missing_object(r)) return {std::nullopt, ""};
    fail("GET " + key, r);
  }

  bool is_missing_object(const net::Response& r) const {
    if (r.status != 404) return false;
    const auto [reason, message] = error_of(r.body);
    // A missing bucket is a misconfigured remote, not a missing object.
    return message.find("bucket") == std::string::npos;
  }

  [[noreturn]] void fail(const std::string& what, const net::Response& r) const {
    const auto [reason, message] = error_of(r.body);
    std::string text = what + " on " + describe() + ": HTTP " + std::to_string(r.status);
    if (!reason.empty()) text += " " + reason;
    if (!message.empty()) text += ": " + message;
    if (r.status == 404) {
      throw NotFoundError("bucket " + bucket_ + " not found at " + gcs_.endpoint +
                          ": check the remote's URL" +
                          (message.empty() ? "" : " (" + message + ")"));
    }
    if (r.status == 401) {
      text += "; the credentials (" + gcs_.source +
              ") were refused: check GOOGLE_APPLICATION_CREDENTIALS or GOOGLE_OAUTH_ACCESS_TOKEN";
    } else if (r.status == 403) {
      text += "; the credentials (" + gcs_.source +
              ") may not do this: grant the account a Storage role on the bucket" +
              (gcs_.credentials ? "" : " (no credentials were found: the request was anonymous)");
    }
    throw RuntimeError(text);
  }

  // --- resumable uploads -------------------------------------------------

  void put_resumable(const std::string& key, const stdfs::path& file, std::uint64_t size,
                     const std::string& verify_sha256, const net::ProgressFn& progress) {
    // The whole blob is hashed alongside; the last chunk waits for it.
    std::optional<std::string> digest;
    std::exception_ptr digest_error;
    std::jthread hasher;
    if (!verify_sha256.empty()) {
      hasher = std::jthread([&] {
        try {
          digest = crypto::sha256_file_hex(file);
        } catch (...) {
          digest_error = std::current_exception();
        }
      });
    }
    net::Request start = make("POST", upload_url(key, "resumable", std::nullopt));
    start.headers.push_back({"X-Upload-Content-Type", "application/octet-stream"});
    start.headers.push_back({"X-Upload-Content-Length", std::to_string(size)});
    start.headers.push_back({"Content-Type", "application/json; charset=UTF-8"});
    start.body = net::Body::of("{}");
    net::Response started = send(std::move(start));
    if (!started.ok()) fail("starting the upload of " + key, started);
    const std::string session = started.header("Location").value_or("");
    if (session.empty())
      throw RuntimeError("GCS started an upload of " + key + " without a session");

    std::uint64_t sent = 0;  // persisted by the server
    int failures = 0;
    std::int64_t reported = 0;
    try {
      while (sent < size) {
        const std::uint64_t length = std::min(kChunkSize, size - sent);
        const bool last = sent + length == size;
        if (last && hasher.joinable()) {
          hasher.join();
          if (digest_error) std::rethrow_exception(digest_error);
          if (digest != verify_sha256) {
            throw IntegrityError(file.string() + " does not match its digest (sha256:" +
                                 verify_sha256.substr(0, 12) +
                                 "): the local copy is corrupt; nothing was sent");
          }
        }
        net::Request chunk = make("PUT", session);
        chunk.body = net::Body::of_file(file, sent, length);
        chunk.headers.push_back({"Content-Range", "bytes " + std::to_string(sent) + "-" +
                                                      std::to_string(sent + length - 1) + "/" +
                                                      (last ? std::to_string(size) : "*")});
        chunk.retries = 0;  // a failed chunk asks the session where it stands instead
        net::Response r;
        bool broke = false;
        try {
          r = send(std::move(chunk));
        } catch (const RuntimeError& e) {
          log::debug("chunk of " + key + " broke off (" + e.what() + "); asking the session");
          broke = true;
        }
        if (!broke && (r.ok() || r.status == 308)) {
          const std::uint64_t now = r.ok() ? size : persisted_from(r);
          if (progress) progress(static_cast<std::int64_t>(now) - reported);
          reported = static_cast<std::int64_t>(now);
          sent = now;
          failures = 0;
          continue;
        }
        if (!broke && r.status != 429 && r.status < 500) fail("upload of " + key, r);
        if (++failures > kChunkFailures) {
          throw RuntimeError("upload of " + key + " to " + describe() + ": " +
                             std::to_string(failures) + " chunks failed in a row; try again later");
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(250 << std::min(failures, 6)));
        // Where does the session stand?
        net::Request status = make("PUT", session);
        status.body = net::Body::of("");
        status.headers.push_back({"Content-Range", "bytes */" + std::to_string(size)});
        net::Response st = send(std::move(status));
        if (st.ok()) {
          sent = size;
        } else if (st.status == 308) {
          sent = persisted_from(st);
        } else if (st.status != 429 && st.status < 500) {
          fail("resuming the upload of " + key, st);
        }
        if (progress) progress(static_cast<std::int64_t>(sent) - reported);
        reported = static_cast<std::int64_t>(sent);
        log::debug("the session of " + key + " holds " + std::to_string(sent) + " of " +
                   std::to_string(size) + " bytes");
      }
    } catch (...) {
      if (hasher.joinable()) hasher.join();
      // A session left alone expires after a week; cancel it now.
      try {
        send(make("DELETE", session));
      } catch (...) {
      }
      throw;
    }
  }

  RemoteUrl url_;
  net::HttpClient client_;
  GcsSettings gcs_;
  std::string bucket_;
  std::string prefix_;
};

}  // namespace

std::unique_ptr<Backend> open_gcs_backend(const Remote& remote,
                                          const net::TransferOptions& options) {
  return std::make_unique<GcsBackend>(remote, options,
                                      resolve_gcs_settings(remote, process_environment()));
}

}  // namespace mlpack::remote
