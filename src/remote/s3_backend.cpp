// The S3 backend: AWS S3 and S3-compatible stores (MinIO, Ceph, R2, GCS's
// XML API), through the REST API signed with SigV4.
//
// Single PUTs sign the blob's SHA-256, which is known from its name, so S3
// itself refuses bytes that do not match. Above a threshold, blobs go up as
// multipart uploads whose parts are uploaded in parallel; each part is hashed
// right before it is sent (it is then in the page cache) and its hash signed,
// rather than sent as UNSIGNED-PAYLOAD: S3 then checks every byte it stores,
// over plain HTTP too, and memory stays at one buffer per part in flight. An
// upload that fails is aborted; one that a killed push left open is resumed
// by the next push of the same blob (its parts are checked against their
// MD5 ETags), so no upload stays open.
//
// Version tags are written with If-None-Match: *, stages with If-Match on the
// ETag read; 412 and 409 mean another writer got there first.
#include <openssl/evp.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <map>
#include <mutex>
#include <thread>

#include "mlpack/crypto/sha256.hpp"
#include "mlpack/net/sigv4.hpp"
#include "mlpack/remote/aws_config.hpp"
#include "mlpack/remote/backend.hpp"
#include "mlpack/util/error.hpp"
#include "mlpack/util/fs.hpp"
#include "mlpack/util/hex.hpp"
#include "mlpack/util/log.hpp"
#include "mlpack/util/parallel.hpp"
#include "mlpack/util/xml.hpp"

namespace mlpack::remote {
namespace {

constexpr const char* kEmptySha256 =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
constexpr std::uint64_t kMiB = 1 << 20;
constexpr std::uint64_t kMultipartThreshold = 32 * kMiB;
constexpr std::uint64_t kMinPartSize = 16 * kMiB;
constexpr std::uint64_t kMaxParts = 10'000;
constexpr unsigned kPartJobs = 8;
// Large downloads: ranges of this size, this many at a time.
constexpr std::uint64_t kRangeSize = 16 * kMiB;
constexpr unsigned kRangeJobs = 8;

// The text of every <tag>...</tag> in `xml`, in order (S3's answers are flat
// enough that this needs no XML library).
std::vector<std::string> xml_all(const std::string& xml, const std::string& tag) {
  std::vector<std::string> out;
  const std::string open = "<" + tag + ">", close = "</" + tag + ">";
  std::size_t pos = 0;
  while ((pos = xml.find(open, pos)) != std::string::npos) {
    const std::size_t start = pos + open.size();
    const std::size_t end = xml.find(close, start);
    if (end == std::string::npos) break;
    out.push_back(xml::unescape(xml.substr(start, end - start)));
    pos = end + close.size();
  }
  return out;
}

std::string xml_first(const std::string& xml, const std::string& tag) {
  auto all = xml_all(xml, tag);
  return all.empty() ? std::string() : all.front();
}

std::string unquote(std::string s) {
  if (s.size() >= 2 && s.front() == '"' && s.back() == '"') s = s.substr(1, s.size() - 2);
  return s;
}

std::string file_slice_hash(const stdfs::path& file, std::uint64_t offset, std::uint64_t size,
                            const EVP_MD* md) {
  struct Free {
    void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
  };
  std::unique_ptr<EVP_MD_CTX, Free> ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestInit_ex(ctx.get(), md, nullptr) != 1) {
    throw RuntimeError("cannot start a digest");
  }
  fs::UniqueFd fd = fs::open_read(file);
  std::vector<std::uint8_t> buffer(kMiB);
  std::uint64_t done = 0;
  while (done < size) {
    const size_t want = static_cast<size_t>(std::min<std::uint64_t>(buffer.size(), size - done));
    const ssize_t got = ::pread(fd.get(), buffer.data(), want, static_cast<off_t>(offset + done));
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0)
      throw RuntimeError("cannot read " + file.string() + ": it is shorter than expected");
    EVP_DigestUpdate(ctx.get(), buffer.data(), static_cast<size_t>(got));
    done += static_cast<std::uint64_t>(got);
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx.get(), digest, &len);
  return hex::encode(std::span<const std::uint8_t>(digest, len));
}

