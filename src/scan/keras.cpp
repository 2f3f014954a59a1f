// A Keras Lambda layer stores a Python function with the model: marshalled
// bytecode for an inline lambda, or a module and name to import. Loading the
// model (with safe_mode off, or in Keras 2 always) runs it, so every Lambda
// is a finding. Other layers are configuration only.
#include <algorithm>
#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "mlpack/scan/scan.hpp"
#include "mlpack/util/error.hpp"
#include "mlpack/util/json.hpp"
#include "mlpack/util/text.hpp"

namespace mlpack::scan {
namespace {

// Model configs nest a level or two per wrapped model or layer; real ones
// stay far below this, while it still bounds the recursion of the walk.
constexpr int kMaxConfigDepth = 128;
// Bounds the parsed tree's memory (~50 bytes a value).
constexpr std::size_t kMaxConfigValues = 4'000'000;
// A file could hold a Lambda per layer; the first ones say enough.
constexpr std::size_t kMaxFindings = 100;
constexpr std::size_t kChunk = 64 * 1024;

std::string shown(std::string_view s) {
  constexpr std::size_t kMax = 120;
  std::string out = text::escape_control(s.substr(0, kMax));
  if (s.size() > kMax) out += "...";
  return out;
}

const std::string* string_member(const json::Value* v, std::string_view key) {
  const json::Value* m = v ? v->find(key) : nullptr;
  return m && m->is_string() ? &m->as_string() : nullptr;
}

// What a Lambda layer's "function" says it runs, in both layouts:
//   Keras 3: {"module": M, "class_name": "function", "config": NAME, ...}
//            or {"class_name": "__lambda__", "config": {"code": ...}}
//   Keras 2: "function": NAME with "module": M beside it,
//            or "function": [bytecode, defaults, closure] for a lambda.
std::string describe_function(const json::Value* config) {
  const json::Value* fn = config ? config->find("function") : nullptr;
  if (!fn) return "";
  std::string module;
  std::string name;
  bool bytecode = false;
  if (fn->is_object()) {
    const std::string* cls = string_member(fn, "class_name");
    if (cls && *cls == "__lambda__") bytecode = true;
    if (const std::string* m = string_member(fn, "module")) module = *m;
    if (const std::string* n = string_member(fn, "config")) {
      name = *n;
    } else if (const std::string* r = string_member(fn, "registered_name")) {
      name = *r;
    }
  } else if (fn->is_string()) {
    name = fn->as_string();
    if (const std::string* m = string_member(config, "module")) module = *m;
  } else if (fn->is_array()) {
    bytecode = true;
  }
  if (bytecode) return "an inline lambda (marshalled Python bytecode)";
  if (name.empty()) return "";
  return "function " + shown(module.empty() ? name : module + "." + name);
}

class ConfigWalker {
 public:
  ConfigWalker(Report& report, const std::string& member) : report_(report), member_(member) {}

  // The parse already refused anything deeper than kMaxConfigDepth, so the
  // recursion here is bounded by it too.
  void walk(const json::Value& v) {
    if (v.is_array()) {
      for (const auto& item : v.as_array()) walk(item);
      return;
    }
    if (!v.is_object()) return;
    const std::string* cls = string_member(&v, "class_name");
    if (cls && *cls == "Lambda") lambda(v);
    for (const auto& [key, child] : v.as_object()) walk(child);
  }

  void finish() {
    if (count_ > kMaxFindings) {
      report_.add(Severity::kDangerous, "lambda-layer",
                  std::to_string(count_ - kMaxFindings) + " more Lambda layers not listed",
                  member_);
    }
  }

 private:
  void lambda(const json::Value& layer) {
    if (++count_ > kMaxFindings) return;
    const json::Value* config = layer.find("config");
    const std::string* name = string_member(config, "name");
    std::string detail = "Lambda layer";
    detail += name ? " '" + shown(*name) + "'" : " (unnamed)";
    std::string fn = describe_function(config);
    if (!fn.empty()) detail += " runs " + fn;
    report_.add(Severity::kDangerous, "lambda-layer", std::move(detail), member_);
  }

