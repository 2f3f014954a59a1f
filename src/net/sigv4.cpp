#include "mlpack/net/sigv4.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <map>
#include <set>
#include <span>

#include "mlpack/crypto/sha256.hpp"
#include "mlpack/util/error.hpp"
#include "mlpack/util/hex.hpp"

namespace mlpack::net::sigv4 {

namespace {

constexpr std::string_view kAlgorithm = "AWS4-HMAC-SHA256";
constexpr std::string_view kUnsignedPayload = "UNSIGNED-PAYLOAD";
constexpr std::string_view kHexDigits = "0123456789ABCDEF";

using Mac = std::array<std::uint8_t, 32>;

// Wipes its key material on every way out of sign(), exceptions included.
struct Wiped {
  std::string& s;
  ~Wiped() { OPENSSL_cleanse(s.data(), s.size()); }
};
struct WipedMac {
  Mac& m;
  ~WipedMac() { OPENSSL_cleanse(m.data(), m.size()); }
};

Mac hmac(std::span<const std::uint8_t> key, std::string_view data) {
  Mac out{};
  unsigned int len = 0;
  if (HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
           reinterpret_cast<const unsigned char*>(data.data()), data.size(), out.data(),
           &len) == nullptr ||
      len != out.size()) {
    throw RuntimeError("OpenSSL HMAC-SHA256 failed");
  }
  return out;
}

std::span<const std::uint8_t> bytes_of(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

bool is_unreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

bool is_upper_hex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F');
}

// RFC 9110 token characters: what a header name may be made of.
bool is_token_char(unsigned char c) {
  return is_unreserved(c) ||
         std::string_view("!#$%&'*+^`|").find(static_cast<char>(c)) != std::string_view::npos;
}

char ascii_lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), ascii_lower);
  return out;
}

// Trimmed, with each run of spaces or tabs made one space. The AWS suite
// applies this inside double quotes too (get-header-value-trim signs
// "a   b   c" as "a b c"), and so does S3, so there is no quoting exception.
std::string trim_all(std::string_view value) {
  std::string out;
  bool pending_space = false;
  for (char c : value) {
    if (c == ' ' || c == '\t') {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) out.push_back(' ');
    pending_space = false;
    out.push_back(c);
  }
  return out;
}

void require(bool ok, const std::string& message) {
  if (!ok) throw UsageError("cannot sign the request: " + message);
}

void check_path(std::string_view path) {
  require(!path.empty() && path.front() == '/', "the path must start with '/'");
  for (std::size_t i = 0; i < path.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(path[i]);
    if (c == '%') {
      // S3 decodes the path and re-encodes it with upper-case hex before it
      // checks the signature, so anything else would sign a different path.
      require(i + 2 < path.size() && is_upper_hex(path[i + 1]) && is_upper_hex(path[i + 2]),
              "the path has a '%' that is not followed by two upper-case hex digits");
      i += 2;
    } else {
      require(c == '/' || is_unreserved(c),
              "the path must be percent-encoded (with sigv4::uri_encode) before signing");
    }
  }
}

// "YYYYMMDDTHHMMSSZ" for `now`, without the C library's time-zone state.
std::string amz_date(std::int64_t now) {
  // 0001-01-01 .. 9999-12-31, the years four digits can hold.
  require(now >= -62135596800 && now <= 253402300799, "the clock is outside years 1 to 9999");
  using namespace std::chrono;
  const sys_seconds t{seconds{now}};
  const sys_days day = floor<days>(t);
  const year_month_day ymd{day};
  const hh_mm_ss<seconds> hms{t - day};
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d%02u%02uT%02d%02d%02dZ", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
                static_cast<int>(hms.seconds().count()));
  return buf;
}

std::string canonical_query(const std::vector<std::pair<std::string, std::string>>& query) {
  std::vector<std::pair<std::string, std::string>> encoded;
  encoded.reserve(query.size());
  for (const auto& [name, value] : query) {
    encoded.emplace_back(uri_encode(name, true), uri_encode(value, true));
  }
  // Byte order of the encoded forms: std::string compares as unsigned char.
  std::sort(encoded.begin(), encoded.end());
  std::string out;
  for (const auto& [name, value] : encoded) {
    if (!out.empty()) out.push_back('&');
    out += name;
    out.push_back('=');
    out += value;
  }
  return out;
}

}  // namespace

std::string uri_encode(std::string_view text, bool encode_slash) {
  std::string out;
  out.reserve(text.size());
  for (char ch : text) {
    const unsigned char c = static_cast<unsigned char>(ch);
    if (is_unreserved(c) || (c == '/' && !encode_slash)) {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(kHexDigits[c >> 4]);
      out.push_back(kHexDigits[c & 0x0f]);
    }
  }
  return out;
}

