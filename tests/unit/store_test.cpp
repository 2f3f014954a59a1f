#include <catch2/catch.hpp>

#include <fstream>
#include <set>

#include "mlpack/archive/archive.hpp"
#include "mlpack/crypto/sha256.hpp"
#include "mlpack/manifest/spec.hpp"
#include "mlpack/store/maintenance.hpp"
#include "mlpack/store/objects.hpp"
#include "mlpack/store/pack.hpp"
#include "mlpack/util/error.hpp"
#include "temp_dir.hpp"

using namespace mlpack;
namespace stdfs = std::filesystem;

namespace {

std::set<std::string> store_listing(const stdfs::path& root) {
  std::set<std::string> out;
  for (const auto& sub : {"objects", "refs"}) {
    for (const auto& e : stdfs::recursive_directory_iterator(root / sub)) {
      if (e.is_regular_file()) out.insert(e.path().lexically_relative(root).string());
    }
  }
  return out;
}

manifest::Spec spec_for(const test::TestDir& dir, const std::string& tag) {
  manifest::PackRequest req;
  req.dir = dir.path() / "src";
  req.tag = tag;
  req.model = "model.bin";
  req.preprocessing = "pre.yaml";
  return manifest::load_spec(req);
}

}  // namespace

TEST_CASE("pack stores blobs by digest and tags the version") {
  test::TestDir dir;
  dir.write("src/model.bin", "weights");
  dir.write("src/pre.yaml", "steps: []\n");
  auto [repo, created] = store::Repository::init(dir.path());
  CHECK(created);
  store::PackResult r = store::pack(repo, spec_for(dir, "iris:v1"), nullptr);
  CHECK(r.created);
  CHECK(repo.read_tag("iris", "v1") == r.digest);
  CHECK(repo.has_object(crypto::sha256_hex("weights")));
  CHECK(crypto::sha256_file_hex(repo.object_path(r.digest)) == r.digest);
  CHECK(stdfs::is_empty(repo.tmp_dir()));
}

TEST_CASE("versions are immutable: same content is a no-op, other content a conflict") {
  test::TestDir dir;
  dir.write("src/model.bin", "weights");
  dir.write("src/pre.yaml", "steps: []\n");
  auto repo = store::Repository::init(dir.path()).first;
  ::setenv("SOURCE_DATE_EPOCH", "1000", 1);
  std::string first = store::pack(repo, spec_for(dir, "iris:v1"), nullptr).digest;
  ::setenv("SOURCE_DATE_EPOCH", "2000", 1);
  store::PackResult again = store::pack(repo, spec_for(dir, "iris:v1"), nullptr);
  ::unsetenv("SOURCE_DATE_EPOCH");
  CHECK_FALSE(again.created);
  CHECK(again.digest == first);

  const auto before = store_listing(repo.root());
  dir.write("src/model.bin", "other weights");
  CHECK_THROWS_AS(store::pack(repo, spec_for(dir, "iris:v1"), nullptr), ConflictError);
  CHECK(store_listing(repo.root()) == before);
  CHECK(stdfs::is_empty(repo.tmp_dir()));
}

TEST_CASE("digest prefixes resolve to manifests only") {
  test::TestDir dir;
  dir.write("src/model.bin", "weights");
  dir.write("src/pre.yaml", "steps: []\n");
  auto repo = store::Repository::init(dir.path()).first;
  std::string digest = store::pack(repo, spec_for(dir, "iris:v1"), nullptr).digest;
  CHECK(repo.resolve(manifest::parse_ref("sha256:" + digest.substr(0, 12))) == digest);
  CHECK(repo.resolve(manifest::parse_ref("iris@sha256:" + digest)) == digest);
  CHECK_THROWS_AS(repo.resolve(manifest::parse_ref("other@sha256:" + digest)), NotFoundError);
  // A blob digest is not an artifact.
  CHECK_THROWS_AS(repo.resolve(manifest::parse_ref("sha256:" + crypto::sha256_hex("weights"))),
                  NotFoundError);
  CHECK_THROWS_AS(repo.resolve(manifest::parse_ref("iris:v2")), NotFoundError);
}

