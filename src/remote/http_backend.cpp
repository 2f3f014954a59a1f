// The HTTP(S) backend: a WebDAV-style server (nginx with its dav module,
// Apache mod_dav, rclone serve webdav, ...) that stores what is PUT and
// serves it back with GET.
//
// Create-only writes (version tags) go to a temp name next to the key and
// are moved into place with WebDAV MOVE and `Overwrite: F`, which the server
// refuses with 412 when the key exists; the check and the rename happen in
// one server step. nginx ignores If-None-Match on PUT, so a server without
// MOVE gets a HEAD check and a PUT with If-None-Match: * (honoured by servers
// that implement it); there a window remains between the check and the PUT.
// Stages move with If-Match on the ETag read; a server that ignores If-Match
// leaves the same window between reading the stage and writing it.
//
// Listing uses PROPFIND (Depth: 1, walking down): it reads what is on the
// server, so it can never disagree with the objects, and needs no index that
// concurrent pushers would have to update without a compare-and-swap.
#include <algorithm>
#include <atomic>
#include <cstring>

#include "mlpack/crypto/ed25519.hpp"
#include "mlpack/remote/backend.hpp"
#include "mlpack/remote/webdav.hpp"
#include "mlpack/util/error.hpp"
#include "mlpack/util/hex.hpp"

namespace mlpack::remote {
namespace {

constexpr std::uint64_t kMaxListingBytes = 64ull << 20;
constexpr const char* kPropfindBody =
    "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
    "<D:propfind xmlns:D=\"DAV:\"><D:prop><D:resourcetype/></D:prop></D:propfind>\n";

std::string first_line(const std::string& text) {
  std::string line = text.substr(0, text.find_first_of("\r\n"));
  if (line.size() > 200) line = line.substr(0, 200) + "...";
  for (char& c : line) {
    if (static_cast<unsigned char>(c) < 0x20) c = ' ';
  }
  return line;
}

std::string random_name() {
  std::uint8_t bytes[12];
  crypto::ed25519::random_bytes(bytes);
  return ".tmp-" + hex::encode(bytes);
}

class HttpBackend final : public Backend {
 public:
  HttpBackend(const Remote& remote, const net::TransferOptions& options)
      : url_(remote.url), client_(options) {
    origin_ = url_.scheme + "://" + url_.host;
    base_path_plain_ = "/" + (url_.path.empty() ? "" : url_.path + "/");
    base_path_ = net::encode_path(base_path_plain_);
    if (!url_.user.empty()) {
      credentials_ = net::encode_path(url_.user);
      if (!url_.password.empty()) credentials_ += ":" + net::encode_path(url_.password);
      credentials_ += "@";
    }
    if (const char* token = std::getenv("MLPACK_HTTP_TOKEN"); token && *token) {
      auth_header_ = std::string("Bearer ") + token;
    }
  }

  std::string describe() const override { return url_.text; }

  bool exists(const std::string& key) override {
    net::Response r = send(make("HEAD", key));
    if (r.ok()) return true;
    // A redirect is a folder's answer (nginx sends /x to /x/): not an object.
    if (r.status == 404 || r.status == 410 || r.status == 301 || r.status == 302) return false;
    fail("HEAD", key, r);
  }

  void get(const std::string& key, const Sink& sink, std::uint64_t offset) override {
    net::Request req = make("GET", key);
    req.sink = &sink;
    req.resume_from = offset;
    net::Response r = send(std::move(req));
    if (r.ok()) return;
    if (r.status == 404 || r.status == 410) {
      throw NotFoundError(key + " not found on " + describe());
    }
    fail("GET", key, r);
  }

  std::optional<std::string> get_small(const std::string& key, std::size_t max_bytes) override {
    net::Request req = make("GET", key);
    req.max_body = max_bytes;
    net::Response r = send(std::move(req));
    if (r.ok()) return std::move(r.body);
    if (r.status == 404 || r.status == 410) return std::nullopt;
    fail("GET", key, r);
  }

  void put_file(const std::string& key, const stdfs::path& file, std::uint64_t size,
                const std::string& sha256, bool verify, const net::ProgressFn& progress) override {
    net::Request req = make("PUT", key);
    req.body = net::Body::of_file(file, 0, size);
    if (verify) req.body.verify_sha256 = sha256;
    req.headers.push_back({"Content-Type", "application/octet-stream"});
    req.progress = progress ? &progress : nullptr;
    expect_written("PUT", key, send(std::move(req)));
  }

  void put_bytes(const std::string& key, const std::string& bytes) override {
    net::Request req = make("PUT", key);
    req.body = net::Body::of(bytes);
    expect_written("PUT", key, send(std::move(req)));
  }

  bool put_if_absent(const std::string& key, const std::string& bytes) override {
    if (exists(key)) return false;
    if (move_supported_.load() != 0) {
      const std::string temp = key.substr(0, key.rfind('/') + 1) + random_name();
      put_bytes(temp, bytes);
      net::Request move = make("MOVE", temp);
      move.headers.push_back({"Destination", origin_ + base_path_ + net::encode_path(key)});
      move.headers.push_back({"Overwrite", "F"});
      net::Response r = send(std::move(move));
      if (r.ok()) {
        move_supported_ = 1;
        return true;
      }
      if (r.status == 404 && get_small(key, bytes.size() + 1) == bytes) {
        // The answer to an earlier attempt was lost after the move happened.
        move_supported_ = 1;
        return true;
      }
      remove(temp);
      if (r.status == 412) return false;
      if (r.status != 405 && r.status != 501 && r.status != 403) fail("MOVE", temp, r);
      // No MOVE here: fall back to a conditional PUT.
      move_supported_ = 0;
    }
    net::Request req = make("PUT", key);
    req.body = net::Body::of(bytes);
    req.headers.push_back({"If-None-Match", "*"});
    net::Response r = send(std::move(req));
    if (r.status == 412) return false;
    expect_written("PUT", key, r);
    return true;
  }

