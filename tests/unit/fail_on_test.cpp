#include <catch2/catch.hpp>

#include "mlpack/diff/fail_on.hpp"
#include "mlpack/util/error.hpp"

using namespace mlpack;
using diff::FailOn;

namespace {

manifest::Manifest with_metrics(const std::string& version, const std::string& metrics,
                                const std::string& goals = "{accuracy: max, loss: min}") {
  manifest::Manifest m;
  m.name = "iris";
  m.version = version;
  m.metrics = YAML::Load(metrics);
  if (!goals.empty()) m.metric_goals = YAML::Load(goals);
  m.preprocessing = YAML::Load("{input_schema: [{name: a, type: float}, {name: b, type: float}]}");
  return m;
}

diff::GateResult run(const std::string& expr, const std::string& old_metrics,
                     const std::string& new_metrics) {
  const manifest::Manifest a = with_metrics("v1", old_metrics);
  const manifest::Manifest b = with_metrics("v2", new_metrics);
  return diff::evaluate(diff::parse_fail_on(expr), diff::compare(a, b));
}

bool holds(const std::string& expr, const std::string& old_metrics,
           const std::string& new_metrics) {
  return run(expr, old_metrics, new_metrics).held;
}

}  // namespace

TEST_CASE("fail-on: every form parses") {
  FailOn g = diff::parse_fail_on("accuracy<-0.01");
  CHECK(g.kind == FailOn::Kind::kThreshold);
  CHECK(g.metric == "accuracy");
  CHECK(g.less);
  CHECK_FALSE(g.inclusive);
  CHECK_FALSE(g.relative);
  CHECK(g.threshold == -0.01);
  CHECK(g.threshold_text == "-0.01");

  g = diff::parse_fail_on("accuracy<-2%");
  CHECK(g.relative);
  CHECK(g.threshold == -2);
  CHECK(g.threshold_text == "-2%");

  g = diff::parse_fail_on("loss>+5%");
  CHECK_FALSE(g.less);
  CHECK(g.relative);
  CHECK(g.threshold == 5);

  g = diff::parse_fail_on("loss>+0.5");
  CHECK_FALSE(g.relative);
  CHECK(g.threshold == 0.5);

  g = diff::parse_fail_on("eval.f1<=-0.02");
  CHECK(g.metric == "eval.f1");
  CHECK(g.inclusive);
  CHECK(g.threshold == -0.02);

  g = diff::parse_fail_on("loss>=+1e-3");
  CHECK(g.inclusive);
  CHECK(g.threshold == 0.001);

  // An unsigned N takes the sign the operator implies.
  g = diff::parse_fail_on("accuracy<0.01");
  CHECK(g.threshold == -0.01);
  CHECK(g.threshold_text == "-0.01");
  g = diff::parse_fail_on("loss>5%");
  CHECK(g.threshold == 5);
  CHECK(g.threshold_text == "+5%");
  // A sign against the operator is taken as written: "must improve by 0.01".
  g = diff::parse_fail_on("accuracy<+0.01");
  CHECK(g.threshold == 0.01);

  g = diff::parse_fail_on("log-loss>+.5");
  CHECK(g.metric == "log-loss");
  CHECK(g.threshold == 0.5);

  CHECK(diff::parse_fail_on("schema-change").kind == FailOn::Kind::kSchemaChange);
  CHECK(diff::parse_fail_on("any-metric-regression").kind == FailOn::Kind::kAnyMetricRegression);
}

TEST_CASE("fail-on: whitespace around tokens is allowed") {
  FailOn g = diff::parse_fail_on("  accuracy < - 2 %  ");
  CHECK(g.text == "accuracy < - 2 %");
  CHECK(g.metric == "accuracy");
  CHECK(g.relative);
  CHECK(g.threshold == -2);
  g = diff::parse_fail_on("loss >= +0.1");
  CHECK(g.inclusive);
  CHECK(g.threshold == 0.1);
  CHECK(diff::parse_fail_on(" schema-change\t").kind == FailOn::Kind::kSchemaChange);
}

TEST_CASE("fail-on: malformed expressions show the grammar") {
  for (const char* bad : {"",
                          "   ",
                          "accuracy",
                          "schema_change",
                          "Schema-Change",
                          "any-metric-regressions",
                          "accuracy<",
                          "accuracy<-",
                          "accuracy<-%",
                          "<-0.01",
                          " < 1",
                          "accuracy=0.9",
                          "accuracy==0.9",
                          "accuracy=<0.1",
                          "accuracy<<-1",
                          "accuracy<>1",
                          "accuracy<-0.01%%",
                          "accuracy<-x",
                          "accuracy<--1",
                          "accuracy<-0x10",
                          "accuracy<-1e",
                          "accuracy<-nan",
                          "my metric<-1",
                          "accuracy<-1 2",
                          "accuracy%<1"}) {
    INFO("expression: '" << bad << "'");
    try {
      diff::parse_fail_on(bad);
      FAIL("accepted");
    } catch (const UsageError& e) {
      const std::string message = e.what();
      CHECK(message.find("malformed --fail-on expression") != std::string::npos);
      CHECK(message.find(diff::kFailOnGrammar) != std::string::npos);
      CHECK(message.find('\n') == std::string::npos);
    }
  }
}

