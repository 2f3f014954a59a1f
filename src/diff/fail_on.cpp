#include "mlpack/diff/fail_on.hpp"

#include <cstdio>

#include "mlpack/util/error.hpp"

namespace mlpack::diff {
namespace {

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

std::string join(const std::vector<std::string>& parts, const std::string& sep) {
  std::string out;
  for (std::size_t i = 0; i < parts.size(); ++i) out += (i ? sep : "") + parts[i];
  return out;
}

// "-9.7575", "+5", "0": enough digits that a value just past a threshold
// never prints as the threshold itself.
std::string trimmed_signed(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%+.*f", decimals, v);
  std::string s = buf;
  if (s.find('.') != std::string::npos) {
    while (s.back() == '0') s.pop_back();
    if (s.back() == '.') s.pop_back();
  }
  if (s == "+0" || s == "-0") s = "0";
  return s;
}

std::string side_a(const Diff& d) {
  return "REF_A (" + d.a_label + ")";
}
std::string side_b(const Diff& d) {
  return "REF_B (" + d.b_label + ")";
}

// The metric's two numbers, or an error that says why the gate cannot use it.
void require_numbers(const std::string& gate, const MetricChange& m, const Diff& d) {
  if (!m.old_value) {
    throw NotFoundError("--fail-on " + gate + ": metric '" + m.key + "' is missing from " +
                        side_a(d) + ", so it cannot be compared");
  }
  if (!m.new_value) {
    throw NotFoundError("--fail-on " + gate + ": metric '" + m.key + "' is missing from " +
                        side_b(d) + ", so it cannot be compared");
  }
  const std::pair<const Leaf*, std::string> sides[] = {{&*m.old_value, side_a(d)},
                                                       {&*m.new_value, side_b(d)}};
  for (const auto& [leaf, side] : sides) {
    if (!leaf->number) {
      throw UsageError("--fail-on " + gate + ": metric '" + m.key + "' is not a number in " + side +
                       ": " + leaf->text);
    }
  }
  if (!m.abs_change) {
    throw UsageError("--fail-on " + gate + ": the change of metric '" + m.key +
                     "' is too large to compute");
  }
}

std::string values_text(const MetricChange& m) {
  return m.old_value->text + " -> " + m.new_value->text;
}

std::string describe(const SchemaColumn& c) {
  const auto type = [](const std::optional<std::string>& t) { return t ? *t : "(no type)"; };
  switch (c.status) {
    case Status::kAdded:
      return "added " + c.name + " (" + type(c.new_type) + ")";
    case Status::kRemoved:
      return "removed " + c.name;
    case Status::kChanged: {
      std::vector<std::string> what;
      if (c.type_changed()) what.push_back("type " + type(c.old_type) + " -> " + type(c.new_type));
      if (c.moved) {
        what.push_back("moved from position " + std::to_string(*c.old_index + 1) + " to " +
                       std::to_string(*c.new_index + 1));
      }
      return c.name + " " + join(what, ", ");
    }
    case Status::kUnchanged:
      break;
  }
  return c.name;
}

GateResult evaluate_schema(const FailOn& gate, const Diff& d) {
  std::vector<std::string> changes;
  for (const auto& c : d.schema) {
    if (c.status != Status::kUnchanged) changes.push_back(describe(c));
  }
  if (changes.empty()) return {gate.text, false, "input schema unchanged"};
  return {gate.text, true, "input schema changed: " + join(changes, "; ")};
}

GateResult evaluate_regression(const FailOn& gate, const Diff& d) {
  std::vector<std::string> worse;
  std::size_t checked = 0;
  for (const auto& m : d.metrics) {
    if (m.goal.empty()) continue;
    require_numbers(gate.text, m, d);
    ++checked;
    if (m.verdict == Verdict::kWorse) {
      worse.push_back(m.key + " " + values_text(m) + " (goal " + m.goal + ")");
    }
  }
  // A gate that checks nothing would pass forever, unnoticed.
  if (checked == 0) {
    throw NotFoundError("--fail-on " + gate.text + ": no metric of " + side_a(d) + " or " +
                        side_b(d) +
                        " has a goal, so it would check nothing; add metric_goals to "
                        "mlpack.yaml (for example metric_goals: {accuracy: max}) or gate on a "
                        "metric by name");
  }
  if (worse.empty()) {
    return {gate.text, false,
            "no metric with a goal got worse (" + std::to_string(checked) + " checked)"};
  }
  return {gate.text, true, "worse: " + join(worse, ", ")};
}

GateResult evaluate_threshold(const FailOn& gate, const Diff& d) {
  const MetricChange* m = d.find_metric(gate.metric);
  if (!m) {
    std::vector<std::string> known;
    for (const auto& k : d.metrics) known.push_back(k.key);
    throw NotFoundError("--fail-on " + gate.text + ": metric '" + gate.metric + "' is in neither " +
                        side_a(d) + " nor " + side_b(d) +
                        " (metrics: " + (known.empty() ? "none" : join(known, ", ")) + ")");
  }
  require_numbers(gate.text, *m, d);
  double change = *m->abs_change;
  std::string change_text = signed_text(*m);
  if (gate.relative) {
    if (!m->rel_change_pct) {
      throw UsageError("--fail-on " + gate.text + ": the relative change of '" + m->key +
                       "' is undefined because its old value is 0; use an absolute threshold "
                       "such as " +
                       m->key + (gate.less ? "<-0.01" : ">+0.01"));
    }
    change = *m->rel_change_pct;
    change_text = trimmed_signed(change, 4) + "%";
  }
  const double t = gate.threshold;
  const bool held = gate.less ? (gate.inclusive ? change <= t : change < t)
                              : (gate.inclusive ? change >= t : change > t);
  std::string relation = gate.less ? "below" : "above";
  if (gate.inclusive) relation = "at or " + relation;
  return {gate.text, held,
          m->key + " changed by " + change_text + " (" + values_text(*m) + "), " +
              (held ? "" : "not ") + relation + " " + gate.threshold_text};
}

}  // namespace

FailOn parse_fail_on(std::string_view expression) {
  const std::string_view text = trim(expression);
  const std::string shown(text.empty() ? expression : text);
  auto bad = [&](const std::string& why) {
    return UsageError("malformed --fail-on expression '" + shown + "': " + why + "; expected " +
                      kFailOnGrammar);
  };
  FailOn g;
  g.text = std::string(text);
  if (text.empty()) throw bad("it is empty");
  if (text == "schema-change") {
    g.kind = FailOn::Kind::kSchemaChange;
    return g;
  }
  if (text == "any-metric-regression") {
    g.kind = FailOn::Kind::kAnyMetricRegression;
    return g;
  }
  const std::size_t op = text.find_first_of("<>");
  if (op == std::string_view::npos) throw bad("no < or >, and not a keyword");
  g.metric = std::string(trim(text.substr(0, op)));
  if (g.metric.empty()) throw bad("no metric before '" + std::string(1, text[op]) + "'");
  for (char c : g.metric) {
    if (is_space(c) || c == '=' || c == '%') {
      throw bad("the metric name '" + g.metric + "' contains '" + std::string(1, c) + "'");
    }
  }
  g.less = text[op] == '<';
  std::size_t pos = op + 1;
  if (pos < text.size() && text[pos] == '=') {
    g.inclusive = true;
    ++pos;
  }
  std::string_view rest = trim(text.substr(pos));
  char sign = g.less ? '-' : '+';
  if (!rest.empty() && (rest.front() == '+' || rest.front() == '-')) {
    sign = rest.front();
    rest = trim(rest.substr(1));
  }
  if (!rest.empty() && rest.back() == '%') {
    g.relative = true;
    rest = trim(rest.substr(0, rest.size() - 1));
  }
  if (rest.empty()) throw bad("no threshold after the operator");
  const bool starts_like_number =
      rest.front() == '.' || (rest.front() >= '0' && rest.front() <= '9');
  const auto number = starts_like_number ? parse_number(rest) : std::nullopt;
  if (!number) throw bad("'" + std::string(rest) + "' is not a number");
  g.threshold = sign == '-' ? -*number : *number;
  g.threshold_text = std::string(1, sign) + std::string(rest) + (g.relative ? "%" : "");
  return g;
}

GateResult evaluate(const FailOn& gate, const Diff& diff) {
  switch (gate.kind) {
    case FailOn::Kind::kSchemaChange:
      return evaluate_schema(gate, diff);
    case FailOn::Kind::kAnyMetricRegression:
      return evaluate_regression(gate, diff);
    case FailOn::Kind::kThreshold:
      return evaluate_threshold(gate, diff);
  }
  return {gate.text, false, ""};
}

json::Value gates_to_json(const std::vector<GateResult>& results) {
  json::Value arr = json::Value::array();
  for (const auto& r : results) {
    json::Value e = json::Value::object();
    e.set("expr", r.expr);
    e.set("held", r.held);
    e.set("detail", r.detail);
    arr.push(std::move(e));
  }
  return arr;
}

}  // namespace mlpack::diff
