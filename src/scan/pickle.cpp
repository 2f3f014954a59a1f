// The pickle scanner: a pickle virtual machine that builds no Python
// objects. It follows the stack and the memo closely enough to name every
// global a stream imports (GLOBAL, INST, STACK_GLOBAL with operands fetched
// from the memo) and to step over the raw array data joblib interleaves
// with its pickles, and it never trusts a length it has not bounded.
#include <array>
#include <charconv>
#include <cstdint>
#include <limits>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "mlpack/scan/scan.hpp"
#include "mlpack/util/text.hpp"

namespace mlpack::scan {

namespace {

// Bounds on what a hostile stream can make the scanner hold.
constexpr std::size_t kMaxValues = std::size_t{1} << 20;      // values built in one pickle
constexpr std::size_t kMaxRetained = std::size_t{256} << 20;  // bytes of text and container items
constexpr std::size_t kMaxMemo = std::size_t{1} << 20;
constexpr std::size_t kMaxLine = 64 * 1024;     // protocol 0 text operands
constexpr std::size_t kKeepText = 4096;         // of a string or bytes value
constexpr std::size_t kMaxLongBytes = 1 << 20;  // LONG4 operands
constexpr int kMaxNesting = 16;                 // joblib object arrays hold pickles

struct Malformed {
  std::string detail;
};

// Sequential access with an offset for messages; never reads past what an
// opcode needs, so a caller can go on reading after STOP.
class Input {
 public:
  Input(Reader& in, std::uint64_t offset) : in_(in), offset_(offset) {}

  Reader& reader() { return in_; }
  std::uint64_t offset() const { return offset_; }
  void set_offset(std::uint64_t offset) { offset_ = offset; }

  // -1 at the end of the input.
  int next_byte() {
    std::uint8_t b = 0;
    if (in_.read(std::span(&b, 1)) != 1) return -1;
    ++offset_;
    return b;
  }

  std::uint8_t byte(const char* what) {
    int b = next_byte();
    if (b < 0) throw Malformed{std::string("truncated in ") + what};
    return static_cast<std::uint8_t>(b);
  }

  std::uint64_t little_endian(int n, const char* what) {
    std::uint64_t v = 0;
    for (int i = 0; i < n; ++i) v |= std::uint64_t{byte(what)} << (8 * i);
    return v;
  }

  // Reads n bytes, keeping at most kKeepText of them.
  std::string bytes(std::uint64_t n, const char* what, bool* truncated = nullptr) {
    std::string kept;
    kept.reserve(static_cast<std::size_t>(std::min<std::uint64_t>(n, kKeepText)));
    std::array<std::uint8_t, 64 * 1024> buffer{};
    std::uint64_t left = n;
    while (left > 0) {
      const std::size_t want =
          static_cast<std::size_t>(std::min<std::uint64_t>(left, buffer.size()));
      const std::size_t got = in_.read(std::span(buffer.data(), want));
      if (got == 0) throw Malformed{std::string("truncated in ") + what};
      if (kept.size() < kKeepText) {
        const std::size_t take = std::min(got, kKeepText - kept.size());
        kept.append(reinterpret_cast<const char*>(buffer.data()), take);
      }
      offset_ += got;
      left -= got;
    }
    if (truncated) *truncated = n > kKeepText;
    return kept;
  }

  // A protocol 0 operand: the bytes up to '\n', without it.
  std::string line(const char* what) {
    std::string out;
    for (;;) {
      const std::uint8_t b = byte(what);
      if (b == '\n') return out;
      if (out.size() >= kMaxLine) throw Malformed{std::string("over-long line in ") + what};
      out.push_back(static_cast<char>(b));
    }
  }

 private:
  Reader& in_;
  std::uint64_t offset_ = 0;
};

enum class Kind : std::uint8_t {
  kNone,
  kBool,
  kInt,
  kFloat,
  kString,
  kBytes,
  kTuple,
  kList,
  kDict,
  kSet,
  kGlobal,
  kObject,
  kOther
};

struct Value {
  Kind kind = Kind::kOther;
  bool big = false;        // an integer beyond 64 bits
  bool truncated = false;  // text longer than kKeepText
  std::int64_t integer = 0;
  std::string text;                  // string, bytes; "module.name" of a global
  std::vector<std::uint32_t> items;  // tuple/list/set items; dict keys and values, alternating
  std::uint32_t callable = 0;        // object: the class or function; 0 when unknown
  std::uint32_t args = 0;            // object: its arguments
  std::uint32_t state = 0;           // object: its BUILD state
};

// Python 2 names that Python 3's unpickler maps for protocols below 3
// (the dangerous or allowlisted ones; see _compat_pickle).
std::string_view python3_module(std::string_view module) {
  if (module == "__builtin__" || module == "exceptions") return "builtins";
  if (module == "copy_reg") return "copyreg";
  if (module == "cPickle") return "pickle";
  if (module == "commands") return "subprocess";
  return module;
}

bool in_module(std::string_view module, std::string_view root) {
  return module == root ||
         (module.size() > root.size() && module.starts_with(root) && module[root.size()] == '.');
}

bool starts_upper(std::string_view name) {
  return !name.empty() && name.front() >= 'A' && name.front() <= 'Z';
}

class Machine {
 public:
  Machine(Reader& in, Report& report, std::string member, bool joblib, int nesting,
          std::uint64_t offset)
      : in_(in, offset),
        report_(report),
        member_(std::move(member)),
        joblib_(joblib),
        nesting_(nesting) {
    values_.emplace_back();  // index 0: "unknown"
  }