std::uint64_t part_size_for(std::uint64_t size) {
  // Grows so that any size fits in 10,000 parts; whole MiB.
  std::uint64_t part = std::max(kMinPartSize, (size + kMaxParts - 1) / kMaxParts);
  return (part + kMiB - 1) / kMiB * kMiB;
}

struct Part {
  int number = 0;
  std::uint64_t offset = 0;
  std::uint64_t size = 0;
  std::string etag;
};

class S3Backend final : public Backend {
 public:
  S3Backend(const Remote& remote, const net::TransferOptions& options, AwsSettings settings)
      : url_(remote.url), client_(options), aws_(std::move(settings)) {
    bucket_ = url_.host;
    prefix_ = url_.path;
    const std::size_t scheme_end = aws_.endpoint.find("://");
    scheme_ = aws_.endpoint.substr(0, scheme_end);
    std::string authority = aws_.endpoint.substr(scheme_end + 3);
    const std::size_t slash = authority.find('/');
    if (slash != std::string::npos) {
      base_path_ = authority.substr(slash);
      authority = authority.substr(0, slash);
    }
    if (const std::size_t at = authority.rfind('@'); at != std::string::npos) {
      authority = authority.substr(at + 1);  // never credentials in an endpoint
    }
    host_ = aws_.path_style ? authority : bucket_ + "." + authority;
    while (!base_path_.empty() && base_path_.back() == '/') base_path_.pop_back();
  }

  std::string describe() const override { return url_.text; }

  bool exists(const std::string& key) override {
    net::Response r = send(make("HEAD", object_key(key), {}, kEmptySha256));
    if (r.ok()) return true;
    if (r.status == 404) return false;
    fail("HEAD " + key, r);
  }

  void get(const std::string& key, const Sink& sink, std::uint64_t offset) override {
    net::Request req = make("GET", object_key(key), {}, kEmptySha256);
    req.sink = &sink;
    req.resume_from = offset;
    net::Response r = send(std::move(req));
    if (r.ok() || r.status == 416) return;  // 416: nothing left after `offset`
    if (r.status == 404 && error_code(r) != "NoSuchBucket") {
      throw NotFoundError(key + " not found on " + describe());
    }
    fail("GET " + key, r);
  }

  bool get_ranges(const std::string& key, int fd, std::uint64_t offset, std::uint64_t size,
                  const std::function<void(std::uint64_t)>& landed,
                  const net::ProgressFn& progress) override {
    std::vector<std::pair<std::uint64_t, std::uint64_t>> ranges;  // [first, last]
    for (std::uint64_t at = offset; at < size; at += kRangeSize) {
      ranges.push_back({at, std::min(size, at + kRangeSize) - 1});
    }
    std::mutex mutex;
    std::vector<char> done(ranges.size(), 0);
    std::size_t next_gap = 0;  // the first range not in yet
    util::parallel_for(ranges.size(), kRangeJobs, [&](std::size_t i) {
      const auto [first, last] = ranges[i];
      std::uint64_t at = first;
      const Sink sink = [&](std::span<const std::uint8_t> chunk) {
        fs::pwrite_all(fd, chunk, at);
        at += chunk.size();
        if (progress) progress(static_cast<std::int64_t>(chunk.size()));
      };
      net::Request req = make("GET", object_key(key), {}, kEmptySha256);
      req.sink = &sink;
      req.resume_from = first;
      req.range_end = last;
      net::Response r = send(std::move(req));
      if (r.status == 404 && error_code(r) != "NoSuchBucket") {
        throw NotFoundError(key + " not found on " + describe());
      }
      if (!r.ok()) fail("GET " + key, r);
      if (at != last + 1) {
        throw IntegrityError(key + " on " + describe() + " is shorter than its manifest says");
      }
      std::lock_guard lock(mutex);
      done[i] = 1;
      while (next_gap < ranges.size() && done[next_gap]) ++next_gap;
      landed(next_gap == ranges.size() ? size : ranges[next_gap].first);
    });
    return true;
  }

