// A small JSON value for `--json` output: objects keep insertion order so
// documented keys come out in a stable order, and numbers keep the exact text
// they were read with (a metric of 0.970 stays 0.970, never 0.96999...).
#pragma once

#include <cstdint>
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

  std::string dump(int indent = 2) const;

 private:
  void dump_to(std::string& out, int indent, int depth) const;
  std::variant<std::nullptr_t, bool, Number, std::string, Array, Object> v_;
};

std::string escape(std::string_view s);
// True when `text` is a JSON number.
bool is_number(std::string_view text);

}  // namespace mlpack::json
