// Reading JSON that comes from outside: model headers and configs that may
// have been written to hurt the reader. Every limit is checked before the
// work it guards, and every failure is one UsageError with the byte offset.
#include <algorithm>
#include <cstdint>

#include "mlpack/util/error.hpp"
#include "mlpack/util/json.hpp"
#include "mlpack/util/text.hpp"

namespace mlpack::json {
namespace {

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

class Parser {
 public:
  Parser(std::string_view text, const ParseOptions& options) : text_(text), options_(options) {}

  Value document() {
    skip_space();
    Value v = value(0);
    skip_space();
    if (pos_ < text_.size()) fail("unexpected " + describe_here() + " after the value");
    return v;
  }

 private:
  [[noreturn]] void fail(const std::string& why) const {
    throw UsageError("invalid JSON at byte " + std::to_string(pos_) + ": " + why);
  }

  // What sits at pos_, for messages: the text is hostile, so a byte that is
  // not printable ASCII is shown as a number rather than sent to a terminal.
  std::string describe_here() const {
    if (pos_ >= text_.size()) return "end of text";
    unsigned char c = static_cast<unsigned char>(text_[pos_]);
    if (c > 0x20 && c < 0x7f) return std::string("'") + static_cast<char>(c) + "'";
    static constexpr char kHex[] = "0123456789abcdef";
    return std::string("byte 0x") + kHex[c >> 4] + kHex[c & 0xf];
  }

  void skip_space() {
    while (pos_ < text_.size() && is_space(text_[pos_])) ++pos_;
  }

  bool at(char c) const { return pos_ < text_.size() && text_[pos_] == c; }

  void expect(char c, const char* what) {
    skip_space();
    if (!at(c)) fail(std::string("expected ") + what + ", found " + describe_here());
    ++pos_;
  }

  void count_value() {
    if (++values_ > options_.max_values) {
      fail("more than " + std::to_string(options_.max_values) + " values");
    }
  }

  Value value(int depth) {
    count_value();
    if (pos_ >= text_.size()) fail("unexpected end of text");
    char c = text_[pos_];
    switch (c) {
      case '{':
        return object(depth + 1);
      case '[':
        return array(depth + 1);
      case '"':
        return Value(string());
      case 't':
        literal("true");
        return Value(true);
      case 'f':
        literal("false");
        return Value(false);
      case 'n':
        literal("null");
        return Value(nullptr);
      default:
        if (c == '-' || is_digit(c)) return Value(Number{number()});
        fail("unexpected " + describe_here());
    }
  }

  void enter(int depth) const {
    if (depth > options_.max_depth) {
      fail("nested deeper than " + std::to_string(options_.max_depth) + " levels");
    }
  }

  Value object(int depth) {
    enter(depth);
    ++pos_;  // '{'
    Object members;
    skip_space();
    if (at('}')) {
      ++pos_;
      return Value(std::move(members));
    }
    while (true) {
      skip_space();
      if (!at('"')) fail("expected a string key, found " + describe_here());
      std::string key = string();
      expect(':', "':'");
      skip_space();
      Value v = value(depth);
      members.emplace_back(std::move(key), std::move(v));
      skip_space();
      if (at(',')) {
        ++pos_;
        continue;
      }
      if (at('}')) {
        ++pos_;
        break;
      }
      fail("expected ',' or '}', found " + describe_here());
    }
    if (options_.has_duplicate_keys && !*options_.has_duplicate_keys && members.size() > 1) {
      // Sorting views is O(n log n); comparing every pair would let a header
      // of a million keys take hours.
      std::vector<std::string_view> keys;
      keys.reserve(members.size());
      for (const auto& [k, v] : members) keys.emplace_back(k);
      std::sort(keys.begin(), keys.end());
      if (std::adjacent_find(keys.begin(), keys.end()) != keys.end()) {
        *options_.has_duplicate_keys = true;
      }
    }
    return Value(std::move(members));
  }

  Value array(int depth) {
    enter(depth);
    ++pos_;  // '['
    Array items;
    skip_space();
    if (at(']')) {
      ++pos_;
      return Value(std::move(items));
    }
    while (true) {
      skip_space();
      items.push_back(value(depth));
      skip_space();
      if (at(',')) {
        ++pos_;
        continue;
      }
      if (at(']')) {
        ++pos_;
        break;
      }
      fail("expected ',' or ']', found " + describe_here());
    }
    return Value(std::move(items));
  }

  void literal(std::string_view word) {
    if (text_.substr(pos_, word.size()) != word) fail("unexpected " + describe_here());
    pos_ += word.size();
  }

  std::string number() {
    std::size_t start = pos_;
    while (pos_ < text_.size()) {
      char c = text_[pos_];
      if (!is_digit(c) && c != '-' && c != '+' && c != '.' && c != 'e' && c != 'E') break;
      ++pos_;
    }
    std::string_view text = text_.substr(start, pos_ - start);
    if (!is_number(text)) {
      pos_ = start;
      fail("malformed number");
    }
    return std::string(text);
  }

  std::uint32_t hex4() {
    if (text_.size() - pos_ < 4) fail("truncated \\u escape");
    std::uint32_t v = 0;
    for (int i = 0; i < 4; ++i) {
      int h = hex_value(text_[pos_]);
      if (h < 0) fail("bad hex digit in a \\u escape");
      v = (v << 4) | static_cast<std::uint32_t>(h);
      ++pos_;
    }
    return v;
  }