  std::optional<std::string> get_small(const std::string& key, std::size_t max_bytes) override {
    return get_with_etag(key, max_bytes).first;
  }

  void put_file(const std::string& key, const stdfs::path& file, std::uint64_t size,
                const std::string& sha256, bool verify, const net::ProgressFn& progress) override {
    if (size >= kMultipartThreshold) {
      put_multipart(key, file, size, sha256, verify, progress);
      return;
    }
    // S3 checks the body against the signed hash; with `verify` the local
    // bytes are checked here too, so the message says what is wrong.
    net::Request req = make("PUT", object_key(key), {}, sha256);
    req.body = net::Body::of_file(file, 0, size);
    if (verify) req.body.verify_sha256 = sha256;
    req.progress = progress ? &progress : nullptr;
    net::Response r = send(std::move(req));
    if (!r.ok()) fail("PUT " + key, r);
  }

  void put_bytes(const std::string& key, const std::string& bytes) override {
    net::Response r = put(key, bytes, {});
    if (!r.ok()) fail("PUT " + key, r);
  }

  bool put_if_absent(const std::string& key, const std::string& bytes) override {
    for (int attempt = 0;; ++attempt) {
      net::Response r = put(key, bytes, {{"If-None-Match", "*"}});
      if (r.ok()) return true;
      if (r.status == 412) return false;
      // 409: a conditional write to the same key is in flight; S3 asks to retry.
      if (r.status == 409 && attempt < 5) {
        std::this_thread::sleep_for(std::chrono::milliseconds(200 << attempt));
        continue;
      }
      if (r.status == 409) return false;
      fail("PUT " + key, r);
    }
  }

  bool compare_and_swap(const std::string& key, const std::optional<std::string>& expected,
                        const std::string& bytes) override {
    if (!expected) return put_if_absent(key, bytes);
    auto [current, etag] = get_with_etag(key, 1 << 20);
    if (current != expected) return false;
    std::vector<net::Header> conditions;
    if (!etag.empty()) conditions.push_back({"If-Match", etag});
    net::Response r = put(key, bytes, conditions);
    if (r.ok()) return true;
    if (r.status == 412 || r.status == 409) return false;
    fail("PUT " + key, r);
  }

  std::vector<std::string> list(const std::string& prefix) override {
    std::vector<std::string> keys;
    const std::string full = object_key(prefix.empty() ? "" : prefix + "/");
    const std::string strip = prefix_.empty() ? "" : prefix_ + "/";
    std::string token;
    for (;;) {
      std::vector<std::pair<std::string, std::string>> query{{"list-type", "2"}, {"prefix", full}};
      if (!token.empty()) query.push_back({"continuation-token", token});
      net::Request req = make("GET", "", query, kEmptySha256);
      req.max_body = 16 << 20;
      net::Response r = send(std::move(req));
      if (!r.ok()) fail("LIST " + prefix, r);
      for (const auto& k : xml_all(r.body, "Key")) {
        if (k.starts_with(strip)) keys.push_back(k.substr(strip.size()));
      }
      if (xml_first(r.body, "IsTruncated") != "true") break;
      token = xml_first(r.body, "NextContinuationToken");
      if (token.empty()) break;
    }
    std::sort(keys.begin(), keys.end());
    return keys;
  }

  void remove(const std::string& key) override {
    net::Response r = send(make("DELETE", object_key(key), {}, kEmptySha256));
    if (r.ok() || r.status == 404) return;
    fail("DELETE " + key, r);
  }

 private:
  using Query = std::vector<std::pair<std::string, std::string>>;

  std::string object_key(const std::string& key) const {
    if (prefix_.empty()) return key;
    return key.empty() ? prefix_ + "/" : prefix_ + "/" + key;
  }

  // The request path for an object key (empty: the bucket itself).
  std::string path_for(const std::string& key) const {
    std::string path = base_path_;
    if (aws_.path_style) path += "/" + net::sigv4::uri_encode(bucket_, true);
    return path + "/" + net::sigv4::uri_encode(key, false);
  }