  bool compare_and_swap(const std::string& key, const std::optional<std::string>& expected,
                        const std::string& bytes) override {
    if (!expected) return put_if_absent(key, bytes);
    net::Request read = make("GET", key);
    read.max_body = 1 << 20;
    net::Response current = send(std::move(read));
    if (current.status == 404 || current.status == 410) return false;
    if (!current.ok()) fail("GET", key, current);
    if (current.body != *expected) return false;
    net::Request write = make("PUT", key);
    write.body = net::Body::of(bytes);
    if (auto etag = current.header("ETag")) write.headers.push_back({"If-Match", *etag});
    net::Response r = send(std::move(write));
    if (r.status == 412) return false;
    expect_written("PUT", key, r);
    return true;
  }

  std::vector<std::string> list(const std::string& prefix) override {
    std::vector<std::string> keys;
    walk(prefix.empty() ? "" : prefix + "/", keys);
    std::sort(keys.begin(), keys.end());
    return keys;
  }

  void remove(const std::string& key) override {
    net::Response r = send(make("DELETE", key));
    if (r.ok() || r.status == 404 || r.status == 410) return;
    fail("DELETE", key, r);
  }

 private:
  net::Request make(const std::string& method, const std::string& key) const {
    net::Request req;
    req.method = method;
    req.url = url_.scheme + "://" + credentials_ + url_.host + base_path_ + net::encode_path(key);
    if (!auth_header_.empty()) req.headers.push_back({"Authorization", auth_header_});
    return req;
  }

  net::Response send(net::Request req) const { return client_.send(std::move(req)); }

  void expect_written(const char* method, const std::string& key, const net::Response& r) const {
    if (!r.ok()) fail(method, key, r);
  }

  [[noreturn]] void fail(const std::string& method, const std::string& key,
                         const net::Response& r) const {
    const std::string what =
        method + " " + key + " on " + describe() + ": HTTP " + std::to_string(r.status);
    if (r.status == 401 || r.status == 403) {
      throw RuntimeError(what + (r.status == 401 ? " Unauthorized" : " Forbidden") +
                         ": set MLPACK_HTTP_TOKEN, put the password in ~/.netrc, or check that "
                         "the account may write here");
    }
    const std::string body = first_line(r.body);
    throw RuntimeError(what + (body.empty() ? "" : " (" + body + ")"));
  }

  // Adds the keys under `dir` (a key prefix ending in '/', or empty for the
  // root), one PROPFIND per folder.
  void walk(const std::string& dir, std::vector<std::string>& keys) {
    net::Request req = make("PROPFIND", dir);
    req.headers.push_back({"Depth", "1"});
    req.headers.push_back({"Content-Type", "application/xml; charset=utf-8"});
    req.body = net::Body::of(kPropfindBody);
    req.max_body = kMaxListingBytes;
    net::Response r = send(std::move(req));
    if (r.status == 404 || r.status == 410) return;
    if (r.status == 405 || r.status == 501) {
      throw RuntimeError(describe() + " does not answer WebDAV PROPFIND (HTTP " +
                         std::to_string(r.status) +
                         "), which listing needs; push and pull work without it");
    }
    if (r.status != 207) fail("PROPFIND", dir, r);
    for (const webdav::Entry& e : webdav::parse_multistatus(r.body)) {
      std::string path = e.href;
      // An href is an absolute path or a full URL.
      if (const std::size_t scheme = path.find("://"); scheme != std::string::npos) {
        const std::size_t slash = path.find('/', scheme + 3);
        path = slash == std::string::npos ? "/" : path.substr(slash);
      }
      path = net::decode_percent(path);
      if (!path.starts_with(base_path_plain_)) continue;
      std::string key = path.substr(base_path_plain_.size());
      if (key == dir || key + "/" == dir) continue;  // the folder itself
      if (e.collection || key.ends_with("/")) {
        if (!key.ends_with("/")) key += "/";
        // Only deeper: a server that answers with odd hrefs cannot loop us.
        if (key.size() > dir.size() && key.starts_with(dir)) walk(key, keys);
        continue;
      }
      const std::string name = key.substr(key.rfind('/') + 1);
      if (name.starts_with(".tmp-")) continue;  // a create-only write in flight, or abandoned
      keys.push_back(key);
    }
  }

  RemoteUrl url_;
  net::HttpClient client_;
  std::string origin_;           // scheme://host[:port]
  std::string base_path_plain_;  // "/prefix/", or "/"
  std::string base_path_;        // the same, percent-encoded
  std::string credentials_;      // "user[:password]@", encoded, or empty
  std::string auth_header_;
  std::atomic<int> move_supported_{-1};  // -1 unknown, 0 no, 1 yes
};

}  // namespace

std::unique_ptr<Backend> open_http_backend(const Remote& remote,
                                           const net::TransferOptions& options) {
  return std::make_unique<HttpBackend>(remote, options);
}

}  // namespace mlpack::remote
