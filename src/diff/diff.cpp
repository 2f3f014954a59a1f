#include "mlpack/diff/diff.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <set>
#include <utility>

namespace mlpack::diff {
namespace {

struct Decimal {
  double value = 0;
  int decimals = 0;
};

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

std::optional<Decimal> parse_decimal(std::string_view t) {
  std::size_t i = 0;
  if (i < t.size() && (t[i] == '+' || t[i] == '-')) ++i;
  std::size_t int_digits = 0;
  while (i < t.size() && is_digit(t[i])) ++i, ++int_digits;
  long fraction_digits = 0;
  if (i < t.size() && t[i] == '.') {
    ++i;
    while (i < t.size() && is_digit(t[i])) ++i, ++fraction_digits;
  }
  if (int_digits == 0 && fraction_digits == 0) return std::nullopt;
  long exponent = 0;
  if (i < t.size() && (t[i] == 'e' || t[i] == 'E')) {
    ++i;
    bool negative = false;
    if (i < t.size() && (t[i] == '+' || t[i] == '-')) negative = t[i++] == '-';
    std::size_t exp_digits = 0;
    while (i < t.size() && is_digit(t[i])) {
      // Capped so it cannot overflow; strtod below rejects what a double cannot hold.
      if (exponent < 100000) exponent = exponent * 10 + (t[i] - '0');
      ++i, ++exp_digits;
    }
    if (exp_digits == 0) return std::nullopt;
    if (negative) exponent = -exponent;
  }
  if (i != t.size()) return std::nullopt;
  const std::string text(t);
  char* end = nullptr;
  const double value = std::strtod(text.c_str(), &end);
  if (end != text.c_str() + text.size() || !std::isfinite(value)) return std::nullopt;
  const long decimals = std::clamp(fraction_digits - exponent, 0L, 1000L);
  return Decimal{value, static_cast<int>(decimals)};
}

// Shortest text that reads back as the same double; valid JSON for finite values.
std::string shortest(double v) {
  if (v == 0) return "0";  // never "-0"
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  return ec == std::errc() ? std::string(buf, end) : std::to_string(v);
}

double round_significant(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*g", digits, v);
  const double rounded = std::strtod(buf, nullptr);
  return rounded == 0 ? 0.0 : rounded;
}

// One line of flow-style YAML, so a value reads as it was written.
std::string flow_text(const YAML::Node& node) {
  YAML::Emitter out;
  out.SetSeqFormat(YAML::Flow);
  out.SetMapFormat(YAML::Flow);
  manifest::emit_node(out, node);
  return out.c_str();
}

// True when a YAML reader would not take `s`, written plain, for a string.
bool reads_as_non_string(const std::string& s) {
  if (s.empty() || parse_decimal(s)) return true;
  std::string lower;
  for (char c : s) lower += static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  for (const char* word :
       {"true", "false", "null", "~", "yes", "no", "on", "off", ".inf", "-.inf", "+.inf", ".nan"}) {
    if (lower == word) return true;
  }
  return lower.starts_with("0x") || lower.starts_with("0o");
}

Leaf make_leaf(const YAML::Node& node) {
  Leaf leaf;
  // Quotes only where they carry meaning: "3.11" (a string, not a number)
  // keeps them, "degraded" does not need them.
  const bool plain_string =
      node.IsScalar() && node.Tag() == "!" && !reads_as_non_string(node.Scalar());
  leaf.text = plain_string ? node.Scalar() : flow_text(node);
  leaf.json = manifest::yaml_to_json(node);
  // Quoted in the source means the author wants a string, whatever it looks like.
  if (node.IsScalar() && node.Tag() != "!") {
    if (auto d = parse_decimal(node.Scalar())) {
      leaf.number = d->value;
      leaf.decimals = d->decimals;
      // YAML numbers JSON cannot spell (".5", "+1", "007") still go out as numbers.
      if (!json::is_number(node.Scalar())) leaf.json = json::Number{shortest(d->value)};
    }
  }
  return leaf;
}

Leaf text_leaf(const std::string& text) {
  return Leaf{text, json::Value(text), std::nullopt, 0};
}

void flatten_into(const YAML::Node& node, const std::string& prefix, Leaves& out) {
  for (const auto& kv : node) {
    const std::string name = kv.first.IsScalar() ? kv.first.Scalar() : flow_text(kv.first);
    const std::string key = prefix.empty() ? name : prefix + "." + name;
    // An empty map stays a leaf ("{}"), so a key that lost its contents still shows.
    if (kv.second.IsMap() && kv.second.size() > 0) {
      flatten_into(kv.second, key, out);
    } else {
      out.emplace_back(key, make_leaf(kv.second));
    }
  }
}

// Visits every key of either side: A's order, then what only B has. A key
// written twice (a dotted key next to the nested form) counts once.
template <typename Visit>
void merge(const Leaves& a, const Leaves& b, Visit&& visit) {
  std::map<std::string, const Leaf*> in_a;
  std::map<std::string, const Leaf*> in_b;
  for (const auto& [k, v] : a) in_a.emplace(k, &v);
  for (const auto& [k, v] : b) in_b.emplace(k, &v);
  std::set<std::string> seen;
  for (const auto& [k, v] : a) {
    if (!seen.insert(k).second) continue;
    auto it = in_b.find(k);
    visit(k, in_a.at(k), it == in_b.end() ? nullptr : it->second);
  }
  for (const auto& [k, v] : b) {
    if (in_a.count(k) || !seen.insert(k).second) continue;
    visit(k, nullptr, in_b.at(k));
  }
}

Status status_of(const Leaf* old_value, const Leaf* new_value) {
  if (!old_value) return Status::kAdded;
  if (!new_value) return Status::kRemoved;
  return old_value->text == new_value->text ? Status::kUnchanged : Status::kChanged;
}

std::optional<Leaf> copy_of(const Leaf* leaf) {
  return leaf ? std::optional<Leaf>(*leaf) : std::nullopt;
}

std::vector<ValueChange> compare_values(const Leaves& a, const Leaves& b) {
  std::vector<ValueChange> out;
  merge(a, b, [&](const std::string& key, const Leaf* o, const Leaf* n) {
    out.push_back(ValueChange{key, status_of(o, n), copy_of(o), copy_of(n)});
  });
  return out;
}

std::map<std::string, std::string> goals_of(const manifest::Manifest& m) {
  std::map<std::string, std::string> goals;
  for (const auto& [key, leaf] : flatten(m.metric_goals)) {
    if (leaf.text == "max" || leaf.text == "min") goals.emplace(key, leaf.text);
  }
  return goals;
}

void measure(MetricChange& m) {
  const double old_number = *m.old_value->number;
  const double new_number = *m.new_value->number;
  double change = new_number - old_number;
  if (!std::isfinite(change)) return;
  const int decimals = std::max(m.old_value->decimals, m.new_value->decimals);
  if (decimals <= 15 && std::fabs(change) < 1e15) {
    // Printing to the operands' decimals and reading back gives the double
    // nearest the exact decimal difference.
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*f", decimals, change);
    change = std::strtod(buf, nullptr);
    if (change == 0) {
      change = 0;  // not -0
      std::snprintf(buf, sizeof buf, "%.*f", decimals, 0.0);
    }
    m.abs_change_text = buf;
  } else {
    m.abs_change_text = shortest(change);
  }
  m.abs_change = change;
  if (old_number != 0) {
    m.rel_change_pct = round_significant(change / std::fabs(old_number) * 100, 12);
  }
  m.status = old_number == new_number ? Status::kUnchanged : Status::kChanged;
  if (m.goal.empty()) return;
  if (old_number == new_number) {
    m.verdict = Verdict::kUnchanged;
  } else {
    const bool rose = new_number > old_number;
    m.verdict = rose == (m.goal == "max") ? Verdict::kBetter : Verdict::kWorse;
  }
}

std::vector<MetricChange> compare_metrics(const manifest::Manifest& a,
                                          const manifest::Manifest& b) {
  const auto goals_a = goals_of(a);
  const auto goals_b = goals_of(b);
  std::vector<MetricChange> out;
  merge(flatten(a.metrics), flatten(b.metrics),
        [&](const std::string& key, const Leaf* o, const Leaf* n) {
          MetricChange m;
          m.key = key;
          m.status = status_of(o, n);
          m.old_value = copy_of(o);
          m.new_value = copy_of(n);
          if (auto it = goals_b.find(key); it != goals_b.end()) {
            m.goal = it->second;
          } else if (auto it_a = goals_a.find(key); it_a != goals_a.end()) {
            m.goal = it_a->second;
          }
          if (o && n && o->number && n->number) measure(m);
          out.push_back(std::move(m));
        });
  return out;
}

struct Column {
  std::string name;
  std::optional<std::string> type;
};

std::vector<Column> schema_of(const manifest::Manifest& m) {
  std::vector<Column> columns;
  // A missing key is an invalid node in yaml-cpp: IsDefined() is the only safe first question.
  if (!m.preprocessing.IsDefined() || !m.preprocessing.IsMap()) return columns;
  const YAML::Node schema = m.preprocessing["input_schema"];
  if (!schema.IsDefined() || !schema.IsSequence()) return columns;
  std::set<std::string> seen;
  for (const auto& col : schema) {
    if (!col.IsMap()) continue;
    const YAML::Node name = col["name"];
    if (!name.IsDefined() || !name.IsScalar()) continue;
    Column c{name.Scalar(), std::nullopt};
    const YAML::Node type = col["type"];
    if (type.IsDefined() && !type.IsNull()) {
      c.type = type.IsScalar() ? type.Scalar() : flow_text(type);
    }
    if (seen.insert(c.name).second) columns.push_back(std::move(c));
  }
  return columns;
}

std::vector<SchemaColumn> compare_schema(const manifest::Manifest& a, const manifest::Manifest& b) {
  const auto cols_a = schema_of(a);
  const auto cols_b = schema_of(b);
  std::map<std::string, std::size_t> index_a;
  std::map<std::string, std::size_t> index_b;
  for (std::size_t i = 0; i < cols_a.size(); ++i) index_a.emplace(cols_a[i].name, i);
  for (std::size_t i = 0; i < cols_b.size(); ++i) index_b.emplace(cols_b[i].name, i);
  // Rank among the columns both sides have: an added or removed column shifts
  // positions, but only a reordering of the common columns is a move.
  std::map<std::string, std::size_t> rank_a;
  std::map<std::string, std::size_t> rank_b;
  for (const auto& c : cols_a) {
    if (index_b.count(c.name)) rank_a.emplace(c.name, rank_a.size());
  }
  for (const auto& c : cols_b) {
    if (index_a.count(c.name)) rank_b.emplace(c.name, rank_b.size());
  }
  std::vector<SchemaColumn> out;
  for (std::size_t i = 0; i < cols_a.size(); ++i) {
    SchemaColumn s;
    s.name = cols_a[i].name;
    s.old_type = cols_a[i].type;
    s.old_index = i;
    auto it = index_b.find(s.name);
    if (it == index_b.end()) {
      s.status = Status::kRemoved;
    } else {
      s.new_type = cols_b[it->second].type;
      s.new_index = it->second;
      s.moved = rank_a.at(s.name) != rank_b.at(s.name);
      s.status = s.type_changed() || s.moved ? Status::kChanged : Status::kUnchanged;
    }
    out.push_back(std::move(s));
  }
  for (std::size_t i = 0; i < cols_b.size(); ++i) {
    if (index_a.count(cols_b[i].name)) continue;
    SchemaColumn s;
    s.name = cols_b[i].name;
    s.status = Status::kAdded;
    s.new_type = cols_b[i].type;
    s.new_index = i;
    out.push_back(std::move(s));
  }
  return out;
}

// What a reviewer reads as "about this model", keyed by manifest path.
Leaves metadata_of(const manifest::Manifest& m) {
  Leaves out;
  if (!m.description.empty()) out.emplace_back("description", text_leaf(m.description));
  for (auto& kv : flatten(m.model, "model")) out.push_back(std::move(kv));
  for (auto& kv : flatten(m.metadata, "metadata")) out.push_back(std::move(kv));
  if (!m.git_commit.empty()) out.emplace_back("source.git_commit", text_leaf(m.git_commit));
  return out;
}

std::vector<FileChange> compare_files(const manifest::Manifest& a, const manifest::Manifest& b) {
  std::map<std::string, FileChange> by_path;
  for (const auto& f : a.files) by_path[f.path].old_file = f;
  for (const auto& f : b.files) by_path[f.path].new_file = f;
  std::vector<FileChange> out;
  for (auto& [path, change] : by_path) {
    change.path = path;
    if (!change.old_file) {
      change.status = Status::kAdded;
    } else if (!change.new_file) {
      change.status = Status::kRemoved;
    } else {
      const bool same = change.old_file->sha256 == change.new_file->sha256 &&
                        change.old_file->role == change.new_file->role;
      change.status = same ? Status::kUnchanged : Status::kChanged;
    }
    out.push_back(std::move(change));
  }
  return out;
}

json::Value leaf_json(const std::optional<Leaf>& leaf) {
  return leaf ? leaf->json : json::Value();
}

template <typename T>
json::Value or_null(const std::optional<T>& v) {
  return v ? json::Value(*v) : json::Value();
}

json::Value counts_json(const Counts& c) {
  json::Value j = json::Value::object();
  j.set("added", static_cast<std::uint64_t>(c.added));
  j.set("removed", static_cast<std::uint64_t>(c.removed));
  j.set("changed", static_cast<std::uint64_t>(c.changed));
  j.set("unchanged", static_cast<std::uint64_t>(c.unchanged));
  return j;
}

json::Value values_json(const std::vector<ValueChange>& values) {
  json::Value arr = json::Value::array();
  for (const auto& v : values) {
    json::Value e = json::Value::object();
    e.set("key", v.key);
    e.set("status", status_name(v.status));
    e.set("old", leaf_json(v.old_value));
    e.set("new", leaf_json(v.new_value));
    arr.push(std::move(e));
  }
  return arr;
}

json::Value side_json(const SideInfo& s) {
  json::Value j = json::Value::object();
  j.set("ref", s.ref);
  j.set("name", s.name);
  j.set("version", s.version);
  j.set("digest", "sha256:" + s.digest);
  j.set("created", s.created);
  j.set("source", s.source);
  j.set("signed", s.is_signed);
  return j;
}

}  // namespace

Leaves flatten(const YAML::Node& section, const std::string& prefix) {
  Leaves out;
  if (section.IsDefined() && section.IsMap()) flatten_into(section, prefix, out);
  return out;
}

std::string_view status_name(Status status) {
  switch (status) {
    case Status::kAdded:
      return "added";
    case Status::kRemoved:
      return "removed";
    case Status::kChanged:
      return "changed";
    case Status::kUnchanged:
      return "unchanged";
  }
  return "";
}

std::string_view verdict_name(Verdict verdict) {
  switch (verdict) {
    case Verdict::kBetter:
      return "better";
    case Verdict::kWorse:
      return "worse";
    case Verdict::kUnchanged:
      return "unchanged";
    case Verdict::kNone:
      return "";
  }
  return "";
}

std::optional<double> parse_number(std::string_view text) {
  if (auto d = parse_decimal(text)) return d->value;
  return std::nullopt;
}

bool SchemaColumn::type_changed() const {
  return old_index && new_index && old_type != new_type;
}

std::int64_t FileChange::size_delta() const {
  const auto size = [](const std::optional<manifest::FileEntry>& f) {
    return f ? static_cast<std::int64_t>(f->size) : std::int64_t{0};
  };
  return size(new_file) - size(old_file);
}

const MetricChange* Diff::find_metric(std::string_view key) const {
  for (const auto& m : metrics) {
    if (m.key == key) return &m;
  }
  return nullptr;
}

Diff compare(const manifest::Manifest& a, const manifest::Manifest& b) {
  Diff d;
  d.a_label = a.name + ":" + a.version;
  d.b_label = b.name + ":" + b.version;
  d.metrics = compare_metrics(a, b);
  d.params = compare_values(flatten(a.params), flatten(b.params));
  d.schema = compare_schema(a, b);
  d.metadata = compare_values(metadata_of(a), metadata_of(b));
  d.environment = compare_values(flatten(a.environment), flatten(b.environment));
  d.files = compare_files(a, b);
  return d;
}

std::string signed_text(const MetricChange& m) {
  if (!m.abs_change) return "";
  return *m.abs_change > 0 ? "+" + m.abs_change_text : m.abs_change_text;
}

std::string signed_percent(double pct, int decimals) {
  char buf[64];
  if (pct == 0) {
    std::snprintf(buf, sizeof buf, "%.*f%%", decimals, 0.0);
  } else {
    std::snprintf(buf, sizeof buf, "%+.*f%%", decimals, pct);
  }
  return buf;
}

json::Value to_json(const Diff& diff, const SideInfo& a, const SideInfo& b) {
  json::Value out = json::Value::object();
  out.set("a", side_json(a));
  out.set("b", side_json(b));

  json::Value metrics = json::Value::array();
  std::size_t better = 0;
  std::size_t worse = 0;
  for (const auto& m : diff.metrics) {
    json::Value e = json::Value::object();
    e.set("key", m.key);
    e.set("status", status_name(m.status));
    e.set("old", leaf_json(m.old_value));
    e.set("new", leaf_json(m.new_value));
    // "0.00" is the human text of no change; JSON gets plain 0.
    e.set("abs_change", !m.abs_change        ? json::Value()
                        : *m.abs_change == 0 ? json::Value(0)
                                             : json::Value(json::Number{m.abs_change_text}));
    e.set("rel_change_pct", m.rel_change_pct
                                ? json::Value(json::Number{shortest(*m.rel_change_pct)})
                                : json::Value());
    e.set("goal", m.goal.empty() ? json::Value() : json::Value(m.goal));
    e.set("verdict", m.verdict == Verdict::kNone ? json::Value() : verdict_name(m.verdict));
    metrics.push(std::move(e));
    better += m.verdict == Verdict::kBetter;
    worse += m.verdict == Verdict::kWorse;
  }
  out.set("metrics", std::move(metrics));
  out.set("params", values_json(diff.params));

  json::Value schema = json::Value::array();
  for (const auto& c : diff.schema) {
    json::Value e = json::Value::object();
    e.set("column", c.name);
    e.set("status", status_name(c.status));
    e.set("old_type", or_null(c.old_type));
    e.set("new_type", or_null(c.new_type));
    e.set("old_index",
          c.old_index ? json::Value(static_cast<std::uint64_t>(*c.old_index)) : nullptr);
    e.set("new_index",
          c.new_index ? json::Value(static_cast<std::uint64_t>(*c.new_index)) : nullptr);
    e.set("type_changed", c.type_changed());
    e.set("moved", c.moved);
    schema.push(std::move(e));
  }
  out.set("schema", std::move(schema));
  out.set("metadata", values_json(diff.metadata));
  out.set("environment", values_json(diff.environment));

  json::Value files = json::Value::array();
  std::int64_t size_delta = 0;
  for (const auto& f : diff.files) {
    json::Value e = json::Value::object();
    e.set("path", f.path);
    e.set("status", status_name(f.status));
    e.set("old_role", f.old_file ? json::Value(f.old_file->role) : nullptr);
    e.set("new_role", f.new_file ? json::Value(f.new_file->role) : nullptr);
    e.set("old_size", f.old_file ? json::Value(f.old_file->size) : nullptr);
    e.set("new_size", f.new_file ? json::Value(f.new_file->size) : nullptr);
    e.set("size_delta", f.size_delta());
    e.set("old_sha256", f.old_file ? json::Value(f.old_file->sha256) : nullptr);
    e.set("new_sha256", f.new_file ? json::Value(f.new_file->sha256) : nullptr);
    files.push(std::move(e));
    size_delta += f.size_delta();
  }
  out.set("files", std::move(files));

  json::Value summary = json::Value::object();
  summary.set("identical", a.digest == b.digest);
  json::Value metric_counts = counts_json(Diff::counts(diff.metrics));
  metric_counts.set("better", static_cast<std::uint64_t>(better));
  metric_counts.set("worse", static_cast<std::uint64_t>(worse));
  summary.set("metrics", std::move(metric_counts));
  summary.set("params", counts_json(Diff::counts(diff.params)));
  json::Value schema_counts = counts_json(Diff::counts(diff.schema));
  schema_counts.set("breaking", diff.schema_changed());
  summary.set("schema", std::move(schema_counts));
  summary.set("metadata", counts_json(Diff::counts(diff.metadata)));
  summary.set("environment", counts_json(Diff::counts(diff.environment)));
  json::Value file_counts = counts_json(Diff::counts(diff.files));
  file_counts.set("size_delta", size_delta);
  summary.set("files", std::move(file_counts));
  out.set("summary", std::move(summary));
  return out;
}

}  // namespace mlpack::diff