TEST_CASE("gc removes unreachable objects and temp files, fsck finds corruption") {
  test::TestDir dir;
  dir.write("src/model.bin", "weights");
  dir.write("src/pre.yaml", "steps: []\n");
  auto repo = store::Repository::init(dir.path()).first;
  std::string digest = store::pack(repo, spec_for(dir, "iris:v1"), nullptr).digest;
  const std::string stray = crypto::sha256_hex("stray");
  stdfs::create_directories(repo.object_path(stray).parent_path());
  std::ofstream(repo.object_path(stray)) << "stray";
  std::ofstream(repo.tmp_dir() / "obj-leftover") << "partial";

  store::GcReport dry = store::collect_garbage(repo, true);
  CHECK(dry.objects_removed == 1);
  CHECK(repo.has_object(stray));
  store::GcReport r = store::collect_garbage(repo, false);
  CHECK(r.objects_removed == 1);
  CHECK(r.temp_files_removed == 1);
  CHECK(r.objects_kept == 3);
  CHECK_FALSE(repo.has_object(stray));
  CHECK(store::check_repository(repo).problems.empty());

  std::ofstream(repo.object_path(crypto::sha256_hex("weights")), std::ios::app) << "!";
  store::FsckReport bad = store::check_repository(repo);
  REQUIRE_FALSE(bad.problems.empty());
  CHECK(bad.problems[0].kind == "corrupt-object");
  stdfs::remove(repo.object_path(crypto::sha256_hex("steps: []\n")));
  bool missing = false;
  for (const auto& p : store::check_repository(repo).problems)
    missing |= p.kind == "missing-object";
  CHECK(missing);
  (void)digest;
}

TEST_CASE("export is deterministic and import round-trips into another store") {
  test::TestDir dir;
  dir.write("src/model.bin", std::string(3 << 20, 'x'));  // spans several copy buffers
  dir.write("src/pre.yaml", "steps: []\n");
  auto repo = store::Repository::init(dir.path() / "a").first;
  std::string digest = store::pack(repo, spec_for(dir, "iris:v1"), nullptr).digest;
  archive::export_artifact(repo, digest, dir.path() / "one.mlpack", false, std::nullopt);
  archive::export_artifact(repo, digest, dir.path() / "two.mlpack", false, std::nullopt);
  CHECK(crypto::sha256_file_hex(dir.path() / "one.mlpack") ==
        crypto::sha256_file_hex(dir.path() / "two.mlpack"));

  auto other = store::Repository::init(dir.path() / "b").first;
  // The signature policy lives in the CLI; here every head is accepted as is.
  archive::HeadCheck accept = [](const archive::ArchiveHead& h) {
    return manifest::NameVersion{h.manifest.name, h.manifest.version};
  };
  archive::ImportResult r = archive::import_archive(other, dir.path() / "one.mlpack", accept);
  CHECK(r.created);
  CHECK(r.head.digest == digest);
  CHECK(other.read_tag("iris", "v1") == digest);
  CHECK(store::check_repository(other).problems.empty());
  CHECK_FALSE(archive::import_archive(other, dir.path() / "one.mlpack", accept).created);

  archive::unpack_from_store(other, other.read_manifest(digest), dir.path() / "out", {"model"});
  CHECK(crypto::sha256_file_hex(dir.path() / "out/model.bin") ==
        crypto::sha256_hex(std::string(3 << 20, 'x')));
  CHECK_FALSE(stdfs::exists(dir.path() / "out/pre.yaml"));
}

TEST_CASE("committed objects carry a stamp that any later write loses") {
  test::TestDir dir;
  dir.write("src/model.bin", "weights");
  dir.write("src/pre.yaml", "steps: []\n");
  auto repo = store::Repository::init(dir.path()).first;
  store::pack(repo, spec_for(dir, "iris:v1"), nullptr);
  const std::string hex = crypto::sha256_hex("weights");
  CHECK(store::object_unmodified(repo, hex, 7));
  CHECK_FALSE(store::object_unmodified(repo, hex, 8));  // not the size the manifest says
  CHECK_FALSE(store::object_unmodified(repo, crypto::sha256_hex("absent"), 7));

  // Rewritten in place, even with the same bytes: no longer vouched for.
  stdfs::permissions(repo.object_path(hex), stdfs::perms::owner_write, stdfs::perm_options::add);
  std::ofstream(repo.object_path(hex), std::ios::binary | std::ios::trunc) << "weightz";
  CHECK_FALSE(store::object_unmodified(repo, hex, 7));

  // A resumed download commits through the same path and is stamped too.
  store::ObjectWriter writer(repo, crypto::sha256_hex("fresh"));
  writer.write(std::string_view("fresh"));
  store::Transaction txn(repo);
  txn.add(writer.finish());
  txn.commit();
  CHECK(store::object_unmodified(repo, crypto::sha256_hex("fresh"), 5));
}
