#include <catch2/catch.hpp>

#include "mlpack/manifest/names.hpp"
#include "mlpack/util/error.hpp"

using namespace mlpack;
using manifest::Ref;

TEST_CASE("names follow the rule of DESIGN.md section 1") {
  CHECK(manifest::is_valid_name("iris"));
  CHECK(manifest::is_valid_name("team/iris-classifier.v2_x"));
  CHECK(manifest::is_valid_name(std::string(128, 'a')));
  CHECK_FALSE(manifest::is_valid_name(std::string(129, 'a')));
  CHECK_FALSE(manifest::is_valid_name("Iris"));
  CHECK_FALSE(manifest::is_valid_name("-iris"));
  CHECK_FALSE(manifest::is_valid_name("team//iris"));
  CHECK_FALSE(manifest::is_valid_name("/iris"));
  CHECK_FALSE(manifest::is_valid_name("iris/"));
  CHECK_FALSE(manifest::is_valid_name("team/../iris"));
  CHECK_FALSE(manifest::is_valid_name(""));
  CHECK(manifest::is_valid_version("V3.1-rc_1"));
  CHECK_FALSE(manifest::is_valid_version(".v3"));
  CHECK_FALSE(manifest::is_valid_version("v3/x"));
  CHECK_FALSE(manifest::is_valid_version("v 3"));
}

TEST_CASE("bad names are refused with the rule in the message") {
  try {
    manifest::check_name("Iris");
    FAIL("no exception");
  } catch (const UsageError& e) {
    CHECK(std::string(e.what()).find("[a-z0-9]") != std::string::npos);
    CHECK(e.code() == ExitCode::kUsage);
  }
}

TEST_CASE("every REF form parses") {
  Ref v = manifest::parse_ref("team/iris:v3");
  CHECK(v.kind == Ref::Kind::kVersion);
  CHECK(v.name == "team/iris");
  CHECK(v.version == "v3");

  Ref s = manifest::parse_ref("iris@production");
  CHECK(s.kind == Ref::Kind::kStage);
  CHECK(s.stage == "production");

  Ref d = manifest::parse_ref("sha256:0123456789ab");
  CHECK(d.kind == Ref::Kind::kDigest);
  CHECK(d.digest == "0123456789ab");
  CHECK(d.name.empty());

  Ref nd = manifest::parse_ref("iris@sha256:0123456789abcdef");
  CHECK(nd.kind == Ref::Kind::kDigest);
  CHECK(nd.name == "iris");
}

TEST_CASE("malformed refs are usage errors") {
  for (const char* bad : {"iris:", ":v1", "sha256:0123", "sha256:XYZ456789abcdef", "Iris:v1",
                          "iris@", "iris@sha256:12", "no such thing"}) {
    INFO(bad);
    CHECK_THROWS_AS(manifest::parse_ref(bad), UsageError);
  }
}

TEST_CASE("NAME:VERSION parsing") {
  auto nv = manifest::parse_name_version("iris:v1");
  CHECK(nv.str() == "iris:v1");
  CHECK_THROWS_AS(manifest::parse_name_version("iris"), UsageError);
  CHECK(manifest::parse_name_version("iris", true).version.empty());
  CHECK_THROWS_AS(manifest::parse_name_version("iris:v1:x"), UsageError);
}
