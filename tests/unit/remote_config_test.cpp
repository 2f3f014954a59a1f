#include <catch2/catch.hpp>

#include "mlpack/remote/config.hpp"
#include "mlpack/util/error.hpp"
#include "mlpack/util/fs.hpp"
#include "temp_dir.hpp"

using namespace mlpack;

TEST_CASE("remote URLs are parsed into a canonical form") {
  auto s3 = remote::parse_remote_url("s3://ml-artifacts/team/iris/");
  CHECK(s3.scheme == "s3");
  CHECK(s3.host == "ml-artifacts");
  CHECK(s3.path == "team/iris");
  CHECK(s3.text == "s3://ml-artifacts/team/iris");
  auto gs = remote::parse_remote_url("gs://my_bucket");
  CHECK(gs.path.empty());
  auto http = remote::parse_remote_url("https://models.example.test:8443/dav/");
  CHECK(http.host == "models.example.test:8443");
  CHECK(http.path == "dav");
  auto file = remote::parse_remote_url("file:///srv/models/../models/");
  CHECK(file.path == "/srv/models");
  auto plain = remote::parse_remote_url("/srv/models");
  CHECK(plain.text == "file:///srv/models");
  CHECK(remote::parse_remote_url("relative/dir").path.front() == '/');
  // File URLs are percent-encoded; plain paths are taken as they are.
  auto spaced = remote::parse_remote_url("file:///srv/my%20models/a%2541");
  CHECK(spaced.path == "/srv/my models/a%41");
  CHECK(spaced.text == "file:///srv/my%20models/a%2541");
  CHECK(remote::parse_remote_url(spaced.text).path == spaced.path);
  CHECK(remote::parse_remote_url("/srv/my models").text == "file:///srv/my%20models");
}

TEST_CASE("bad remote URLs are usage errors, and credentials are refused") {
  for (const char* bad : {"", "ftp://host/x", "s3://", "s3://UPPER/x", "s3://ab", "s3://a_b/x",
                          "https://user:secret@host/x", "https:///x", "s3://bucket/a/../b",
                          "https://host/a?b", "file://relative/path"}) {
    INFO(bad);
    CHECK_THROWS_AS(remote::parse_remote_url(bad), UsageError);
  }
  try {
    remote::parse_remote_url("https://user:secret@host/x");
  } catch (const UsageError& e) {
    CHECK(std::string(e.what()).find("secret") == std::string::npos);
  }
}

TEST_CASE("HTTP URLs may name a user; a password only for one command") {
  auto user = remote::parse_remote_url("https://alice@models.example.test/dav");
  CHECK(user.user == "alice");
  CHECK(user.password.empty());
  CHECK(user.host == "models.example.test");
  CHECK(user.text == "https://alice@models.example.test/dav");
  auto once = remote::parse_remote_url("https://alice:s3cret@models.example.test/dav", true);
  CHECK(once.password == "s3cret");
  CHECK(once.text.find("s3cret") == std::string::npos);
  CHECK_THROWS_AS(remote::parse_remote_url("s3://key@bucket/x"), UsageError);
  CHECK_THROWS_AS(remote::parse_remote_url("https://@host/x"), UsageError);
  CHECK_THROWS_AS(remote::parse_remote_url("https://alice@/x"), UsageError);
}

TEST_CASE("push and pull take a remote by name, or a URL for one command") {
  test::TestDir dir;
  auto repo = store::Repository::init(dir.path()).first;
  remote::RemoteConfig config(repo);
  config.add({"origin", remote::parse_remote_url("/srv/o"), "", "", false, ""});
  CHECK(config.select(std::string("origin")).url.text == "file:///srv/o");
  auto adhoc = config.select(std::string("https://bob:pw@host:8443/x"));
  CHECK(adhoc.url.scheme == "https");
  CHECK(adhoc.url.password == "pw");
  CHECK(adhoc.name == "https://bob@host:8443/x");
  CHECK(config.select(std::string("/mnt/backup")).url.text == "file:///mnt/backup");
  CHECK_THROWS_AS(config.select(std::string("nosuch")), NotFoundError);
}

TEST_CASE("remote config round-trips and selects origin, then the only remote") {
  test::TestDir dir;
  auto repo = store::Repository::init(dir.path()).first;
  {
    remote::RemoteConfig config(repo);
    CHECK_THROWS_AS(config.select(std::nullopt), NotFoundError);
    config.add({"backup", remote::parse_remote_url("/srv/backup"), "", "", false, ""});
    CHECK(config.select(std::nullopt).name == "backup");
    config.add({"cloud", remote::parse_remote_url("s3://bucket-a/p"), "http://127.0.0.1:9000",
                "eu-west-1", true, ""});
    CHECK_THROWS_AS(config.select(std::nullopt), UsageError);
    CHECK_THROWS_AS(config.add({"cloud", remote::parse_remote_url("/x"), "", "", false, ""}),
                    ConflictError);
    CHECK_THROWS_AS(config.add({"-bad", remote::parse_remote_url("/x"), "", "", false, ""}),
                    UsageError);
    CHECK_THROWS_AS(config.add({"f", remote::parse_remote_url("/x"), "", "eu-west-1", false, ""}),
                    UsageError);  // region on a directory remote
    config.save();
  }
  remote::RemoteConfig reread(repo);
  REQUIRE(reread.remotes().size() == 2);
  CHECK(reread.find("cloud")->region == "eu-west-1");
  CHECK(reread.find("cloud")->path_style);
  CHECK(reread.select(std::string("cloud")).url.text == "s3://bucket-a/p");
  CHECK_THROWS_AS(reread.select(std::string("nope")), NotFoundError);
  // Other settings in config.yaml survive.
  CHECK(fs::read_file(repo.root() / "config.yaml").find("layout: 1") != std::string::npos);
  reread.set("cloud", "url", "s3://bucket-b");
  CHECK_THROWS_AS(reread.set("cloud", "colour", "red"), UsageError);
  CHECK_THROWS_AS(reread.set("backup", "path-style", "true"), UsageError);
  reread.remove("backup");
  CHECK_THROWS_AS(reread.remove("backup"), NotFoundError);
  reread.add({"origin", remote::parse_remote_url("/srv/o"), "", "", false, ""});
  CHECK(reread.select(std::nullopt).name == "origin");
}
