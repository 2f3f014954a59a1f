// AWS Signature Version 4 request signing, the authentication every S3 (and
// S3-compatible) backend needs. A pure function of the request, the keys and
// the clock, so it can be checked against AWS's published vectors offline.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "mlpack/net/http.hpp"

namespace mlpack::net::sigv4 {

struct Credentials {
  std::string access_key_id;
  std::string secret_access_key;
  // Set for temporary credentials (STS, instance roles). S3 wants the token
  // inside the signature, so it is signed, not appended afterwards.
  std::string session_token;
};

struct Request {
  std::string method;  // "GET", "PUT", ...
  // The Host header value, host or host:port. It is not among the headers
  // sign() returns, because libcurl writes Host from the URL: the caller
  // must send a URL whose authority is exactly this string (curl adds
  // ":port" only for a non-default port, so leave the default port out here).
  std::string host;
  // The URI path exactly as it goes on the wire, starting with '/' and
  // already percent-encoded by uri_encode(path, false). It is signed as
  // given: S3 object keys are opaque bytes, so "a//b" and "x/../y" are
  // distinct keys, and a signer that removed dot segments or merged slashes
  // (as the generic SigV4 rules ask for other services) would sign a
  // different path from the one sent and S3 would answer
  // SignatureDoesNotMatch. S3 re-encodes the path it receives before it
  // checks, so any byte uri_encode would have encoded (or lower-case %xx)
  // is refused rather than signed.
  std::string path;
  // Decoded names and values; sign() encodes them and sorts by encoded name,
  // then encoded value. The URL sent must carry the same parameters.
  std::vector<std::pair<std::string, std::string>> query;
  // Further headers to sign, sent as given (Range, If-None-Match,
  // Content-Type, x-amz-*). Names in any case; a name may repeat, and the
  // values are then signed comma-joined in this order. Must not include
  // Host, Authorization or the headers sign() adds itself.
  std::vector<Header> headers;
  // Lower-case hex SHA-256 of the body, or "UNSIGNED-PAYLOAD".
  std::string payload_sha256;
};

struct Signature {
  // To add to the request: Authorization, x-amz-date, x-amz-content-sha256
  // (when asked for) and x-amz-security-token (with a session token).
  std::vector<Header> headers;
  // The intermediate strings, for tests and -v output. They hold neither the
  // secret nor the signing key; the session token does appear (it is signed,
  // and sent in clear anyway), so log them no more freely than the headers.
  std::string canonical_request;
  std::string string_to_sign;
};

// Signs `request` at `now` (seconds since the epoch, UTC) for `region`
// ("us-east-1") and `service` ("s3"). S3 requires x-amz-content-sha256 on
// every request, so it is added and signed by default; turn it off only for
// services (and AWS's generic test suite) that do not use it. Throws
// UsageError on input that cannot be signed (an empty field, a header value
// with a line break, a path with bytes that must be encoded, a Host or
// Authorization header among `headers`); messages never contain the secret.
Signature sign(const Request& request, const Credentials& credentials, const std::string& region,
               const std::string& service, std::int64_t now, bool add_content_sha256_header = true);

// RFC 3986 percent-encoding as SigV4 wants it: A-Z a-z 0-9 - . _ ~ kept,
// every other byte as %XX with upper-case hex (UTF-8 byte by byte), '/' kept
// unless `encode_slash` (object-key paths keep it, query names and values
// do not).
std::string uri_encode(std::string_view text, bool encode_slash);

}  // namespace mlpack::net::sigv4
