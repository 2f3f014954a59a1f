#include <catch2/catch.hpp>

#include "mlpack/manifest/manifest.hpp"
#include "mlpack/util/error.hpp"

using namespace mlpack;

namespace {

manifest::Manifest sample() {
  manifest::Manifest m;
  m.name = "iris";
  m.version = "1.0";  // looks like a number: must stay a string
  m.created = "2025-01-20T10:00:00Z";
  m.tool_version = "0.1.0";
  m.metrics = YAML::Load("{accuracy: 0.97, eval: {f1: 0.9}}");
  m.metadata = YAML::Load("{dataset: {name: iris, version: \"2024-12\"}}");
  m.files.push_back({"z.bin", "data", 3, std::string(64, 'b'), "binary", std::nullopt});
  m.files.push_back({"model/a.pkl", "model", 10, std::string(64, 'a'), "pickle", std::nullopt});
  return m;
}

}  // namespace

TEST_CASE("manifest round-trips and sorts files by path") {
  const std::string bytes = manifest::write_manifest(sample());
  manifest::Manifest m = manifest::read_manifest(bytes, "test");
  REQUIRE(m.files.size() == 2);
  CHECK(m.files[0].path == "model/a.pkl");
  CHECK(m.files[1].path == "z.bin");
  CHECK(m.version == "1.0");
  CHECK(m.total_size() == 13);
  CHECK(manifest::write_manifest(m) == bytes);
  CHECK(bytes.find("version: \"1.0\"") != std::string::npos);
  CHECK(bytes.find("version: \"2024-12\"") != std::string::npos);
}

TEST_CASE("manifest writing is deterministic") {
  CHECK(manifest::write_manifest(sample()) == manifest::write_manifest(sample()));
}

TEST_CASE("same_content ignores creation time and tool version only") {
  manifest::Manifest a = sample();
  manifest::Manifest b = sample();
  b.created = "2030-01-01T00:00:00Z";
  b.tool_version = "9.9.9";
  CHECK(manifest::same_content(a, b));
  b.files[0].sha256 = std::string(64, 'c');
  CHECK_FALSE(manifest::same_content(a, b));
}

TEST_CASE("hostile manifests are integrity errors") {
  std::string good = manifest::write_manifest(sample());
  auto with = [&](const std::string& from, const std::string& to) {
    std::string s = good;
    s.replace(s.find(from), from.size(), to);
    return s;
  };
  CHECK_THROWS_AS(manifest::read_manifest(with("path: model/a.pkl", "path: ../a.pkl"), "t"),
                  IntegrityError);
  CHECK_THROWS_AS(manifest::read_manifest(with("path: model/a.pkl", "path: /etc/passwd"), "t"),
                  IntegrityError);
  CHECK_THROWS_AS(manifest::read_manifest(with("role: model", "role: evil"), "t"), IntegrityError);
  CHECK_THROWS_AS(manifest::read_manifest(with("size: 10", "size: -1"), "t"), IntegrityError);
  CHECK_THROWS_AS(manifest::read_manifest(with("kind: Manifest", "kind: Other"), "t"),
                  IntegrityError);
  CHECK_THROWS_AS(manifest::read_manifest("{not yaml", "t"), IntegrityError);
  // Unsorted files could hide a duplicate path.
  CHECK_THROWS_AS(manifest::read_manifest(with("path: z.bin", "path: model/a.pkl"), "t"),
                  IntegrityError);
}

TEST_CASE("safe relative paths") {
  CHECK(manifest::is_safe_relative_path("a/b.c"));
  for (const char* bad : {"", "/a", "a/../b", "..", "./a", "a//b", "a/", "a\\b"}) {
    INFO(bad);
    CHECK_FALSE(manifest::is_safe_relative_path(bad));
  }
}

TEST_CASE("yaml_to_json keeps types: quoted stays string, plain numbers are numbers") {
  YAML::Node n = YAML::Load("{a: 0.97, b: \"0.97\", c: true, d: ~, e: 2025-01-20, f: [1, x]}");
  CHECK(manifest::yaml_to_json(n).dump(0) ==
        "{\"a\":0.97,\"b\":\"0.97\",\"c\":true,\"d\":null,\"e\":\"2025-01-20\",\"f\":[1,\"x\"]}\n");
}
