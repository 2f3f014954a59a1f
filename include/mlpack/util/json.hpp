// A small JSON value for `--json` output: objects keep insertion order so
// documented keys come out in a stable order, and numbers keep the exact text
// they were read with (a metric of 0.970 stays 0.970, never 0.96999...).
// parse() reads JSON back, with limits, for documents that come from outside
// (model headers and configs being scanned).
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace mlpack::json {

class Value;
using Array = std::vector<Value>;
using Object = std::vector<std::pair<std::string, Value>>;

struct Number {
  std::string text;  // already valid JSON number syntax
};

class Value {
 public:
  Value() : v_(nullptr) {}
  Value(std::nullptr_t) : v_(nullptr) {}
  Value(bool b) : v_(b) {}
  Value(int i) : v_(Number{std::to_string(i)}) {}
  Value(std::int64_t i) : v_(Number{std::to_string(i)}) {}
  Value(std::uint64_t i) : v_(Number{std::to_string(i)}) {}
  Value(Number n) : v_(std::move(n)) {}
  Value(const char* s) : v_(std::string(s)) {}
  Value(std::string s) : v_(std::move(s)) {}
  Value(std::string_view s) : v_(std::string(s)) {}
  Value(Array a) : v_(std::move(a)) {}
  Value(Object o) : v_(std::move(o)) {}

  static Value object() { return Value(Object{}); }
  static Value array() { return Value(Array{}); }

  // Appends to an object (key) or array (no key).
  Value& set(std::string key, Value value);
  Value& push(Value value);

  bool is_object() const { return std::holds_alternative<Object>(v_); }
  bool is_null() const { return std::holds_alternative<std::nullptr_t>(v_); }
  bool is_bool() const { return std::holds_alternative<bool>(v_); }
  bool is_number() const { return std::holds_alternative<Number>(v_); }
  bool is_string() const { return std::holds_alternative<std::string>(v_); }
  bool is_array() const { return std::holds_alternative<Array>(v_); }

  // Read access. Each throws UsageError when the value is of another kind, so
  // a caller that forgot to check the kind gets an error, never a crash.
  bool as_bool() const;
  const std::string& as_string() const;
  const Array& as_array() const;
  const Object& as_object() const;
  const std::string& number_text() const;  // a Number's text, exactly as read
  // The first member named `key` of an object; nullptr when there is none or
  // this is not an object.
  const Value* find(std::string_view key) const;

  std::string dump(int indent = 2) const;

 private:
  void dump_to(std::string& out, int indent, int depth) const;
  std::variant<std::nullptr_t, bool, Number, std::string, Array, Object> v_;
};

struct ParseOptions {
  // Containers nested deeper than this are refused (parse() recurses once
  // per level, so this bounds the stack).
  int max_depth = 64;
  // Values (scalars and containers) allowed in the whole document: a parsed
  // value takes tens of bytes, so a short text of "[0,0,0,..." would
  // otherwise cost far more memory than its size suggests.
  std::size_t max_values = std::numeric_limits<std::size_t>::max();
  // When set, receives whether any object repeats a key. Duplicates are kept
  // (objects are lists of members), so a caller that must refuse them can.
  bool* has_duplicate_keys = nullptr;
};

// Parses one JSON document (RFC 8259): strictly UTF-8, no comments, no
// trailing commas, nothing but whitespace after the value. Numbers keep their
// text. Throws UsageError, with a one-line message naming the byte offset, on
// anything else.
Value parse(std::string_view text, int max_depth = 64);
Value parse(std::string_view text, const ParseOptions& options);

std::string escape(std::string_view s);
// True when `text` is a JSON number.
bool is_number(std::string_view text);

}  // namespace mlpack::json