TEST_CASE("fail-on: absolute thresholds and their boundaries") {
  const std::string old_m = "{accuracy: 0.96, loss: 0.25}";
  // A drop of exactly 0.01 is not below -0.01; with <= it is.
  CHECK_FALSE(holds("accuracy<-0.01", old_m, "{accuracy: 0.95, loss: 0.25}"));
  CHECK(holds("accuracy<=-0.01", old_m, "{accuracy: 0.95, loss: 0.25}"));
  CHECK(holds("accuracy<-0.01", old_m, "{accuracy: 0.9499, loss: 0.25}"));
  CHECK_FALSE(holds("accuracy<-0.01", old_m, "{accuracy: 0.97, loss: 0.25}"));
  CHECK_FALSE(holds("accuracy<-0.01", old_m, "{accuracy: 0.96, loss: 0.25}"));
  CHECK(holds("accuracy<0", old_m, "{accuracy: 0.959, loss: 0.25}"));
  // Rises.
  CHECK_FALSE(holds("loss>+0.05", old_m, "{accuracy: 0.96, loss: 0.30}"));
  CHECK(holds("loss>=+0.05", old_m, "{accuracy: 0.96, loss: 0.30}"));
  CHECK(holds("loss>+0.05", old_m, "{accuracy: 0.96, loss: 0.31}"));
  CHECK_FALSE(holds("loss>+0.05", old_m, "{accuracy: 0.96, loss: 0.1}"));
  // "Must improve by at least 0.01".
  CHECK(holds("accuracy<+0.01", old_m, "{accuracy: 0.965, loss: 0.25}"));
  CHECK_FALSE(holds("accuracy<+0.01", old_m, "{accuracy: 0.97, loss: 0.25}"));

  const diff::GateResult r = run("accuracy<-0.01", old_m, "{accuracy: 0.9, loss: 0.25}");
  CHECK(r.expr == "accuracy<-0.01");
  CHECK(r.detail == "accuracy changed by -0.06 (0.96 -> 0.9), below -0.01");
  const diff::GateResult r2 = run("accuracy<-0.01", old_m, "{accuracy: 0.955, loss: 0.25}");
  CHECK(r2.detail == "accuracy changed by -0.005 (0.96 -> 0.955), not below -0.01");
}

TEST_CASE("fail-on: relative thresholds and their boundaries") {
  const std::string old_m = "{accuracy: 0.5, loss: 0.2}";
  CHECK_FALSE(holds("accuracy<-2%", old_m, "{accuracy: 0.49, loss: 0.2}"));  // exactly -2%
  CHECK(holds("accuracy<=-2%", old_m, "{accuracy: 0.49, loss: 0.2}"));
  CHECK(holds("accuracy<-2%", old_m, "{accuracy: 0.4899, loss: 0.2}"));
  CHECK_FALSE(holds("loss>+5%", old_m, "{accuracy: 0.5, loss: 0.21}"));  // exactly +5%
  CHECK(holds("loss>+5%", old_m, "{accuracy: 0.5, loss: 0.2101}"));
  CHECK(holds("loss>=+5%", old_m, "{accuracy: 0.5, loss: 0.21}"));
  // Relative to |old|: a negative baseline still rises when it grows.
  CHECK(holds("score>+10%", "{score: -1.0}", "{score: -0.8}"));
  CHECK_FALSE(holds("score>+10%", "{score: -1.0}", "{score: -1.2}"));

  const diff::GateResult r = run("loss>+5%", old_m, "{accuracy: 0.5, loss: 0.3}");
  CHECK(r.held);
  CHECK(r.detail == "loss changed by +50% (0.2 -> 0.3), above +5%");
}

TEST_CASE("fail-on: a relative gate on an old value of 0 is an error") {
  try {
    run("loss>+5%", "{accuracy: 0.5, loss: 0}", "{accuracy: 0.5, loss: 0.1}");
    FAIL("no error");
  } catch (const UsageError& e) {
    CHECK(std::string(e.what()).find("old value is 0") != std::string::npos);
  }
  // Absolute gates still work there.
  CHECK(holds("loss>+0.05", "{accuracy: 0.5, loss: 0}", "{accuracy: 0.5, loss: 0.1}"));
}