Signature sign(const Request& request, const Credentials& credentials, const std::string& region,
               const std::string& service, std::int64_t now, bool add_content_sha256_header) {
  require(!request.method.empty(), "no method");
  for (char c : request.method) {
    require(is_token_char(static_cast<unsigned char>(c)), "the method is not an HTTP token");
  }
  require(!request.host.empty(), "no host");
  for (char c : request.host) {
    const unsigned char u = static_cast<unsigned char>(c);
    require(u > 0x20 && u < 0x7f && c != '/', "the host has a character a Host header cannot");
  }
  check_path(request.path);
  require(request.payload_sha256 == kUnsignedPayload ||
              (request.payload_sha256.size() == 64 && hex::is_lower_hex(request.payload_sha256)),
          "the payload hash is neither lower-case SHA-256 hex nor UNSIGNED-PAYLOAD");
  // Each is one component of the credential scope, which '/' separates.
  for (const auto* part : {&region, &service, &credentials.access_key_id}) {
    require(!part->empty() && part->find_first_of("/ \t\r\n") == std::string::npos,
            "the region, service and access key id must be non-empty, without '/' or spaces");
  }
  require(!credentials.secret_access_key.empty(), "no secret access key");
  for (char c : credentials.session_token) {
    require(c != '\r' && c != '\n' && c != '\0', "the session token has a line break");
  }

  const std::string date_time = amz_date(now);
  const std::string date = date_time.substr(0, 8);

  // What sign() adds itself, then the caller's headers.
  std::vector<Header> added;
  added.push_back({"x-amz-date", date_time});
  if (add_content_sha256_header) added.push_back({"x-amz-content-sha256", request.payload_sha256});
  if (!credentials.session_token.empty()) {
    added.push_back({"x-amz-security-token", credentials.session_token});
  }

  // Sorted by lower-case name; repeated names keep their order, comma-joined.
  std::map<std::string, std::string> canonical;
  canonical["host"] = request.host;
  for (const Header& h : added) canonical[h.name] = h.value;
  std::set<std::string> from_caller;
  for (const Header& h : request.headers) {
    require(!h.name.empty(), "a header has no name");
    for (char c : h.name) {
      require(is_token_char(static_cast<unsigned char>(c)),
              "header name '" + h.name + "' has a character a header name cannot");
    }
    for (char c : h.value) {
      require(c != '\r' && c != '\n' && c != '\0',
              "the value of header " + h.name + " has a line break");
    }
    const std::string name = lower(h.name);
    require(name != "authorization", "Authorization is what signing produces");
    require(!canonical.contains(name) || from_caller.contains(name),
            name + " is set by the signer; do not pass it among the headers");
    std::string value = trim_all(h.value);
    auto [it, inserted] = canonical.try_emplace(name, value);
    if (!inserted) {
      it->second.push_back(',');
      it->second += value;
    }
    from_caller.insert(name);
  }

  std::string canonical_headers;
  std::string signed_headers;
  for (const auto& [name, value] : canonical) {
    canonical_headers += name + ":" + value + "\n";
    if (!signed_headers.empty()) signed_headers.push_back(';');
    signed_headers += name;
  }

  Signature out;
  out.canonical_request = request.method + "\n" + request.path + "\n" +
                          canonical_query(request.query) + "\n" + canonical_headers + "\n" +
                          signed_headers + "\n" + request.payload_sha256;

  const std::string scope = date + "/" + region + "/" + service + "/aws4_request";
  out.string_to_sign = std::string(kAlgorithm) + "\n" + date_time + "\n" + scope + "\n" +
                       crypto::sha256_hex(out.canonical_request);

  // The signing key: HMAC chain from "AWS4" + secret over the scope's parts.
  std::string seed = "AWS4" + credentials.secret_access_key;
  Wiped wipe_seed{seed};
  Mac key = hmac(bytes_of(seed), date);
  WipedMac wipe_key{key};
  for (std::string_view part :
       {std::string_view(region), std::string_view(service), std::string_view("aws4_request")}) {
    Mac next = hmac(key, part);
    key = next;
    OPENSSL_cleanse(next.data(), next.size());
  }
  const Mac mac = hmac(key, out.string_to_sign);
  const std::string signature = hex::encode(mac);

  out.headers.push_back({"Authorization", std::string(kAlgorithm) +
                                              " Credential=" + credentials.access_key_id + "/" +
                                              scope + ", SignedHeaders=" + signed_headers +
                                              ", Signature=" + signature});
  for (Header& h : added) out.headers.push_back(std::move(h));
  return out;
}

}  // namespace mlpack::net::sigv4
