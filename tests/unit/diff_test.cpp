#include <catch2/catch.hpp>

#include "mlpack/diff/diff.hpp"

using namespace mlpack;
using diff::Status;
using diff::Verdict;

namespace {

manifest::FileEntry file(const std::string& path, const std::string& role, std::uint64_t size,
                         char digest) {
  return {path, role, size, std::string(64, digest), "binary", std::nullopt};
}

manifest::Manifest base() {
  manifest::Manifest m;
  m.name = "iris";
  m.version = "v1";
  m.description = "a model";
  m.created = "2025-01-20T10:00:00Z";
  m.metrics = YAML::Load("{accuracy: 0.96, loss: 0.25, eval: {f1: 0.9}, note: good, zero: 0}");
  m.metric_goals = YAML::Load("{accuracy: max, loss: min}");
  m.params = YAML::Load("{C: 1.0, solver: lbfgs, grid: {depth: 3}}");
  m.preprocessing = YAML::Load(
      "{path: p.yaml, input_schema: [{name: a, type: float}, {name: b, type: float}, "
      "{name: c, type: int}]}");
  m.metadata = YAML::Load("{training_date: 2025-01-20, dataset: {name: iris, version: '1'}}");
  m.environment = YAML::Load("{python: '3.11'}");
  m.files = {file("metrics.json", "metadata", 10, 'a'), file("model.pkl", "model", 1000, 'b'),
             file("old.txt", "docs", 5, 'c')};
  return m;
}

const diff::MetricChange& metric(const diff::Diff& d, const std::string& key) {
  const diff::MetricChange* m = d.find_metric(key);
  REQUIRE(m != nullptr);
  return *m;
}

template <typename Entries>
const auto& entry(const Entries& entries, const std::string& key) {
  for (const auto& e : entries) {
    if (e.key == key) return e;
  }
  FAIL("no entry " << key);
  return entries.front();
}

}  // namespace

TEST_CASE("diff: identical manifests change nothing") {
  const manifest::Manifest a = base();
  const manifest::Manifest b = base();
  const diff::Diff d = diff::compare(a, b);
  CHECK(d.a_label == "iris:v1");
  for (const auto& m : d.metrics) CHECK(m.status == Status::kUnchanged);
  CHECK(metric(d, "accuracy").verdict == Verdict::kUnchanged);
  CHECK(metric(d, "eval.f1").verdict == Verdict::kNone);  // no goal
  CHECK_FALSE(diff::Diff::counts(d.params).any_change());
  CHECK_FALSE(d.schema_changed());
  CHECK_FALSE(diff::Diff::counts(d.files).any_change());
  CHECK_FALSE(diff::Diff::counts(d.metadata).any_change());
}

TEST_CASE("diff: metric deltas are exact decimals with goals as verdicts") {
  const manifest::Manifest a = base();
  manifest::Manifest b = base();
  b.metrics = YAML::Load("{accuracy: 0.95, loss: 0.3, eval: {f1: 0.912}, note: good, zero: 0}");
  const diff::Diff d = diff::compare(a, b);

  const auto& acc = metric(d, "accuracy");
  CHECK(acc.status == Status::kChanged);
  CHECK(acc.old_value->text == "0.96");
  CHECK(acc.new_value->text == "0.95");
  REQUIRE(acc.abs_change);
  CHECK(*acc.abs_change == -0.01);  // not -0.010000000000000009
  CHECK(acc.abs_change_text == "-0.01");
  CHECK(diff::signed_text(acc) == "-0.01");
  REQUIRE(acc.rel_change_pct);
  CHECK(*acc.rel_change_pct == Approx(-1.0416666667));
  CHECK(acc.goal == "max");
  CHECK(acc.verdict == Verdict::kWorse);

  const auto& loss = metric(d, "loss");
  CHECK(loss.abs_change_text == "0.05");
  CHECK(diff::signed_text(loss) == "+0.05");
  CHECK(*loss.rel_change_pct == 20);
  CHECK(loss.verdict == Verdict::kWorse);  // goal min, it rose

  const auto& f1 = metric(d, "eval.f1");  // nested keys are dotted
  CHECK(f1.abs_change_text == "0.012");
  CHECK(diff::signed_text(f1) == "+0.012");
  CHECK(f1.verdict == Verdict::kNone);
  CHECK(f1.status == Status::kChanged);

  CHECK(metric(d, "note").status == Status::kUnchanged);
  CHECK_FALSE(metric(d, "note").abs_change);  // text, not a number

  const auto& zero = metric(d, "zero");
  CHECK(zero.abs_change_text == "0");
  CHECK_FALSE(zero.rel_change_pct);  // undefined for an old value of 0
}