TEST_CASE("fail-on: a gate on a missing metric is an error, not a pass") {
  auto message_of = [](const std::string& expr, const std::string& o, const std::string& n) {
    try {
      run(expr, o, n);
    } catch (const NotFoundError& e) {
      return std::string(e.what());
    }
    FAIL("no NotFoundError");
    return std::string();
  };
  std::string m = message_of("f1<-0.01", "{accuracy: 0.5}", "{accuracy: 0.5, f1: 0.4}");
  CHECK(m.find("'f1'") != std::string::npos);
  CHECK(m.find("missing from REF_A (iris:v1)") != std::string::npos);
  m = message_of("f1<-0.01", "{accuracy: 0.5, f1: 0.4}", "{accuracy: 0.5}");
  CHECK(m.find("missing from REF_B (iris:v2)") != std::string::npos);
  m = message_of("f1<-0.01", "{accuracy: 0.5}", "{accuracy: 0.5}");
  CHECK(m.find("in neither") != std::string::npos);
  CHECK(m.find("metrics: accuracy") != std::string::npos);
  // Nested metrics are named with dots.
  CHECK(holds("eval.f1<-0.01", "{eval: {f1: 0.9}}", "{eval: {f1: 0.8}}"));
  // A metric that is not a number cannot be gated.
  CHECK_THROWS_AS(run("accuracy<-0.01", "{accuracy: 0.5}", "{accuracy: n/a}"), UsageError);
}

TEST_CASE("fail-on: any-metric-regression follows metric_goals") {
  const std::string old_m = "{accuracy: 0.9, loss: 0.3, other: 5}";
  CHECK_FALSE(holds("any-metric-regression", old_m, "{accuracy: 0.9, loss: 0.3, other: 1}"));
  CHECK_FALSE(holds("any-metric-regression", old_m, "{accuracy: 0.95, loss: 0.2, other: 1}"));
  CHECK(holds("any-metric-regression", old_m, "{accuracy: 0.89, loss: 0.2, other: 5}"));
  const diff::GateResult r = run("any-metric-regression", old_m, "{accuracy: 0.95, loss: 0.31}");
  CHECK(r.held);
  CHECK(r.detail == "worse: loss 0.3 -> 0.31 (goal min)");
  const diff::GateResult pass = run("any-metric-regression", old_m, "{accuracy: 1, loss: 0.3}");
  CHECK(pass.detail == "no metric with a goal got worse (2 checked)");
  // A metric with a goal that one side lacks cannot be judged.
  CHECK_THROWS_AS(run("any-metric-regression", old_m, "{loss: 0.3}"), NotFoundError);

  // No goals at all: it would check nothing, which must not pass silently.
  const manifest::Manifest a = with_metrics("v1", "{accuracy: 0.9}", "");
  const manifest::Manifest b = with_metrics("v2", "{accuracy: 0.8}", "");
  CHECK_THROWS_AS(diff::evaluate(diff::parse_fail_on("any-metric-regression"), diff::compare(a, b)),
                  NotFoundError);
}

TEST_CASE("fail-on: schema-change holds on any schema change") {
  const manifest::Manifest a = with_metrics("v1", "{accuracy: 0.9}");
  const FailOn gate = diff::parse_fail_on("schema-change");
  const diff::GateResult same = diff::evaluate(gate, diff::compare(a, a));
  CHECK_FALSE(same.held);
  CHECK(same.detail == "input schema unchanged");

  manifest::Manifest b = with_metrics("v2", "{accuracy: 0.9}");
  b.preprocessing = YAML::Load(
      "{input_schema: [{name: b, type: int}, {name: a, type: float}, {name: c, type: float}]}");
  const diff::GateResult changed = diff::evaluate(gate, diff::compare(a, b));
  CHECK(changed.held);
  CHECK(changed.detail ==
        "input schema changed: a moved from position 1 to 2; b type float -> int, moved from "
        "position 2 to 1; added c (float)");

  manifest::Manifest c = with_metrics("v2", "{accuracy: 0.9}");
  c.preprocessing = YAML::Load("{input_schema: [{name: a, type: float}]}");
  CHECK(diff::evaluate(gate, diff::compare(a, c)).detail == "input schema changed: removed b");
}

TEST_CASE("fail-on: results as JSON") {
  const std::string j =
      diff::gates_to_json({{"schema-change", false, "input schema unchanged"}}).dump(0);
  CHECK(j ==
        "[{\"expr\":\"schema-change\",\"held\":false,\"detail\":\"input schema "
        "unchanged\"}]\n");
}