  std::uint64_t offset() const { return in_.offset(); }
  bool clean() const { return clean_; }

  // True when a pickle was read (cleanly or not), false at the end of input.
  bool run() {
    try {
      const int first = in_.next_byte();
      if (first < 0) return false;
      int op = first;
      for (;;) {
        if (step(static_cast<std::uint8_t>(op))) {
          clean_ = true;
          return true;
        }
        op = in_.next_byte();
        if (op < 0) throw Malformed{"truncated: the stream ends before STOP"};
      }
    } catch (const Malformed& m) {
      report_.add(Severity::kDangerous, "malformed",
                  m.detail + " (byte " + std::to_string(in_.offset()) + ")", member_);
      return true;
    }
  }

 private:
  // --- values --------------------------------------------------------------
  // Memory a hostile stream can make the scanner hold is bounded in bytes.
  void charge(std::size_t bytes) {
    retained_ += bytes;
    if (retained_ > kMaxRetained) throw Malformed{"too large to scan (over 256 MiB of objects)"};
  }
  std::uint32_t make(Value v) {
    if (values_.size() >= kMaxValues) throw Malformed{"too many objects to scan"};
    charge(sizeof(Value) + v.text.size() + v.items.size() * sizeof(std::uint32_t));
    values_.push_back(std::move(v));
    return static_cast<std::uint32_t>(values_.size() - 1);
  }
  std::uint32_t make(Kind kind) {
    // Immutable scalars share one value each: a list of a million floats
    // costs indices, not objects.
    if (kind == Kind::kNone || kind == Kind::kFloat || kind == Kind::kOther) {
      std::uint32_t& shared = kind == Kind::kNone ? none_ : kind == Kind::kFloat ? float_ : other_;
      if (shared == 0) {
        Value v;
        v.kind = kind;
        shared = make(std::move(v));
      }
      return shared;
    }
    Value v;
    v.kind = kind;
    return make(std::move(v));
  }
  void add_items(Value& container, const std::uint32_t* items, std::size_t n) {
    charge(n * sizeof(std::uint32_t));
    container.items.insert(container.items.end(), items, items + n);
  }
  std::uint32_t make_int(std::int64_t i, bool big = false) {
    Value v;
    v.kind = Kind::kInt;
    v.integer = i;
    v.big = big;
    return make(std::move(v));
  }
  std::uint32_t make_text(Kind kind, std::string text, bool truncated) {
    Value v;
    v.kind = kind;
    v.text = std::move(text);
    v.truncated = truncated;
    return make(std::move(v));
  }

  // --- the stack and its marks ----------------------------------------------
  void push(std::uint32_t v) {
    if (stack_.size() >= kMaxValues) throw Malformed{"stack too deep to scan"};
    stack_.push_back(v);
  }
  std::size_t floor() const { return marks_.empty() ? 0 : marks_.back(); }
  std::uint32_t pop(const char* op) {
    if (stack_.size() <= floor()) throw Malformed{std::string("stack underflow in ") + op};
    const std::uint32_t v = stack_.back();
    stack_.pop_back();
    return v;
  }
  std::uint32_t& top(const char* op) {
    if (stack_.size() <= floor()) throw Malformed{std::string("stack underflow in ") + op};
    return stack_.back();
  }
  // Everything above the last MARK, which is removed.
  std::vector<std::uint32_t> pop_mark(const char* op) {
    if (marks_.empty()) throw Malformed{std::string("no MARK for ") + op};
    const std::size_t at = marks_.back();
    marks_.pop_back();
    std::vector<std::uint32_t> items(stack_.begin() + static_cast<std::ptrdiff_t>(at),
                                     stack_.end());
    stack_.resize(at);
    return items;
  }

  // --- globals -----------------------------------------------------------------
  std::uint32_t import(std::string module, std::string name, const char* how) {
    if (module.empty() || name.empty()) {
      throw Malformed{std::string(how) + " with an empty module or name"};
    }
    const std::string qualified = module + "." + name;
    // A stream may import one global a million times: record it once.
    if (!seen_.insert(qualified).second) return make_text(Kind::kGlobal, qualified, false);
    charge(qualified.size());
    report_.add_global(qualified);
    const Verdict v = classify_global(module, name);
    if (v != Verdict::kClean) {
      report_.add(v == Verdict::kDangerous ? Severity::kDangerous : Severity::kUnknown, "global",
                  qualified, member_);
    }
    return make_text(Kind::kGlobal, qualified, false);
  }

