#include <catch2/catch.hpp>

#include <fstream>

#include "mlpack/crypto/sha256.hpp"
#include "mlpack/store/stages.hpp"
#include "mlpack/util/error.hpp"
#include "temp_dir.hpp"

using namespace mlpack;

namespace {

std::string digest(char c) {
  return std::string(64, c);
}

}  // namespace

TEST_CASE("promote and rollback form a stack replayed from the log") {
  test::TestDir dir;
  auto repo = store::Repository::init(dir.path()).first;
  CHECK(store::promote(repo, "iris", "prod", digest('a'), "v1", "first"));
  CHECK(store::promote(repo, "iris", "prod", digest('b'), "v2", ""));
  CHECK_FALSE(store::promote(repo, "iris", "prod", digest('b'), "v2", ""));  // no-op
  CHECK(store::promote(repo, "iris", "prod", digest('c'), "v3", ""));

  store::StageMove back = store::rollback(repo, "iris", "prod", "bad");
  CHECK(back.from_version == "v3");
  CHECK(back.to_version == "v2");
  CHECK(repo.read_stage("iris", "prod") == digest('b'));
  CHECK(store::rollback(repo, "iris", "prod", "").to_version == "v1");
  CHECK_THROWS_AS(store::rollback(repo, "iris", "prod", ""), NotFoundError);

  auto history = store::stage_history(repo, "iris", "prod");
  REQUIRE(history.size() == 5);
  CHECK(history[0].reason == "first");
  CHECK(history[0].from_digest.empty());
  CHECK(history[1].from_version == "v1");
  CHECK(history[3].action == "rollback");
  CHECK(history[3].reason == "bad");
}

TEST_CASE("a torn last line is ignored and cut before the next append") {
  test::TestDir dir;
  auto repo = store::Repository::init(dir.path()).first;
  store::promote(repo, "iris", "prod", digest('a'), "v1", "");
  const auto log = repo.root() / "logs/stages/iris/prod";
  std::ofstream(log, std::ios::app) << "{\"time\": \"2026";
  CHECK(store::stage_history(repo, "iris", "prod").size() == 1);
  store::promote(repo, "iris", "prod", digest('b'), "v2", "");
  auto history = store::stage_history(repo, "iris", "prod");
  REQUIRE(history.size() == 2);
  CHECK(history[1].from_digest == digest('a'));
}

TEST_CASE("reasons with quotes and newlines survive the log") {
  test::TestDir dir;
  auto repo = store::Repository::init(dir.path()).first;
  store::promote(repo, "iris", "prod", digest('a'), "v1", "said \"ship it\"\nthen left");
  CHECK(store::stage_history(repo, "iris", "prod").at(0).reason == "said \"ship it\"\nthen left");
  CHECK_THROWS_AS(store::promote(repo, "iris", "bad stage", digest('a'), "v1", ""), UsageError);
}
