#include <catch2/catch.hpp>

#include <map>

#include "mlpack/remote/aws_config.hpp"
#include "mlpack/util/error.hpp"
#include "temp_dir.hpp"

using namespace mlpack;

namespace {

struct FakeEnv {
  std::map<std::string, std::string> vars;
  remote::EnvLookup lookup() const {
    return [this](const std::string& name) -> std::optional<std::string> {
      auto it = vars.find(name);
      if (it == vars.end()) return std::nullopt;
      return it->second;
    };
  }
};

remote::Remote s3_remote(const std::string& url) {
  remote::Remote r;
  r.name = "cloud";
  r.url = remote::parse_remote_url(url);
  return r;
}

}  // namespace

TEST_CASE("AWS credentials come from the environment, then the profile files") {
  test::TestDir dir;
  dir.write(".aws/credentials",
            "[default]\naws_access_key_id = AKIDDEFAULT\naws_secret_access_key = secret-default\n"
            "\n# a comment\n[ci]\naws_access_key_id=AKIDCI\naws_secret_access_key=secret-ci\n"
            "aws_session_token = token-ci\n");
  dir.write(".aws/config",
            "[default]\nregion = eu-west-1\n[profile ci]\nregion = ap-south-1\n"
            "s3 =\n  addressing_style = path\n[profile cfgonly]\n"
            "aws_access_key_id = AKIDCFG\naws_secret_access_key = secret-cfg\n"
            "endpoint_url = http://127.0.0.1:9000/\n");
  FakeEnv env;
  env.vars["HOME"] = dir.path().string();
  const auto bucket = s3_remote("s3://models/team");

  // The profile files alone: [default].
  auto s = remote::resolve_aws_settings(bucket, env.lookup());
  REQUIRE(s.credentials);
  CHECK(s.credentials->access_key_id == "AKIDDEFAULT");
  CHECK(s.credentials->secret_access_key == "secret-default");
  CHECK(s.region == "eu-west-1");
  CHECK(s.endpoint == "https://s3.eu-west-1.amazonaws.com");
  CHECK_FALSE(s.path_style);

  // AWS_PROFILE picks [ci] in credentials and [profile ci] in config.
  env.vars["AWS_PROFILE"] = "ci";
  s = remote::resolve_aws_settings(bucket, env.lookup());
  CHECK(s.credentials->access_key_id == "AKIDCI");
  CHECK(s.credentials->session_token == "token-ci");
  CHECK(s.region == "ap-south-1");

  // Credentials and endpoint found only in the config file.
  env.vars["AWS_PROFILE"] = "cfgonly";
  s = remote::resolve_aws_settings(bucket, env.lookup());
  CHECK(s.credentials->access_key_id == "AKIDCFG");
  CHECK(s.endpoint == "http://127.0.0.1:9000");
  CHECK(s.path_style);
  CHECK(s.region == "us-east-1");

  // The environment wins over every file.
  env.vars["AWS_ACCESS_KEY_ID"] = "AKIDENV";
  env.vars["AWS_SECRET_ACCESS_KEY"] = "secret-env";
  env.vars["AWS_SESSION_TOKEN"] = "token-env";
  env.vars["AWS_DEFAULT_REGION"] = "us-west-1";
  s = remote::resolve_aws_settings(bucket, env.lookup());
  CHECK(s.credentials->access_key_id == "AKIDENV");
  CHECK(s.credentials->session_token == "token-env");
  CHECK(s.credentials_source == "environment");
  CHECK(s.region == "us-west-1");
  env.vars["AWS_REGION"] = "us-west-2";  // before AWS_DEFAULT_REGION
  CHECK(remote::resolve_aws_settings(bucket, env.lookup()).region == "us-west-2");

  // Endpoints: AWS_ENDPOINT_URL_S3 before AWS_ENDPOINT_URL before the profile.
  env.vars["AWS_ENDPOINT_URL"] = "http://127.0.0.1:1111";
  CHECK(remote::resolve_aws_settings(bucket, env.lookup()).endpoint == "http://127.0.0.1:1111");
  env.vars["AWS_ENDPOINT_URL_S3"] = "http://127.0.0.1:2222/";
  CHECK(remote::resolve_aws_settings(bucket, env.lookup()).endpoint == "http://127.0.0.1:2222");

  // The remote's own settings come first.
  auto own = bucket;
  own.endpoint = "https://minio.example.test";
  own.region = "auto";
  s = remote::resolve_aws_settings(own, env.lookup());
  CHECK(s.endpoint == "https://minio.example.test");
  CHECK(s.region == "auto");
  CHECK(s.path_style);

  // Separate files named by the environment.
  env.vars.erase("AWS_ACCESS_KEY_ID");
  env.vars.erase("AWS_SECRET_ACCESS_KEY");
  env.vars.erase("AWS_PROFILE");
  dir.write("elsewhere/creds",
            "[default]\naws_access_key_id = AKIDELSE\naws_secret_access_key = s\n");
  env.vars["AWS_SHARED_CREDENTIALS_FILE"] = (dir.path() / "elsewhere/creds").string();
  CHECK(remote::resolve_aws_settings(bucket, env.lookup()).credentials->access_key_id ==
        "AKIDELSE");
}

TEST_CASE("no credentials anywhere means anonymous; broken settings are usage errors") {
  test::TestDir dir;
  FakeEnv env;
  env.vars["HOME"] = dir.path().string();
  const auto bucket = s3_remote("s3://public-data");
  auto s = remote::resolve_aws_settings(bucket, env.lookup());
  CHECK_FALSE(s.credentials);
  CHECK(s.region == "us-east-1");
  CHECK(s.endpoint == "https://s3.us-east-1.amazonaws.com");

  // A bucket with dots cannot use virtual-hosted addressing over TLS.
  CHECK(remote::resolve_aws_settings(s3_remote("s3://data.example.com"), env.lookup()).path_style);

  env.vars["AWS_ACCESS_KEY_ID"] = "AKIDHALF";
  CHECK_THROWS_AS(remote::resolve_aws_settings(bucket, env.lookup()), UsageError);
  env.vars.erase("AWS_ACCESS_KEY_ID");

  env.vars["AWS_PROFILE"] = "nosuch";
  CHECK_THROWS_AS(remote::resolve_aws_settings(bucket, env.lookup()), UsageError);
  env.vars.erase("AWS_PROFILE");

  dir.write(".aws/credentials", "aws_secret_access_key = s3cr3t-outside-a-section\n");
  try {
    remote::resolve_aws_settings(bucket, env.lookup());
    FAIL("no error");
  } catch (const UsageError& e) {
    CHECK(std::string(e.what()).find("s3cr3t") == std::string::npos);
  }
  dir.write(".aws/credentials", "[default]\naws_access_key_id = AKIDONLY\n");
  CHECK_THROWS_AS(remote::resolve_aws_settings(bucket, env.lookup()), UsageError);

  dir.write(".aws/credentials", "");
  env.vars["AWS_ENDPOINT_URL"] = "ftp://127.0.0.1";
  CHECK_THROWS_AS(remote::resolve_aws_settings(bucket, env.lookup()), UsageError);
  env.vars.erase("AWS_ENDPOINT_URL");
  env.vars["AWS_REGION"] = "us east";
  CHECK_THROWS_AS(remote::resolve_aws_settings(bucket, env.lookup()), UsageError);
}