  std::uint32_t object(std::uint32_t callable, std::uint32_t args) {
    Value v;
    v.kind = Kind::kObject;
    v.callable = callable;
    v.args = args;
    return make(std::move(v));
  }

  // --- memo --------------------------------------------------------------------
  void memo_put(std::uint64_t key) {
    if (stack_.size() <= floor()) throw Malformed{"PUT with an empty stack"};
    if (memo_.size() >= kMaxMemo && !memo_.contains(key)) throw Malformed{"memo too large to scan"};
    memo_[key] = stack_.back();
  }
  void memo_get(std::uint64_t key) {
    auto it = memo_.find(key);
    if (it == memo_.end())
      throw Malformed{"GET of memo key " + std::to_string(key) + ", never PUT"};
    push(it->second);
  }

  static std::uint64_t decimal(const std::string& text, const char* what) {
    std::uint64_t v = 0;
    auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc() || p != text.data() + text.size()) {
      throw Malformed{std::string("bad number in ") + what};
    }
    return v;
  }

  // INT and LONG text: "01"/"00" are booleans; Python accepts an optional
  // sign and, for LONG, a trailing L.
  std::uint32_t int_from_text(std::string text, bool is_long) {
    if (!is_long && text == "01") return make_bool(true);
    if (!is_long && text == "00") return make_bool(false);
    if (is_long && !text.empty() && text.back() == 'L') text.pop_back();
    std::size_t start = (!text.empty() && (text[0] == '-' || text[0] == '+')) ? 1 : 0;
    if (start == text.size()) throw Malformed{"bad integer text"};
    for (std::size_t i = start; i < text.size(); ++i) {
      if (text[i] < '0' || text[i] > '9') throw Malformed{"bad integer text"};
    }
    std::int64_t v = 0;
    auto [p, ec] =
        std::from_chars(text.data() + (text[0] == '+' ? 1 : 0), text.data() + text.size(), v);
    if (ec == std::errc::result_out_of_range) return make_int(0, true);
    if (ec != std::errc() || p != text.data() + text.size()) throw Malformed{"bad integer text"};
    return make_int(v);
  }
  std::uint32_t make_bool(bool b) {
    Value v;
    v.kind = Kind::kBool;
    v.integer = b ? 1 : 0;
    return make(std::move(v));
  }

  // LONG1/LONG4: little-endian two's complement.
  std::uint32_t long_from_bytes(std::uint64_t n) {
    if (n > kMaxLongBytes) throw Malformed{"LONG4 operand too long"};
    bool truncated = false;
    std::string b = in_.bytes(n, "LONG", &truncated);
    if (n == 0) return make_int(0);
    if (n > 8) return make_int(0, true);
    std::uint64_t u = 0;
    for (std::size_t i = 0; i < b.size(); ++i) {
      u |= std::uint64_t{static_cast<std::uint8_t>(b[i])} << (8 * i);
    }
    if (n < 8 && (static_cast<std::uint8_t>(b.back()) & 0x80)) u |= ~std::uint64_t{0} << (8 * n);
    return make_int(static_cast<std::int64_t>(u));
  }

  // Protocol 0 STRING: a quoted Python 2 repr with backslash escapes.
  static std::string unquote(const std::string& text) {
    if (text.size() < 2 || (text.front() != '\'' && text.front() != '"') ||
        text.back() != text.front()) {
      throw Malformed{"STRING operand is not quoted"};
    }
    std::string out;
    for (std::size_t i = 1; i + 1 < text.size(); ++i) {
      char c = text[i];
      if (c != '\\') {
        out.push_back(c);
        continue;
      }
      if (++i + 1 > text.size() - 1) throw Malformed{"STRING ends in a backslash"};
      c = text[i];
      if (const char simple = text::python_simple_escape(c)) {
        out.push_back(simple);
        continue;
      }
      switch (c) {
        case '\n':
          break;
        case 'x': {
          if (i + 3 > text.size() - 1) throw Malformed{"bad \\x escape in STRING"};
          unsigned v = 0;
          auto [p, ec] = std::from_chars(text.data() + i + 1, text.data() + i + 3, v, 16);
          if (ec != std::errc() || p != text.data() + i + 3) throw Malformed{"bad \\x escape"};
          out.push_back(static_cast<char>(v));
          i += 2;
          break;
        }
        default:
          if (c >= '0' && c <= '7') {
            unsigned v = 0;
            std::size_t k = 0;
            for (; k < 3 && i + k < text.size() - 1 && text[i + k] >= '0' && text[i + k] <= '7';
                 ++k) {
              v = v * 8 + static_cast<unsigned>(text[i + k] - '0');
            }
            out.push_back(static_cast<char>(v & 0xff));
            i += k - 1;
          } else {
            out.push_back('\\');  // Python keeps unknown escapes as they are
            out.push_back(c);
          }
      }
    }
    return out;
  }