TEST_CASE("diff: better, worse and the sign of zero") {
  const manifest::Manifest a = base();
  manifest::Manifest b = base();
  b.metrics = YAML::Load("{accuracy: 0.97, loss: 0.2, eval: {f1: 0.90}, note: bad, zero: 1}");
  const diff::Diff d = diff::compare(a, b);
  CHECK(metric(d, "accuracy").verdict == Verdict::kBetter);
  CHECK(metric(d, "loss").verdict == Verdict::kBetter);
  // 0.90 and 0.9 are the same number: unchanged, and the change shows no sign.
  CHECK(metric(d, "eval.f1").status == Status::kUnchanged);
  CHECK(metric(d, "eval.f1").abs_change_text == "0.00");
  CHECK(diff::signed_text(metric(d, "eval.f1")) == "0.00");
  CHECK(metric(d, "note").status == Status::kChanged);
  CHECK(metric(d, "zero").abs_change_text == "1");
  CHECK(diff::signed_percent(2.5, 2) == "+2.50%");
  CHECK(diff::signed_percent(-2.5, 2) == "-2.50%");
  CHECK(diff::signed_percent(0, 2) == "0.00%");
}

TEST_CASE("diff: added and removed metrics, in A's order then B's") {
  const manifest::Manifest a = base();
  manifest::Manifest b = base();
  b.metrics = YAML::Load("{recall: 0.8, accuracy: 0.96, eval: {f1: 0.9, auc: 0.7}}");
  const diff::Diff d = diff::compare(a, b);
  std::vector<std::string> keys;
  for (const auto& m : d.metrics) keys.push_back(m.key);
  CHECK(keys == std::vector<std::string>{"accuracy", "loss", "eval.f1", "note", "zero", "recall",
                                         "eval.auc"});
  CHECK(metric(d, "loss").status == Status::kRemoved);
  CHECK_FALSE(metric(d, "loss").new_value);
  CHECK(metric(d, "loss").verdict == Verdict::kNone);
  CHECK(metric(d, "recall").status == Status::kAdded);
  CHECK(metric(d, "eval.auc").status == Status::kAdded);
}

TEST_CASE("diff: goals come from B, then A, nested or dotted") {
  manifest::Manifest a = base();
  a.metric_goals = YAML::Load("{accuracy: max, eval: {f1: max}}");
  manifest::Manifest b = base();
  b.metrics = YAML::Load("{accuracy: 0.95, loss: 0.3, eval: {f1: 0.8}}");
  b.metric_goals = YAML::Load("{accuracy: min, eval.f1: min}");
  const diff::Diff d = diff::compare(a, b);
  CHECK(metric(d, "accuracy").goal == "min");
  CHECK(metric(d, "accuracy").verdict == Verdict::kBetter);
  CHECK(metric(d, "eval.f1").goal == "min");
  CHECK(metric(d, "loss").goal.empty());  // neither side has one

  manifest::Manifest c = base();
  c.metric_goals = YAML::Node();
  c.metrics = YAML::Load("{eval: {f1: 0.8}}");
  const diff::Diff d2 = diff::compare(a, c);
  CHECK(metric(d2, "eval.f1").goal == "max");  // from A's nested goals
  CHECK(metric(d2, "eval.f1").verdict == Verdict::kWorse);
}