  void escape(std::string& out) {
    ++pos_;  // '\\'
    if (pos_ >= text_.size()) fail("unterminated string");
    char c = text_[pos_++];
    switch (c) {
      case '"':
        out += '"';
        return;
      case '\\':
        out += '\\';
        return;
      case '/':
        out += '/';
        return;
      case 'b':
        out += '\b';
        return;
      case 'f':
        out += '\f';
        return;
      case 'n':
        out += '\n';
        return;
      case 'r':
        out += '\r';
        return;
      case 't':
        out += '\t';
        return;
      case 'u':
        break;
      default:
        --pos_;
        fail("unknown escape \\" + describe_here());
    }
    std::uint32_t cp = hex4();
    if (cp >= 0xDC00 && cp <= 0xDFFF) fail("lone low surrogate in a \\u escape");
    if (cp >= 0xD800 && cp <= 0xDBFF) {
      // A character above U+FFFF comes as a pair; half a pair has no UTF-8 form.
      if (text_.substr(pos_, 2) != "\\u") fail("high surrogate without its low half");
      pos_ += 2;
      std::uint32_t low = hex4();
      if (low < 0xDC00 || low > 0xDFFF) fail("high surrogate without its low half");
      cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
    }
    text::append_utf8(out, cp);
  }

  // Copies one UTF-8 sequence, refusing overlong forms, surrogates and code
  // points past U+10FFFF, so every string parse() returns is valid UTF-8.
  void utf8(std::string& out) {
    auto lead = static_cast<unsigned char>(text_[pos_]);
    std::size_t len;
    std::uint32_t cp;
    std::uint32_t min;
    if ((lead & 0xE0) == 0xC0) {
      len = 2, cp = lead & 0x1Fu, min = 0x80;
    } else if ((lead & 0xF0) == 0xE0) {
      len = 3, cp = lead & 0x0Fu, min = 0x800;
    } else if ((lead & 0xF8) == 0xF0) {
      len = 4, cp = lead & 0x07u, min = 0x10000;
    } else {
      fail("invalid UTF-8");
    }
    if (text_.size() - pos_ < len) fail("invalid UTF-8");
    for (std::size_t k = 1; k < len; ++k) {
      auto cont = static_cast<unsigned char>(text_[pos_ + k]);
      if ((cont & 0xC0) != 0x80) fail("invalid UTF-8");
      cp = (cp << 6) | (cont & 0x3Fu);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) fail("invalid UTF-8");
    out.append(text_.substr(pos_, len));
    pos_ += len;
  }

  std::string string() {
    std::size_t open = pos_;
    ++pos_;  // '"'
    std::string out;
    while (true) {
      if (pos_ >= text_.size()) {
        pos_ = open;
        fail("unterminated string");
      }
      auto c = static_cast<unsigned char>(text_[pos_]);
      if (c == '"') {
        ++pos_;
        return out;
      }
      if (c == '\\') {
        escape(out);
      } else if (c < 0x20) {
        fail("control character in a string");
      } else if (c < 0x80) {
        // Runs of plain ASCII are copied at once: strings of megabytes are
        // normal in configs.
        std::size_t end = pos_ + 1;
        while (end < text_.size()) {
          auto d = static_cast<unsigned char>(text_[end]);
          if (d == '"' || d == '\\' || d < 0x20 || d >= 0x80) break;
          ++end;
        }
        out.append(text_.substr(pos_, end - pos_));
        pos_ = end;
      } else {
        utf8(out);
      }
    }
  }

  std::string_view text_;
  const ParseOptions& options_;
  std::size_t pos_ = 0;
  std::size_t values_ = 0;
};

[[noreturn]] void wrong_kind(const char* wanted) {
  throw UsageError(std::string("JSON value is not ") + wanted);
}

}  // namespace

Value parse(std::string_view text, int max_depth) {
  ParseOptions options;
  options.max_depth = max_depth;
  return parse(text, options);
}

Value parse(std::string_view text, const ParseOptions& options) {
  if (options.has_duplicate_keys) *options.has_duplicate_keys = false;
  return Parser(text, options).document();
}

bool Value::as_bool() const {
  if (auto* b = std::get_if<bool>(&v_)) return *b;
  wrong_kind("a boolean");
}

const std::string& Value::as_string() const {
  if (auto* s = std::get_if<std::string>(&v_)) return *s;
  wrong_kind("a string");
}

const Array& Value::as_array() const {
  if (auto* a = std::get_if<Array>(&v_)) return *a;
  wrong_kind("an array");
}

const Object& Value::as_object() const {
  if (auto* o = std::get_if<Object>(&v_)) return *o;
  wrong_kind("an object");
}

const std::string& Value::number_text() const {
  if (auto* n = std::get_if<Number>(&v_)) return n->text;
  wrong_kind("a number");
}

const Value* Value::find(std::string_view key) const {
  auto* o = std::get_if<Object>(&v_);
  if (!o) return nullptr;
  for (const auto& [k, v] : *o) {
    if (k == key) return &v;
  }
  return nullptr;
}

}  // namespace mlpack::json