  // Protocol 0 UNICODE: raw-unicode-escape, only \uXXXX and \UXXXXXXXX.
  static std::string raw_unicode(const std::string& text) {
    std::string out;
    for (std::size_t i = 0; i < text.size(); ++i) {
      const char c = text[i];
      const int digits = (c == '\\' && i + 1 < text.size()) ? (text[i + 1] == 'u'   ? 4
                                                               : text[i + 1] == 'U' ? 8
                                                                                    : 0)
                                                            : 0;
      if (digits == 0) {
        // Latin-1 bytes are code points.
        text::append_utf8(out, static_cast<std::uint8_t>(c));
        continue;
      }
      if (i + 2 + static_cast<std::size_t>(digits) > text.size()) {
        throw Malformed{"truncated \\u escape in UNICODE"};
      }
      std::uint32_t cp = 0;
      auto [p, ec] = std::from_chars(text.data() + i + 2, text.data() + i + 2 + digits, cp, 16);
      if (ec != std::errc() || p != text.data() + i + 2 + digits || cp > 0x10FFFF) {
        throw Malformed{"bad \\u escape in UNICODE"};
      }
      text::append_utf8(out, cp);
      i += 1 + static_cast<std::size_t>(digits);
    }
    return out;
  }
  std::uint32_t text_value(Kind kind, std::uint64_t n, const char* what) {
    bool truncated = false;
    std::string t = in_.bytes(n, what, &truncated);
    return make_text(kind, std::move(t), truncated);
  }

  // --- joblib ----------------------------------------------------------------
  // The class an object was made from: NEWOBJ/REDUCE on a class, or
  // copyreg._reconstructor(cls, base, state) as protocols 0 and 1 write it.
  std::string class_of(const Value& obj) const {
    if (obj.kind != Kind::kObject || obj.callable >= values_.size()) return {};
    const Value& c = values_[obj.callable];
    if (c.kind != Kind::kGlobal) return {};
    if (c.text == "copyreg._reconstructor" || c.text == "copy_reg._reconstructor") {
      const Value& a = values_[obj.args];
      if (a.kind == Kind::kTuple && !a.items.empty() && values_[a.items[0]].kind == Kind::kGlobal) {
        return values_[a.items[0]].text;
      }
      return {};
    }
    return c.text;
  }

  const Value* dict_get(const Value& dict, std::string_view key) const {
    if (dict.kind != Kind::kDict) return nullptr;
    for (std::size_t i = 0; i + 1 < dict.items.size(); i += 2) {
      const Value& k = values_[dict.items[i]];
      if (k.kind == Kind::kString && k.text == key) return &values_[dict.items[i + 1]];
    }
    return nullptr;
  }

  // The byte size of one element of a pickled numpy.dtype, 0 for an object
  // dtype; throws when it cannot be told.
  std::uint64_t item_size(const Value& dtype) const {
    const std::string cls = class_of(dtype);
    if (cls != "numpy.dtype") throw Malformed{"joblib array without a numpy.dtype"};
    const Value& args = values_[dtype.args];
    if (args.kind != Kind::kTuple || args.items.empty() ||
        values_[args.items[0]].kind != Kind::kString) {
      throw Malformed{"joblib array dtype without a type code"};
    }
    std::string_view code = values_[args.items[0]].text;
    while (!code.empty() &&
           (code[0] == '<' || code[0] == '>' || code[0] == '|' || code[0] == '=')) {
      code.remove_prefix(1);
    }
    if (code.empty()) throw Malformed{"joblib array dtype with an empty type code"};
    if (code[0] == 'O') return 0;
    // numpy's dtype state: (version, byteorder, subdescr, names, fields,
    // elsize, alignment, flags); elsize is -1 for the builtin types.
    const Value& state = values_[dtype.state];
    if (state.kind == Kind::kTuple && state.items.size() >= 6) {
      const Value& elsize = values_[state.items[5]];
      if (elsize.kind == Kind::kInt && !elsize.big && elsize.integer > 0) {
        return static_cast<std::uint64_t>(elsize.integer);
      }
      const Value& fields = values_[state.items[4]];
      if (fields.kind != Kind::kNone) throw Malformed{"joblib structured array without a size"};
    }
    std::uint64_t n = 0;
    std::string_view digits = code.substr(1);
    auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
    if (digits.empty()) {
      if (code[0] == '?' || code[0] == 'b' || code[0] == 'B') return 1;
      throw Malformed{"joblib array dtype '" + std::string(code) + "' has no size"};
    }
    if (ec != std::errc() || p != digits.data() + digits.size() || n == 0 || n > (1u << 30)) {
      throw Malformed{"joblib array dtype '" + std::string(code) + "' has no size"};
    }
    return code[0] == 'U' ? n * 4 : n;
  }

