// `diff --fail-on` gate expressions: parsed before any ref is resolved (so a
// typo never costs a download), then evaluated against a Diff. A gate that
// cannot be evaluated is an error, never a silent pass.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "mlpack/diff/diff.hpp"
#include "mlpack/util/json.hpp"

namespace mlpack::diff {

inline constexpr const char* kFailOnGrammar =
    "METRIC<-N, METRIC<-N%, METRIC>+N, METRIC>+N% (also <= and >=; an unsigned N takes the "
    "sign of the operator), schema-change or any-metric-regression; for example accuracy<-0.01, "
    "accuracy<-2%, loss>+5%";

struct FailOn {
  enum class Kind { kThreshold, kSchemaChange, kAnyMetricRegression };
  Kind kind = Kind::kThreshold;
  std::string text;  // as written, without surrounding whitespace
  // kThreshold: holds when the change of `metric` compares with `threshold`
  // as `op` says, e.g. change < -0.01.
  std::string metric;
  bool less = true;            // '<' (a drop) or '>' (a rise)
  bool inclusive = false;      // '<=' or '>='
  bool relative = false;       // threshold in percent of |old|
  double threshold = 0;        // signed
  std::string threshold_text;  // signed, as normalised for messages: "-0.01", "+5%"
};

// Throws UsageError naming the expression and showing kFailOnGrammar.
FailOn parse_fail_on(std::string_view expression);

struct GateResult {
  std::string expr;
  bool held = false;
  std::string detail;  // why it held or not, one line
};

// Throws NotFoundError when a metric the gate needs is missing from a side,
// UsageError when the gate cannot apply (a relative gate on an old value of
// 0, a metric that is not a number).
GateResult evaluate(const FailOn& gate, const Diff& diff);

json::Value gates_to_json(const std::vector<GateResult>& results);

}  // namespace mlpack::diff
