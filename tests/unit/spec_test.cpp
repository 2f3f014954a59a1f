#include <catch2/catch.hpp>

#include "mlpack/manifest/spec.hpp"
#include "mlpack/util/error.hpp"
#include "temp_dir.hpp"

using namespace mlpack;

TEST_CASE("spec from file, with flags and --set overriding it") {
  test::TestDir dir;
  dir.write("model/weights.bin", "w");
  dir.write("model/sub/config.json", "{}");
  dir.write("pre.yaml", "steps: []\n");
  dir.write("metrics.json", "{\"accuracy\": 0.9, \"loss\": 0.4}");
  dir.write("mlpack.yaml",
            "name: iris\nversion: v1\nmodel: {path: model, framework: torch}\n"
            "preprocessing: {path: pre.yaml}\nmetrics_file: metrics.json\n"
            "metrics: {loss: 0.3}\n");
  manifest::PackRequest req;
  req.dir = dir.path();
  req.tag = "iris:v2";
  req.sets = {"metrics.accuracy=0.95", "metadata.dataset.version=2024-12"};
  manifest::Spec spec = manifest::load_spec(req);
  CHECK(spec.name == "iris");
  CHECK(spec.version == "v2");
  CHECK(spec.has_preprocessing);
  CHECK(spec.metrics["accuracy"].Scalar() == "0.95");
  CHECK(spec.metrics["loss"].Scalar() == "0.3");  // inline beats the file
  CHECK(spec.metadata["dataset"]["version"].Scalar() == "2024-12");
  CHECK(spec.model["path"].Scalar() == "model");
  std::vector<std::pair<std::string, std::string>> files;
  for (const auto& f : spec.files) files.emplace_back(f.path, f.role);
  CHECK(files ==
        std::vector<std::pair<std::string, std::string>>{{"model/sub/config.json", "model"},
                                                         {"model/weights.bin", "model"},
                                                         {"pre.yaml", "preprocessing"},
                                                         {"metrics.json", "metadata"}});
}

TEST_CASE("malformed specs name the file and line") {
  test::TestDir dir;
  dir.write("m.bin", "x");
  dir.write("mlpack.yaml", "name: iris\nversion: v1\nmodel: [unclosed\n");
  manifest::PackRequest req;
  req.dir = dir.path();
  try {
    manifest::load_spec(req);
    FAIL("no exception");
  } catch (const UsageError& e) {
    CHECK(std::string(e.what()).find("mlpack.yaml:") != std::string::npos);
  }
  dir.write("mlpack.yaml", "name: iris\nversion: v1\nmodel: {path: m.bin}\nmodle: x\n");
  try {
    manifest::load_spec(req);
    FAIL("no exception");
  } catch (const UsageError& e) {
    CHECK(std::string(e.what()).find("mlpack.yaml:4") != std::string::npos);
    CHECK(std::string(e.what()).find("modle") != std::string::npos);
  }
}

TEST_CASE("missing files and names are reported with the right error kind") {
  test::TestDir dir;
  manifest::PackRequest req;
  req.dir = dir.path();
  req.tag = "iris:v1";
  req.model = "nope.bin";
  CHECK_THROWS_AS(manifest::load_spec(req), NotFoundError);
  dir.write("m.bin", "x");
  req.model = "m.bin";
  req.tag = "Iris:v1";
  CHECK_THROWS_AS(manifest::load_spec(req), UsageError);
  req.tag = "iris";
  CHECK_THROWS_AS(manifest::load_spec(req), UsageError);  // no version
  req.tag = "iris:v1";
  req.sets = {"novalue"};
  CHECK_THROWS_AS(manifest::load_spec(req), UsageError);
}

TEST_CASE("roles are guessed from file names") {
  CHECK(manifest::guess_role("requirements.txt") == "requirements");
  CHECK(manifest::guess_role("serve.py") == "code");
  CHECK(manifest::guess_role("README.md") == "docs");
  CHECK(manifest::guess_role("train.csv") == "data");
  CHECK(manifest::guess_role("blob.xyz") == "other");
}

TEST_CASE("SOURCE_DATE_EPOCH pins the creation time") {
  ::setenv("SOURCE_DATE_EPOCH", "1700000000", 1);
  CHECK(manifest::creation_time() == "2023-11-14T22:13:20Z");
  ::setenv("SOURCE_DATE_EPOCH", "soon", 1);
  CHECK_THROWS_AS(manifest::creation_time(), UsageError);
  ::unsetenv("SOURCE_DATE_EPOCH");
}