  // joblib writes each array's bytes (or, for an object array, a whole
  // pickle) right after the BUILD of its NumpyArrayWrapper.
  void skip_joblib_array(const Value& wrapper) {
    const Value& state = values_[wrapper.state];
    const Value* shape = dict_get(state, "shape");
    const Value* dtype = dict_get(state, "dtype");
    if (!shape || !dtype || shape->kind != Kind::kTuple) {
      throw Malformed{"joblib NumpyArrayWrapper without shape and dtype"};
    }
    const std::uint64_t size = item_size(*dtype);
    if (size == 0) {
      if (nesting_ >= kMaxNesting) throw Malformed{"joblib object arrays nested too deeply"};
      // A whole pickle, on the same input: its findings are this file's.
      Machine nested(in_.reader(), report_, member_, false, nesting_ + 1, in_.offset());
      const bool read = nested.run();
      in_.set_offset(nested.offset());
      if (!read) throw Malformed{"joblib object array without its pickle"};
      if (!nested.clean()) throw Malformed{"joblib object array with a broken pickle"};
      return;
    }
    std::uint64_t count = 1;
    for (std::uint32_t d : shape->items) {
      const Value& v = values_[d];
      if (v.kind != Kind::kInt || v.big || v.integer < 0) {
        throw Malformed{"joblib array shape is not a tuple of sizes"};
      }
      const auto dim = static_cast<std::uint64_t>(v.integer);
      if (dim != 0 && count > std::numeric_limits<std::uint64_t>::max() / dim) {
        throw Malformed{"joblib array shape overflows"};
      }
      count *= dim;
    }
    if (count != 0 && size > std::numeric_limits<std::uint64_t>::max() / count) {
      throw Malformed{"joblib array size overflows"};
    }
    const Value* alignment = dict_get(state, "numpy_array_alignment_bytes");
    if (alignment && alignment->kind == Kind::kInt) {
      const std::uint8_t padding = in_.byte("joblib array padding");
      (void)in_.bytes(padding, "joblib array padding");
    }
    (void)in_.bytes(count * size, "joblib array data");
  }

  // --- one opcode --------------------------------------------------------------
  // Returns true after STOP.
  bool step(std::uint8_t op);