  Report& report_;
  const std::string& member_;
  std::size_t count_ = 0;
};

// --- HDF5 --------------------------------------------------------------------

// Keras writes the model_config attribute with Python's json.dumps, which
// puts ": " between a key and its value; the compact form is matched too.
constexpr std::string_view kKey = "\"class_name\"";
constexpr std::string_view kLambda = "\"Lambda\"";
constexpr std::size_t kMaxSpaces = 16;  // around the ':' of hand-formatted JSON
// How far a match (and the layer name after it) may reach past its start;
// the stream keeps this much of each chunk for the next one.
constexpr std::size_t kNameWindow = 160;
constexpr std::size_t kLookahead = kKey.size() + 2 * kMaxSpaces + 1 + kLambda.size() + kNameWindow;

bool is_json_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

// `"class_name"`, optional spaces, ':', optional spaces, `"Lambda"` at `pos`;
// returns the offset just past the match, or 0.
std::size_t match_lambda(std::string_view w, std::size_t pos) {
  std::size_t i = pos + kKey.size();
  std::size_t limit = std::min(w.size(), i + kMaxSpaces);
  while (i < limit && is_json_space(w[i])) ++i;
  if (i >= w.size() || w[i] != ':') return 0;
  ++i;
  limit = std::min(w.size(), i + kMaxSpaces);
  while (i < limit && is_json_space(w[i])) ++i;
  if (w.substr(i, kLambda.size()) != kLambda) return 0;
  return i + kLambda.size();
}

// Best effort: in both Keras layouts the layer's config, with its "name",
// follows the class name within a few dozen bytes.
std::string name_after(std::string_view w, std::size_t from) {
  std::string_view ahead = w.substr(from, kNameWindow);
  std::size_t key = ahead.find("\"name\"");
  if (key == std::string_view::npos) return "";
  std::size_t i = key + 6;
  while (i < ahead.size() && is_json_space(ahead[i])) ++i;
  if (i >= ahead.size() || ahead[i] != ':') return "";
  ++i;
  while (i < ahead.size() && is_json_space(ahead[i])) ++i;
  if (i >= ahead.size() || ahead[i] != '"') return "";
  std::size_t close = ahead.find('"', i + 1);
  if (close == std::string_view::npos) return "";
  return std::string(ahead.substr(i + 1, close - i - 1));
}

}  // namespace

void check_keras_config(std::string_view config_json, Report& report, const std::string& member) {
  json::Value doc;
  try {
    json::ParseOptions options;
    options.max_depth = kMaxConfigDepth;
    options.max_values = kMaxConfigValues;
    doc = json::parse(config_json, options);
  } catch (const UsageError& e) {
    report.add(Severity::kDangerous, "malformed",
               std::string("Keras config is not valid JSON: ") + e.what(), member);
    return;
  } catch (const std::bad_alloc&) {
    report.add(Severity::kDangerous, "malformed", "out of memory while reading the Keras config",
               member);
    return;
  }
  ConfigWalker walker(report, member);
  walker.walk(doc);
  walker.finish();
}

// This is a byte search, not an HDF5 parse: the model_config attribute is
// stored as plain JSON text inside the file, so its Lambda layers show up as
// `"class_name": "Lambda"` wherever HDF5 placed the attribute. A file whose
// config is stored compressed or split across heap blocks would hide it;
// Keras does neither. A weight array that happens to hold those bytes gives
// a false alarm, which errs on the safe side.
void check_keras_hdf5(Reader& in, Report& report, const std::string& member) {
  std::vector<std::uint8_t> chunk(kChunk);
  // The unexamined tail of the last chunk, then this one.
  std::string window;
  std::uint64_t window_start = 0;  // file offset of window[0]
  std::size_t count = 0;
  while (true) {
    std::size_t r = in.read(chunk);
    bool eof = r == 0;
    window.append(reinterpret_cast<const char*>(chunk.data()), r);
    // Only starts with their whole lookahead in the window are examined now;
    // the rest wait for the next chunk (or the end of the file), so a match
    // cut by a chunk boundary is seen exactly once.
    std::size_t examine = eof                          ? window.size()
                          : window.size() > kLookahead ? window.size() - kLookahead
                                                       : 0;
    std::string_view w = window;
    for (std::size_t pos = w.find(kKey); pos < examine; pos = w.find(kKey, pos + 1)) {
      std::size_t end = match_lambda(w, pos);
      if (!end) continue;
      if (++count > kMaxFindings) continue;
      std::string name = name_after(w, end);
      std::string detail = "Lambda layer";
      detail += name.empty() ? "" : " '" + shown(name) + "'";
      detail += " in the HDF5 model config at byte " + std::to_string(window_start + pos);
      report.add(Severity::kDangerous, "lambda-layer", std::move(detail), member);
    }
    window.erase(0, examine);
    window_start += examine;
    if (eof) break;
  }
  if (count > kMaxFindings) {
    report.add(Severity::kDangerous, "lambda-layer",
               std::to_string(count - kMaxFindings) + " more Lambda layers not listed", member);
  }
}

}  // namespace mlpack::scan