TEST_CASE("diff: numbers as YAML writes them, strings as quoted") {
  CHECK(diff::parse_number("0.97") == 0.97);
  CHECK(diff::parse_number("-1e-3") == -0.001);
  CHECK(diff::parse_number("+.5") == 0.5);
  CHECK(diff::parse_number("42") == 42);
  for (const char* bad :
       {"", "-", ".", "1e", "0x10", "nan", "inf", ".inf", "1,5", "2024-12", "1e999", "1.2.3"}) {
    INFO(bad);
    CHECK_FALSE(diff::parse_number(bad));
  }
  manifest::Manifest a = base();
  a.metrics = YAML::Load("{acc: '0.9', tiny: 1e-3}");
  manifest::Manifest b = base();
  b.metrics = YAML::Load("{acc: 0.9, tiny: 2.5e-3}");
  const diff::Diff d = diff::compare(a, b);
  const auto& acc = metric(d, "acc");
  CHECK_FALSE(acc.old_value->number);  // quoted: a string
  CHECK(acc.old_value->text == "\"0.9\"");
  CHECK(acc.status == Status::kChanged);
  CHECK_FALSE(acc.abs_change);
  CHECK(metric(d, "tiny").abs_change_text == "0.0015");
}

TEST_CASE("diff: params, metadata and environment are flattened") {
  const manifest::Manifest a = base();
  manifest::Manifest b = base();
  b.params = YAML::Load("{C: 0.5, grid: {depth: 3, width: 2}, layers: [1, 2]}");
  b.description = "a better model";
  b.metadata = YAML::Load("{training_date: 2025-02-01, dataset: {name: iris, version: '2'}}");
  b.environment = YAML::Load("{python: '3.12', cuda: '12'}");
  b.model = YAML::Load("{framework: scikit-learn}");
  const diff::Diff d = diff::compare(a, b);

  CHECK(entry(d.params, "C").status == Status::kChanged);
  CHECK(entry(d.params, "C").old_value->text == "1.0");
  CHECK(entry(d.params, "C").new_value->text == "0.5");
  CHECK(entry(d.params, "solver").status == Status::kRemoved);
  CHECK(entry(d.params, "grid.depth").status == Status::kUnchanged);
  CHECK(entry(d.params, "grid.width").status == Status::kAdded);
  CHECK(entry(d.params, "layers").new_value->text == "[1, 2]");

  CHECK(entry(d.metadata, "description").status == Status::kChanged);
  CHECK(entry(d.metadata, "metadata.training_date").new_value->text == "2025-02-01");
  CHECK(entry(d.metadata, "metadata.dataset.version").old_value->text == "\"1\"");
  CHECK(entry(d.metadata, "metadata.dataset.name").status == Status::kUnchanged);
  CHECK(entry(d.metadata, "model.framework").status == Status::kAdded);

  CHECK(entry(d.environment, "python").status == Status::kChanged);
  CHECK(entry(d.environment, "cuda").status == Status::kAdded);
}

TEST_CASE("diff: input schema changes are breaking") {
  const manifest::Manifest a = base();
  SECTION("added, removed, type changed") {
    manifest::Manifest b = base();
    b.preprocessing = YAML::Load(
        "{input_schema: [{name: a, type: float}, {name: c, type: float}, {name: d, type: str}]}");
    const diff::Diff d = diff::compare(a, b);
    CHECK(d.schema_changed());
    REQUIRE(d.schema.size() == 4);
    CHECK(d.schema[0].name == "a");
    CHECK(d.schema[0].status == Status::kUnchanged);
    CHECK(d.schema[1].name == "b");
    CHECK(d.schema[1].status == Status::kRemoved);
    CHECK(d.schema[2].name == "c");
    CHECK(d.schema[2].status == Status::kChanged);
    CHECK(d.schema[2].type_changed());
    CHECK_FALSE(d.schema[2].moved);  // shifted by the removal, not reordered
    CHECK(*d.schema[2].old_type == "int");
    CHECK(*d.schema[2].new_type == "float");
    CHECK(d.schema[3].name == "d");
    CHECK(d.schema[3].status == Status::kAdded);
    CHECK(*d.schema[3].new_index == 2);
  }
  SECTION("reordered") {
    manifest::Manifest b = base();
    b.preprocessing = YAML::Load(
        "{input_schema: [{name: b, type: float}, {name: a, type: float}, {name: c, type: int}]}");
    const diff::Diff d = diff::compare(a, b);
    CHECK(d.schema_changed());
    CHECK(d.schema[0].moved);
    CHECK(d.schema[1].moved);
    CHECK_FALSE(d.schema[2].moved);
    CHECK(d.schema[2].status == Status::kUnchanged);
  }
  SECTION("a schema that disappears removes every column") {
    manifest::Manifest b = base();
    b.preprocessing = YAML::Load("{path: p.yaml}");
    const diff::Diff d = diff::compare(a, b);
    CHECK(diff::Diff::counts(d.schema).removed == 3);
  }
  SECTION("a column that loses its type changed") {
    manifest::Manifest b = base();
    b.preprocessing =
        YAML::Load("{input_schema: [{name: a, type: float}, {name: b}, {name: c, type: int}]}");
    const diff::Diff d = diff::compare(a, b);
    CHECK(d.schema[1].type_changed());
    CHECK_FALSE(d.schema[1].new_type);
  }
}