  Input in_;
  Report& report_;
  std::string member_;
  bool joblib_;
  int nesting_;
  bool clean_ = false;
  std::size_t retained_ = 0;
  std::uint32_t none_ = 0, float_ = 0, other_ = 0;  // shared scalars, once made
  std::vector<Value> values_;
  std::vector<std::uint32_t> stack_;
  std::vector<std::size_t> marks_;
  std::unordered_map<std::uint64_t, std::uint32_t> memo_;
  std::set<std::string> seen_;
};

bool Machine::step(std::uint8_t op) {
  switch (op) {
    // --- framing and control
    case 0x80: {  // PROTO
      const std::uint8_t version = in_.byte("PROTO");
      if (version > 5) throw Malformed{"unsupported pickle protocol " + std::to_string(version)};
      return false;
    }
    case 0x95:  // FRAME: its opcodes follow inline; only the length is read
      (void)in_.little_endian(8, "FRAME");
      return false;
    case '.':  // STOP
      (void)pop("STOP");
      return true;
    case '(':  // MARK
      if (marks_.size() >= kMaxValues) throw Malformed{"too many MARKs to scan"};
      marks_.push_back(stack_.size());
      return false;
    case '0':  // POP: a value, or the MARK right below the top
      if (stack_.size() > floor()) {
        stack_.pop_back();
      } else if (!marks_.empty()) {
        marks_.pop_back();
      } else {
        throw Malformed{"stack underflow in POP"};
      }
      return false;
    case '1':  // POP_MARK
      (void)pop_mark("POP_MARK");
      return false;
    case '2':  // DUP
      push(top("DUP"));
      return false;

    // --- scalars
    case 'N':
      push(make(Kind::kNone));
      return false;
    case 0x88:
      push(make_bool(true));
      return false;
    case 0x89:
      push(make_bool(false));
      return false;
    case 'I':
      push(int_from_text(in_.line("INT"), false));
      return false;
    case 'L':
      push(int_from_text(in_.line("LONG"), true));
      return false;
    case 'J': {
      const auto v = static_cast<std::int32_t>(in_.little_endian(4, "BININT"));
      push(make_int(v));
      return false;
    }
    case 'K':
      push(make_int(in_.byte("BININT1")));
      return false;
    case 'M':
      push(make_int(static_cast<std::int64_t>(in_.little_endian(2, "BININT2"))));
      return false;
    case 0x8a:
      push(long_from_bytes(in_.byte("LONG1")));
      return false;
    case 0x8b: {
      const auto n = static_cast<std::int32_t>(in_.little_endian(4, "LONG4"));
      if (n < 0) throw Malformed{"negative LONG4 length"};
      push(long_from_bytes(static_cast<std::uint64_t>(n)));
      return false;
    }
    case 'F':
      (void)in_.line("FLOAT");
      push(make(Kind::kFloat));
      return false;
    case 'G':
      (void)in_.bytes(8, "BINFLOAT");
      push(make(Kind::kFloat));
      return false;

    // --- strings and bytes
    case 'S':
      push(make_text(Kind::kString, unquote(in_.line("STRING")), false));
      return false;
    case 'T': {
      const auto n = static_cast<std::int32_t>(in_.little_endian(4, "BINSTRING"));
      if (n < 0) throw Malformed{"negative BINSTRING length"};
      push(text_value(Kind::kString, static_cast<std::uint64_t>(n), "BINSTRING"));
      return false;
    }
    case 'U':
      push(text_value(Kind::kString, in_.byte("SHORT_BINSTRING"), "SHORT_BINSTRING"));
      return false;
    case 'V':
      push(make_text(Kind::kString, raw_unicode(in_.line("UNICODE")), false));
      return false;
    case 'X':
      push(text_value(Kind::kString, in_.little_endian(4, "BINUNICODE"), "BINUNICODE"));
      return false;
    case 0x8c:
      push(text_value(Kind::kString, in_.byte("SHORT_BINUNICODE"), "SHORT_BINUNICODE"));
      return false;
    case 0x8d:
      push(text_value(Kind::kString, in_.little_endian(8, "BINUNICODE8"), "BINUNICODE8"));
      return false;
    case 'B':
      push(text_value(Kind::kBytes, in_.little_endian(4, "BINBYTES"), "BINBYTES"));
      return false;
    case 'C':
      push(text_value(Kind::kBytes, in_.byte("SHORT_BINBYTES"), "SHORT_BINBYTES"));
      return false;
    case 0x8e:
      push(text_value(Kind::kBytes, in_.little_endian(8, "BINBYTES8"), "BINBYTES8"));
      return false;
    case 0x96:
      push(text_value(Kind::kBytes, in_.little_endian(8, "BYTEARRAY8"), "BYTEARRAY8"));
      return false;
    case 0x97:
      push(make(Kind::kOther));
      return false;  // NEXT_BUFFER: out-of-band data
    case 0x98:
      (void)top("READONLY_BUFFER");
      return false;

    // --- containers
    case ')':
      push(make(Kind::kTuple));
      return false;
    case 't': {
      Value v;
      v.kind = Kind::kTuple;
      v.items = pop_mark("TUPLE");
      push(make(std::move(v)));
      return false;
    }
    case 0x85:
    case 0x86:
    case 0x87: {  // TUPLE1..3
      const int n = op - 0x84;
      Value v;
      v.kind = Kind::kTuple;
      v.items.resize(static_cast<std::size_t>(n));
      for (int i = n - 1; i >= 0; --i) v.items[static_cast<std::size_t>(i)] = pop("TUPLEn");
      push(make(std::move(v)));
      return false;
    }
    case ']':
      push(make(Kind::kList));
      return false;
    case '}':
      push(make(Kind::kDict));
      return false;
    case 0x8f:
      push(make(Kind::kSet));
      return false;
    case 'l':
    case 'd':
    case 0x91: {  // LIST, DICT, FROZENSET
      Value v;
      v.kind = op == 'l' ? Kind::kList : op == 'd' ? Kind::kDict : Kind::kSet;
      v.items = pop_mark("LIST/DICT/FROZENSET");
      if (op == 'd' && v.items.size() % 2 != 0) throw Malformed{"DICT with an odd number of items"};
      push(make(std::move(v)));
      return false;
    }
    case 'a': {  // APPEND
      const std::uint32_t item = pop("APPEND");
      add_items(values_[top("APPEND")], &item, 1);
      return false;
    }
    case 'e':
    case 0x90: {  // APPENDS, ADDITEMS
      std::vector<std::uint32_t> items = pop_mark("APPENDS/ADDITEMS");
      add_items(values_[top("APPENDS/ADDITEMS")], items.data(), items.size());
      return false;
    }
    case 's': {  // SETITEM
      const std::uint32_t value = pop("SETITEM");
      const std::uint32_t key = pop("SETITEM");
      const std::uint32_t pair[2] = {key, value};
      add_items(values_[top("SETITEM")], pair, 2);
      return false;
    }
    case 'u': {  // SETITEMS
      std::vector<std::uint32_t> items = pop_mark("SETITEMS");
      if (items.size() % 2 != 0) throw Malformed{"SETITEMS with an odd number of items"};
      add_items(values_[top("SETITEMS")], items.data(), items.size());
      return false;
    }

    // --- memo
    case 'p':
      memo_put(decimal(in_.line("PUT"), "PUT"));
      return false;
    case 'q':
      memo_put(in_.byte("BINPUT"));
      return false;
    case 'r':
      memo_put(in_.little_endian(4, "LONG_BINPUT"));
      return false;
    case 0x94:
      memo_put(memo_.size());
      return false;  // MEMOIZE
    case 'g':
      memo_get(decimal(in_.line("GET"), "GET"));
      return false;
    case 'h':
      memo_get(in_.byte("BINGET"));
      return false;
    case 'j':
      memo_get(in_.little_endian(4, "LONG_BINGET"));
      return false;

    // --- imports and calls
    case 'c': {  // GLOBAL
      std::string module = in_.line("GLOBAL");
      std::string name = in_.line("GLOBAL");
      push(import(std::move(module), std::move(name), "GLOBAL"));
      return false;
    }
    case 0x93: {  // STACK_GLOBAL
      const Value& name = values_[pop("STACK_GLOBAL")];
      const Value& module = values_[pop("STACK_GLOBAL")];
      if (module.kind != Kind::kString || name.kind != Kind::kString || module.truncated ||
          name.truncated) {
        // What Python would import cannot be told: assume the worst.
        report_.add(Severity::kDangerous, "global",
                    "STACK_GLOBAL with operands that are not strings (unresolvable)", member_);
        push(make(Kind::kGlobal));
        return false;
      }
      push(import(module.text, name.text, "STACK_GLOBAL"));
      return false;
    }
    case 'i': {  // INST: module and name, then the arguments since MARK
      std::string module = in_.line("INST");
      std::string name = in_.line("INST");
      const std::uint32_t cls = import(std::move(module), std::move(name), "INST");
      Value args;
      args.kind = Kind::kTuple;
      args.items = pop_mark("INST");
      const std::uint32_t a = make(std::move(args));
      push(object(cls, a));
      return false;
    }
    case 'o': {  // OBJ: class and arguments since MARK
      std::vector<std::uint32_t> items = pop_mark("OBJ");
      if (items.empty()) throw Malformed{"OBJ without a class"};
      Value args;
      args.kind = Kind::kTuple;
      args.items.assign(items.begin() + 1, items.end());
      const std::uint32_t a = make(std::move(args));
      push(object(items.front(), a));
      return false;
    }
    case 'R':
    case 0x81: {  // REDUCE, NEWOBJ
      const std::uint32_t args = pop("REDUCE/NEWOBJ");
      const std::uint32_t callable = pop("REDUCE/NEWOBJ");
      push(object(callable, args));
      return false;
    }
    case 0x92: {  // NEWOBJ_EX
      (void)pop("NEWOBJ_EX");
      const std::uint32_t args = pop("NEWOBJ_EX");
      const std::uint32_t cls = pop("NEWOBJ_EX");
      push(object(cls, args));
      return false;
    }
    case 'b': {  // BUILD
      const std::uint32_t state = pop("BUILD");
      const std::uint32_t target = top("BUILD");
      if (target == other_ || target == none_ || target == float_) return false;
      values_[target].state = state;
      if (joblib_ && class_of(values_[target]) == "joblib.numpy_pickle.NumpyArrayWrapper") {
        skip_joblib_array(values_[target]);
        top("BUILD") = make(Kind::kOther);  // the array joblib puts in its place
      }
      return false;
    }
    case 'P':
      (void)in_.line("PERSID");
      push(make(Kind::kOther));
      return false;
    case 'Q':
      (void)pop("BINPERSID");
      push(make(Kind::kOther));
      return false;
    case 0x82:
    case 0x83:
    case 0x84: {  // EXT1, EXT2, EXT4
      const int width = op == 0x82 ? 1 : op == 0x83 ? 2 : 4;
      const std::uint64_t code = in_.little_endian(width, "EXT");
      // copyreg's extension registry maps the code to any global at all.
      report_.add(Severity::kUnknown, "global", "copyreg extension code " + std::to_string(code),
                  member_);
      push(make(Kind::kGlobal));
      return false;
    }
    default: {
      static constexpr char kHex[] = "0123456789abcdef";
      throw Malformed{std::string("unknown opcode 0x") + kHex[op >> 4] + kHex[op & 15]};
    }
  }
}

}  // namespace