  // A request signed afresh before each attempt (the date is part of it).
  net::Request make(const std::string& method, const std::string& key, const Query& query,
                    const std::string& payload_sha256,
                    const std::vector<net::Header>& headers = {}) const {
    net::Request req;
    req.method = method;
    const std::string path = path_for(key);
    std::string query_text;
    for (const auto& [name, value] : query) {
      query_text += (query_text.empty() ? "?" : "&") + net::sigv4::uri_encode(name, true);
      if (!value.empty() || name != "uploads")
        query_text += "=" + net::sigv4::uri_encode(value, true);
    }
    req.url = scheme_ + "://" + host_ + path + query_text;
    req.headers = headers;
    req.headers.push_back({"Host", host_});
    if (!aws_.credentials) return req;  // anonymous: a public bucket
    const auto base = req.headers;
    net::sigv4::Request signable{method, host_, path, query, headers, payload_sha256};
    req.prepare = [this, base, signable](net::Request& r) {
      const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                           std::chrono::system_clock::now().time_since_epoch())
                           .count();
      auto signature = net::sigv4::sign(signable, *aws_.credentials, aws_.region, "s3", now, true);
      r.headers = base;
      for (auto& h : signature.headers) r.headers.push_back(std::move(h));
    };
    return req;
  }

  net::Response send(net::Request req) const { return client_.send(std::move(req)); }

  net::Response put(const std::string& key, const std::string& bytes,
                    const std::vector<net::Header>& headers) {
    net::Request req = make("PUT", object_key(key), {}, crypto::sha256_hex(bytes), headers);
    req.body = net::Body::of(bytes);
    return send(std::move(req));
  }

  std::pair<std::optional<std::string>, std::string> get_with_etag(const std::string& key,
                                                                   std::size_t max_bytes) {
    net::Request req = make("GET", object_key(key), {}, kEmptySha256);
    req.max_body = max_bytes;
    net::Response r = send(std::move(req));
    if (r.ok()) return {std::move(r.body), r.header("ETag").value_or("")};
    if (r.status == 404 && error_code(r) != "NoSuchBucket") return {std::nullopt, ""};
    fail("GET " + key, r);
  }

  static std::string error_code(const net::Response& r) { return xml_first(r.body, "Code"); }

  [[noreturn]] void fail(const std::string& what, const net::Response& r) const {
    std::string code = error_code(r);
    const std::string message = xml_first(r.body, "Message");
    if (code.empty()) {
      // HEAD answers carry no body: name the usual causes by status.
      if (r.status == 403) code = "Forbidden";
      if (r.status == 404) code = "NotFound";
      if (r.status == 301 || r.status == 400) code = "BadRequest";
    }
    std::string hint;
    const std::string source = aws_.credentials_source;
    if (code == "NoSuchBucket") {
      throw NotFoundError("bucket " + bucket_ + " does not exist at " + aws_.endpoint +
                          ": check the remote's URL, region and endpoint");
    } else if (code == "AccessDenied" || code == "Forbidden") {
      hint = "the credentials (" + source +
             ") may not do this here: check the IAM policy (s3:GetObject, s3:PutObject, "
             "s3:ListBucket on the bucket)" +
             (aws_.credentials ? "" : "; no credentials were found, so the request was anonymous");
    } else if (code == "SignatureDoesNotMatch") {
      hint = "the secret access key (" + source + ") does not belong to the access key id";
    } else if (code == "InvalidAccessKeyId") {
      hint = "the access key id (" + source + ") is not known at " + aws_.endpoint;
    } else if (code == "RequestTimeTooSkewed") {
      hint = "this machine's clock is more than 15 minutes off: set it right (NTP)";
    } else if (code == "PermanentRedirect" || code == "AuthorizationHeaderMalformed" ||
               code == "IllegalLocationConstraintException") {
      hint = "the bucket is in another region than " + aws_.region +
             ": set it with 'mlpack remote set NAME region REGION' or AWS_REGION";
    } else if (code == "ExpiredToken" || code == "InvalidToken") {
      hint = "the session token (" + source + ") has expired or is malformed: refresh it";
    }
    std::string text = what + " on " + describe() + ": " + (code.empty() ? "HTTP" : code) + " (" +
                       std::to_string(r.status) + ")";
    if (!message.empty()) text += ": " + message;
    if (!hint.empty()) text += "; " + hint;
    throw RuntimeError(text);
  }

  // --- multipart ---------------------------------------------------------

  void put_multipart(const std::string& key, const stdfs::path& file, std::uint64_t size,
                     const std::string& sha256, bool verify, const net::ProgressFn& progress) {
    const std::string okey = object_key(key);
    const std::uint64_t part_size = part_size_for(size);
    std::vector<Part> parts;
    for (std::uint64_t offset = 0; offset < size; offset += part_size) {
      parts.push_back(
          {static_cast<int>(parts.size() + 1), offset, std::min(part_size, size - offset), ""});
    }
    // The whole blob is checked while its parts go up; a mismatch aborts.
    std::optional<std::string> whole_digest;
    std::exception_ptr whole_error;
    std::jthread whole;
    if (verify) {
      whole = std::jthread([&] {
        try {
          whole_digest = file_slice_hash(file, 0, size, EVP_sha256());
        } catch (...) {
          whole_error = std::current_exception();
        }
      });
    }

    std::string upload_id = resume_or_create(okey, parts, file);
    try {
      std::vector<std::size_t> todo;
      for (std::size_t i = 0; i < parts.size(); ++i) {
        if (parts[i].etag.empty()) {
          todo.push_back(i);
        } else if (progress) {
          progress(static_cast<std::int64_t>(parts[i].size));
        }
      }
      util::parallel_for(todo.size(), kPartJobs, [&](std::size_t t) {
        Part& p = parts[todo[t]];
        const std::string part_hash = file_slice_hash(file, p.offset, p.size, EVP_sha256());
        net::Request req =
            make("PUT", okey, {{"partNumber", std::to_string(p.number)}, {"uploadId", upload_id}},
                 part_hash);
        req.body = net::Body::of_file(file, p.offset, p.size);
        req.progress = progress ? &progress : nullptr;
        net::Response r = send(std::move(req));
        if (!r.ok()) fail("PUT part " + std::to_string(p.number) + " of " + key, r);
        p.etag = r.header("ETag").value_or("");
        if (p.etag.empty())
          throw RuntimeError("S3 answered part " + std::to_string(p.number) + " of " + key +
                             " without an ETag");
      });
      if (whole.joinable()) whole.join();
      if (whole_error) std::rethrow_exception(whole_error);
      if (whole_digest && *whole_digest != sha256) {
        throw IntegrityError(file.string() +
                             " does not match its digest (sha256:" + sha256.substr(0, 12) +
                             "): the local copy is corrupt; nothing was sent");
      }
      complete(okey, upload_id, parts);
    } catch (const Error& e) {
      if (whole.joinable()) whole.join();
      abort(okey, upload_id);
      // Another pusher of the same blob may have completed it (or aborted
      // ours): content-addressed, so its object is the one we meant.
      if (dynamic_cast<const IntegrityError*>(&e)) throw;
      bool there = false;
      try {
        there = exists(key);
      } catch (const Error&) {
      }
      if (there) return;
      throw;
    }
  }

  // An upload of this blob that a killed push left open is picked up again:
  // parts whose MD5 ETag matches the local bytes are kept. Older open
  // uploads of the same key are aborted, so none stays behind.
  std::string resume_or_create(const std::string& okey, std::vector<Part>& parts,
                               const stdfs::path& file) {
    net::Request list = make("GET", "", {{"prefix", okey}, {"uploads", ""}}, kEmptySha256);
    list.max_body = 4 << 20;
    net::Response r = send(std::move(list));
    std::vector<std::pair<std::string, std::string>> open;  // (initiated, upload id)
    if (r.ok()) {
      std::size_t pos = 0;
      while ((pos = r.body.find("<Upload>", pos)) != std::string::npos) {
        const std::size_t end = r.body.find("</Upload>", pos);
        const std::string block = r.body.substr(pos, end - pos);
        pos = end == std::string::npos ? r.body.size() : end;
        if (xml_first(block, "Key") != okey) continue;
        open.push_back({xml_first(block, "Initiated"), xml_first(block, "UploadId")});
      }
    }
    std::sort(open.begin(), open.end());
    for (std::size_t i = 0; i + 1 < open.size(); ++i) abort(okey, open[i].second);
    if (!open.empty()) {
      const std::string id = open.back().second;
      std::map<int, std::pair<std::uint64_t, std::string>> uploaded;  // number -> (size, etag)
      std::string marker;
      bool listed = true;
      for (;;) {
        Query q{{"uploadId", id}};
        if (!marker.empty()) q.push_back({"part-number-marker", marker});
        net::Request lp = make("GET", okey, q, kEmptySha256);
        lp.max_body = 8 << 20;
        net::Response pr = send(std::move(lp));
        if (!pr.ok()) {
          listed = false;
          break;
        }
        std::size_t pos = 0;
        while ((pos = pr.body.find("<Part>", pos)) != std::string::npos) {
          const std::size_t end = pr.body.find("</Part>", pos);
          const std::string block = pr.body.substr(pos, end - pos);
          pos = end == std::string::npos ? pr.body.size() : end;
          try {
            uploaded[std::stoi(xml_first(block, "PartNumber"))] = {
                std::stoull(xml_first(block, "Size")), xml_first(block, "ETag")};
          } catch (const std::exception&) {
          }
        }
        if (xml_first(pr.body, "IsTruncated") != "true") break;
        marker = xml_first(pr.body, "NextPartNumberMarker");
        if (marker.empty()) break;
      }
      if (listed) {
        std::size_t kept = 0;
        for (Part& p : parts) {
          auto it = uploaded.find(p.number);
          if (it == uploaded.end() || it->second.first != p.size) continue;
          if (unquote(it->second.second) == file_slice_hash(file, p.offset, p.size, EVP_md5())) {
            p.etag = it->second.second;
            ++kept;
          }
        }
        log::debug("resuming the upload of " + okey + ": " + std::to_string(kept) + " of " +
                   std::to_string(parts.size()) + " parts are there");
        return id;
      }
      abort(okey, id);
    }
    net::Request create = make("POST", okey, {{"uploads", ""}}, crypto::sha256_hex(""));
    create.body = net::Body::of("");
    net::Response cr = send(std::move(create));
    if (!cr.ok()) fail("starting the upload of " + okey, cr);
    std::string id = xml_first(cr.body, "UploadId");
    if (id.empty()) throw RuntimeError("S3 started an upload of " + okey + " without an id");
    return id;
  }

  void complete(const std::string& okey, const std::string& upload_id,
                const std::vector<Part>& parts) {
    std::string body =
        "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">";
    for (const Part& p : parts) {
      body += "<Part><PartNumber>" + std::to_string(p.number) + "</PartNumber><ETag>" +
              xml::escape(p.etag) + "</ETag></Part>";
    }
    body += "</CompleteMultipartUpload>";
    net::Request req = make("POST", okey, {{"uploadId", upload_id}}, crypto::sha256_hex(body),
                            {{"Content-Type", "application/xml"}});
    req.body = net::Body::of(body);
    net::Response r = send(std::move(req));
    // S3 may answer 200 and still report an error in the body.
    if (!r.ok() || r.body.find("<Error>") != std::string::npos) {
      fail("completing the upload of " + okey, r);
    }
  }

  void abort(const std::string& okey, const std::string& upload_id) noexcept {
    try {
      send(make("DELETE", okey, {{"uploadId", upload_id}}, kEmptySha256));
    } catch (...) {
      // Best effort: the next push of this blob aborts or resumes it.
    }
  }

  RemoteUrl url_;
  net::HttpClient client_;
  AwsSettings aws_;
  std::string bucket_;
  std::string prefix_;
  std::string scheme_;
  std::string host_;
  std::string base_path_;
};

}  // namespace

std::unique_ptr<Backend> open_s3_backend(const Remote& remote,
                                         const net::TransferOptions& options) {
  return std::make_unique<S3Backend>(remote, options,
                                     resolve_aws_settings(remote, process_environment()));
}

}  // namespace mlpack::remote
