#include <catch2/catch.hpp>

#include <cstdlib>
#include <string>
#include <vector>

#include "mlpack/net/http.hpp"
#include "mlpack/net/progress.hpp"
#include "mlpack/remote/webdav.hpp"
#include "mlpack/util/error.hpp"

using namespace mlpack;

namespace {
// Sets an environment variable for one scope.
struct ScopedEnv {
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    ::setenv(name, value, 1);
  }
  ~ScopedEnv() {
    if (old_.empty()) {
      ::unsetenv(name_);
    } else {
      ::setenv(name_, old_.c_str(), 1);
    }
  }
  const char* name_;
  std::string old_;
};
}  // namespace

TEST_CASE("URLs lose their credentials in messages") {
  CHECK(net::redact_url("https://alice:s3cret@host:8443/dav/x") == "https://host:8443/dav/x");
  CHECK(net::redact_url("http://alice@host/x") == "http://host/x");
  CHECK(net::redact_url("http://host/a@b") == "http://host/a@b");  // '@' in the path stays
  CHECK(net::redact_url("http://a:b@c@host/x") == "http://host/x");
  CHECK(net::redact_url("no scheme") == "no scheme");
}

TEST_CASE("paths are percent-encoded and decoded") {
  CHECK(net::encode_path("tags/iris/v1.0_rc-1~x") == "tags/iris/v1.0_rc-1~x");
  CHECK(net::encode_path("a b/c%d/é") == "a%20b/c%25d/%C3%A9");
  CHECK(net::decode_percent("a%20b/c%25d/%C3%A9") == "a b/c%d/é");
  CHECK(net::decode_percent("100%") == "100%");  // a stray '%' is kept
  CHECK(net::decode_percent("%zz%4") == "%zz%4");
  for (const std::string& s : std::vector<std::string>{"", "x", "tags/a b/c", "%%%", "\x01\xff"}) {
    CHECK(net::decode_percent(net::encode_path(s)) == s);
  }
}

TEST_CASE("transfer settings come from the environment, checked") {
  {
    ScopedEnv retries("MLPACK_RETRIES", "2");
    ScopedEnv timeout("MLPACK_TIMEOUT", "7");
    ScopedEnv ca("MLPACK_CA_FILE", "/etc/ssl/private-ca.pem");
    auto o = net::TransferOptions::from_environment();
    CHECK(o.retries == 2);
    CHECK(o.low_speed_time.count() == 7);
    CHECK(o.ca_file == "/etc/ssl/private-ca.pem");
  }
  for (const char* bad : {"-1", "x", "3x", "101", ""}) {
    INFO(bad);
    ScopedEnv retries("MLPACK_RETRIES", bad);
    if (*bad) {
      CHECK_THROWS_AS(net::TransferOptions::from_environment(), UsageError);
    } else {
      CHECK(net::TransferOptions::from_environment().retries == 5);  // empty: the default
    }
  }
  ScopedEnv timeout("MLPACK_TIMEOUT", "0");
  CHECK_THROWS_AS(net::TransferOptions::from_environment(), UsageError);
}

TEST_CASE("progress styles are auto, plain or none") {
  CHECK(net::parse_progress_style("auto") == net::ProgressStyle::kAuto);
  CHECK(net::parse_progress_style("plain") == net::ProgressStyle::kPlain);
  CHECK(net::parse_progress_style("none") == net::ProgressStyle::kNone);
  CHECK_THROWS_AS(net::parse_progress_style("bar"), UsageError);
}

TEST_CASE("a missing CA file is refused before any request") {
  net::TransferOptions o;
  o.ca_file = "/nonexistent/ca.pem";
  CHECK_THROWS_AS(net::HttpClient(o), NotFoundError);
}

TEST_CASE("a refused connection is a runtime error after the retries, naming no password") {
  net::TransferOptions o;
  o.retries = 1;
  o.backoff_base = std::chrono::milliseconds(1);
  net::HttpClient client(o);
  net::Request req;
  req.method = "HEAD";
  // Port 1 on loopback: nothing listens there.
  req.url = "http://alice:s3cret@127.0.0.1:1/x";
  try {
    client.send(req);
    FAIL("no error");
  } catch (const RuntimeError& e) {
    const std::string m = e.what();
    CHECK(m.find("gave up after 2 attempts") != std::string::npos);
    CHECK(m.find("s3cret") == std::string::npos);
    CHECK(m.find("http://127.0.0.1:1/x") != std::string::npos);
  }
}

TEST_CASE("PROPFIND answers from several servers are read") {
  // nginx with dav_ext: folders end in '/', D: prefix.
  const std::string nginx = R"(<?xml version="1.0" encoding="utf-8" ?>
<D:multistatus xmlns:D="DAV:">
<D:response><D:href>/m/tags/</D:href><D:propstat><D:prop><D:resourcetype><D:collection/></D:resourcetype></D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response>
<D:response><D:href>/m/tags/iris%20x/</D:href><D:propstat><D:prop><D:resourcetype><D:collection/></D:resourcetype></D:prop></D:propstat></D:response>
<D:response><D:href>/m/tags/a&amp;b</D:href><D:propstat><D:prop><D:resourcetype/></D:prop></D:propstat></D:response>
</D:multistatus>)";
  auto e = remote::webdav::parse_multistatus(nginx);
  REQUIRE(e.size() == 3);
  CHECK(e[0].href == "/m/tags/");
  CHECK(e[0].collection);
  CHECK(e[1].href == "/m/tags/iris%20x/");
  CHECK(e[1].collection);
  CHECK(e[2].href == "/m/tags/a&b");
  CHECK_FALSE(e[2].collection);

  // Apache mod_dav: lower-case prefix, full URLs, lp1: properties.
  const std::string apache = R"(<?xml version="1.0" encoding="utf-8"?>
<d:multistatus xmlns:d="DAV:" xmlns:lp1="DAV:">
<d:response><d:href>http://host/dav/</d:href><d:propstat><d:prop><lp1:resourcetype><d:collection/></lp1:resourcetype></d:prop></d:propstat></d:response>
<d:response><d:href>http://host/dav/v1</d:href><d:propstat><d:prop><lp1:resourcetype/></d:prop></d:propstat></d:response>
</d:multistatus>)";
  e = remote::webdav::parse_multistatus(apache);
  REQUIRE(e.size() == 2);
  CHECK(e[0].collection);
  CHECK(e[1].href == "http://host/dav/v1");
  CHECK_FALSE(e[1].collection);

  // No prefix at all, and garbage: no crash, nothing invented.
  e = remote::webdav::parse_multistatus(
      R"(<multistatus xmlns="DAV:"><response><href>/x</href></response></multistatus>)");
  REQUIRE(e.size() == 1);
  CHECK(e[0].href == "/x");
  for (const std::string& junk :
       std::vector<std::string>{"", "<", "<response>", "<<<>>>", "</response>",
                                "<response><href>/a", std::string(1000, '<')}) {
    CHECK(remote::webdav::parse_multistatus(junk).size() <= 1);
  }
}
