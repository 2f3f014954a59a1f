// Compares two manifests the way a reviewer reads a model change: metrics with
// their deltas judged by metric_goals, params, the input schema (whose changes
// break callers), metadata, environment and files. No I/O, no printing.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mlpack/manifest/manifest.hpp"
#include "mlpack/util/json.hpp"

namespace mlpack::diff {

// Every entry of every section has one of these, so consumers need one rule.
enum class Status { kAdded, kRemoved, kChanged, kUnchanged };
std::string_view status_name(Status status);

// A metric's verdict from its goal; kNone when it has no goal or cannot be
// compared (added, removed, not a number).
enum class Verdict { kNone, kBetter, kWorse, kUnchanged };
std::string_view verdict_name(Verdict verdict);  // "" for kNone

// One leaf of a flattened section (nested maps become dotted keys).
struct Leaf {
  // As written in the manifest, on one line; a string keeps its quotes only
  // when it would otherwise read as a number, boolean or null ("3.11").
  std::string text;
  json::Value json;              // for --json: numbers as numbers, strings as strings
  std::optional<double> number;  // set when the value is a plain decimal number
  int decimals = 0;              // of `number` as written: 2 for 0.97, 3 for 1e-3
};

// A section flattened to (dotted key, leaf), in manifest order: nested maps
// become "eval.f1"; `prefix` is put before every key.
using Leaves = std::vector<std::pair<std::string, Leaf>>;
Leaves flatten(const YAML::Node& section, const std::string& prefix = "");

// A plain decimal number as YAML writes one ("0.97", "-1e-3", "42"); quoted
// strings, inf and nan are not numbers here.
std::optional<double> parse_number(std::string_view text);

struct MetricChange {
  std::string key;
  Status status = Status::kUnchanged;
  std::optional<Leaf> old_value;
  std::optional<Leaf> new_value;
  // Set when both sides are numbers. The change is exact in decimal: it is
  // rounded to the decimals of its operands, so 0.95 - 0.96 is -0.01, not
  // -0.010000000000000009, and a gate's boundary means what it says.
  std::optional<double> abs_change;
  std::string abs_change_text;  // "-0.0134", no sign when positive; empty when unset
  // Percent of |old|, to 12 significant digits; unset when old is 0.
  std::optional<double> rel_change_pct;
  std::string goal;  // "max", "min" or empty
  Verdict verdict = Verdict::kNone;
};

// A key of params, metadata or environment.
struct ValueChange {
  std::string key;
  Status status = Status::kUnchanged;
  std::optional<Leaf> old_value;
  std::optional<Leaf> new_value;
};

// A column of preprocessing.input_schema. Changed means its type differs or
// its order relative to the other columns both sides have differs; every
// status but unchanged breaks callers that send the old inputs.
struct SchemaColumn {
  std::string name;
  Status status = Status::kUnchanged;
  std::optional<std::string> old_type;  // unset when absent (or no type given)
  std::optional<std::string> new_type;
  std::optional<std::size_t> old_index;  // 0-based position, when present
  std::optional<std::size_t> new_index;
  bool moved = false;  // its order relative to the common columns changed
  bool type_changed() const;
};

struct FileChange {
  std::string path;
  Status status = Status::kUnchanged;  // changed: other digest or role
  std::optional<manifest::FileEntry> old_file;
  std::optional<manifest::FileEntry> new_file;
  std::int64_t size_delta() const;  // new - old, absent sides count as 0
};

struct Counts {
  std::size_t added = 0, removed = 0, changed = 0, unchanged = 0;
  bool any_change() const { return added + removed + changed > 0; }
};

struct Diff {
  std::string a_label;  // NAME:VERSION of each side, for messages
  std::string b_label;
  std::vector<MetricChange> metrics;
  std::vector<ValueChange> params;
  std::vector<SchemaColumn> schema;
  std::vector<ValueChange> metadata;  // keyed by manifest path: description, model.*, metadata.*
  std::vector<ValueChange> environment;
  std::vector<FileChange> files;

  const MetricChange* find_metric(std::string_view key) const;
  bool schema_changed() const { return counts(schema).any_change(); }

  template <typename Entries>
  static Counts counts(const Entries& entries) {
    Counts c;
    for (const auto& e : entries) {
      switch (e.status) {
        case Status::kAdded:
          ++c.added;
          break;
        case Status::kRemoved:
          ++c.removed;
          break;
        case Status::kChanged:
          ++c.changed;
          break;
        case Status::kUnchanged:
          ++c.unchanged;
          break;
      }
    }
    return c;
  }
};

// Entries come in A's order, then what only B has in B's order; files are
// sorted by path. Goals come from B's metric_goals, falling back to A's, per
// metric; a goal may be nested like the metric or written with dots.
Diff compare(const manifest::Manifest& a, const manifest::Manifest& b);

// Text of a change with its sign ("+0.0120", "-2.50%", "0.0000").
std::string signed_text(const MetricChange& m);
std::string signed_percent(double pct, int decimals);

// Identifies one side in --json output.
struct SideInfo {
  std::string ref;     // as the user wrote it
  std::string digest;  // manifest hex
  std::string created;
  std::string name;
  std::string version;
  std::string source;  // "store" or "archive"
  bool is_signed = false;
};

// The --json document of `mlpack diff` (schema in man/mlpack-diff.1), up to
// and including "summary"; the command appends "fail_on" (fail_on.hpp).
json::Value to_json(const Diff& diff, const SideInfo& a, const SideInfo& b);

}  // namespace mlpack::diff