TEST_CASE("diff: files keyed by path") {
  const manifest::Manifest a = base();
  manifest::Manifest b = base();
  b.files = {file("metrics.json", "metadata", 10, 'a'), file("model.pkl", "model", 1200, 'd'),
             file("new.txt", "docs", 7, 'e')};
  const diff::Diff d = diff::compare(a, b);
  REQUIRE(d.files.size() == 4);
  CHECK(d.files[0].path == "metrics.json");
  CHECK(d.files[0].status == Status::kUnchanged);
  CHECK(d.files[1].path == "model.pkl");
  CHECK(d.files[1].status == Status::kChanged);
  CHECK(d.files[1].size_delta() == 200);
  CHECK(d.files[1].old_file->sha256 == std::string(64, 'b'));
  CHECK(d.files[1].new_file->sha256 == std::string(64, 'd'));
  CHECK(d.files[2].path == "new.txt");
  CHECK(d.files[2].status == Status::kAdded);
  CHECK(d.files[2].size_delta() == 7);
  CHECK(d.files[3].path == "old.txt");
  CHECK(d.files[3].status == Status::kRemoved);
  CHECK(d.files[3].size_delta() == -5);

  manifest::Manifest c = base();
  c.files[2].role = "data";  // same bytes, other role
  CHECK(diff::compare(a, c).files[2].status == Status::kChanged);
}

TEST_CASE("diff: JSON keeps numbers as numbers") {
  const manifest::Manifest a = base();
  manifest::Manifest b = base();
  b.metrics = YAML::Load("{accuracy: 0.95, loss: .3, zero: 1}");
  const diff::Diff d = diff::compare(a, b);
  diff::SideInfo sa{"iris:v1", std::string(64, '1'), "t", "iris", "v1", "store", true};
  diff::SideInfo sb{"b.mlpack", std::string(64, '2'), "t", "iris", "v2", "archive", false};
  const std::string j = diff::to_json(d, sa, sb).dump(0);
  CHECK(j.find("\"a\":{\"ref\":\"iris:v1\",\"name\":\"iris\",\"version\":\"v1\",\"digest\":"
               "\"sha256:111") != std::string::npos);
  CHECK(j.find("\"signed\":true") != std::string::npos);
  CHECK(j.find("\"source\":\"archive\",\"signed\":false") != std::string::npos);
  CHECK(j.find("{\"key\":\"accuracy\",\"status\":\"changed\",\"old\":0.96,\"new\":0.95,"
               "\"abs_change\":-0.01,\"rel_change_pct\":-1.04166666667,\"goal\":\"max\","
               "\"verdict\":\"worse\"}") != std::string::npos);
  // ".3" is a YAML number JSON cannot spell: it goes out as 0.3.
  CHECK(j.find("\"old\":0.25,\"new\":0.3,\"abs_change\":0.05,\"rel_change_pct\":20,") !=
        std::string::npos);
  CHECK(j.find("{\"key\":\"zero\",\"status\":\"changed\",\"old\":0,\"new\":1,\"abs_change\":1,"
               "\"rel_change_pct\":null,\"goal\":null,\"verdict\":null}") != std::string::npos);
  CHECK(j.find("\"summary\":{\"identical\":false,\"metrics\":{\"added\":0,\"removed\":2,") !=
        std::string::npos);
}