Verdict classify_global(std::string_view module_text, std::string_view name) {
  const std::string_view module = python3_module(module_text);
  // Dotted names are attribute paths (protocol 4); one through a dunder can
  // reach anything.
  if (name.find("__") != std::string_view::npos &&
      !(module == "copyreg" && (name == "__newobj__" || name == "__newobj_ex__"))) {
    if (name.find('.') != std::string_view::npos || name.starts_with("__")) {
      return name == "__builtin__" ? Verdict::kUnknown : Verdict::kDangerous;
    }
  }
  static constexpr std::string_view kDangerousModules[] = {
      "os", "posix", "nt", "subprocess", "sys", "socket", "shutil", "runpy", "pty", "pickle",
      "_pickle", "importlib", "marshal", "ctypes", "webbrowser", "pdb", "bdb",
      // Also run code or processes.
      "_posixsubprocess", "code", "codeop", "timeit", "cProfile", "profile", "trace",
      "multiprocessing", "_winapi", "winreg"};
  for (std::string_view m : kDangerousModules) {
    if (in_module(module, m)) return Verdict::kDangerous;
  }
  if (module == "builtins") {
    static constexpr std::string_view kDangerous[] = {
        "eval",       "exec",    "compile",  "getattr", "open",   "__import__",
        "apply",      "setattr", "delattr",  "globals", "locals", "vars",
        "breakpoint", "input",   "execfile", "file",    "reload", "memoryview"};
    for (std::string_view n : kDangerous) {
      if (name == n) return Verdict::kDangerous;
    }
    static constexpr std::string_view kSafe[] = {
        "set",   "frozenset", "dict",   "list", "tuple", "bytearray", "bytes", "complex",
        "slice", "range",     "object", "int",  "float", "str",       "bool"};
    for (std::string_view n : kSafe) {
      if (name == n) return Verdict::kClean;
    }
    return Verdict::kUnknown;
  }
  if ((module == "operator" || module == "_operator") &&
      (name == "attrgetter" || name == "itemgetter" || name == "methodcaller")) {
    return Verdict::kDangerous;
  }
  if ((module == "functools" || module == "_functools") && name == "partial") {
    return Verdict::kDangerous;
  }

  // The reconstructors numpy, scikit-learn, joblib, torch and collections use.
  struct Exact {
    std::string_view module, name;
  };
  static constexpr Exact kSafe[] = {
      {"collections", "OrderedDict"},
      {"collections", "defaultdict"},
      {"collections", "deque"},
      {"collections", "Counter"},
      {"_collections", "OrderedDict"},
      {"_collections", "defaultdict"},
      {"_collections", "deque"},
      {"copyreg", "_reconstructor"},
      {"copyreg", "__newobj__"},
      {"copyreg", "__newobj_ex__"},
      {"_codecs", "encode"},
      {"numpy", "ndarray"},
      {"numpy", "dtype"},
      {"numpy.core.multiarray", "_reconstruct"},
      {"numpy.core.multiarray", "scalar"},
      {"numpy._core.multiarray", "_reconstruct"},
      {"numpy._core.multiarray", "scalar"},
      {"numpy.core.numeric", "_frombuffer"},
      {"numpy._core.numeric", "_frombuffer"},
      {"numpy.ma.core", "_mareconstruct"},
      {"numpy.random._pickle", "__randomstate_ctor"},
      {"numpy.random._pickle", "__bit_generator_ctor"},
      {"numpy.random._pickle", "__generator_ctor"},
      {"joblib.numpy_pickle", "NumpyArrayWrapper"},
      {"joblib.numpy_pickle_compat", "NDArrayWrapper"},
      {"joblib.numpy_pickle_compat", "ZNDArrayWrapper"},
      {"torch._utils", "_rebuild_tensor"},
      {"torch._utils", "_rebuild_tensor_v2"},
      {"torch._utils", "_rebuild_parameter"},
      {"torch._utils", "_rebuild_parameter_with_state"},
      {"torch._utils", "_rebuild_qtensor"},
      {"torch._utils", "_rebuild_sparse_tensor"},
      {"torch._tensor", "_rebuild_from_type_v2"},
      {"torch", "Size"},
      {"torch", "device"},
  };
  for (const auto& e : kSafe) {
    if (module == e.module && name == e.name) return Verdict::kClean;
  }
  const bool dotted = name.find('.') != std::string_view::npos;
  if (!dotted && module == "numpy.dtypes" && name.ends_with("DType")) return Verdict::kClean;
  if (!dotted && module == "torch") {
    static constexpr std::string_view kDtypes[] = {
        "float16", "float32", "float64", "bfloat16", "complex64", "complex128",
        "uint8",   "int8",    "int16",   "int32",    "int64",     "bool",
        "half",    "float",   "double",  "long",     "int"};
    for (std::string_view d : kDtypes) {
      if (name == d) return Verdict::kClean;
    }
    if (name.ends_with("Storage")) return Verdict::kClean;
  }
  // Classes (by Python's naming convention) of the estimator and layer
  // libraries: making one runs only its __new__ and __setstate__.
  if (!dotted && starts_upper(name) &&
      (in_module(module, "sklearn") || in_module(module, "scipy.sparse") ||
       in_module(module, "torch.nn"))) {
    return Verdict::kClean;
  }
  return Verdict::kUnknown;
}

bool scan_pickle(Reader& in, Report& report, const std::string& member, bool joblib) {
  Machine machine(in, report, member, joblib, 0, 0);
  return machine.run();
}

}  // namespace mlpack::scan
