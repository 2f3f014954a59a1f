// The report, and scan_file: format detection and the containers (joblib's
// compressed dumps, PyTorch zips and legacy checkpoints, NumPy .npy/.npz,
// Keras archives, generic zips) around the per-format checks.
#include "mlpack/scan/scan.hpp"
#include "mlpack/util/text.hpp"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "mlpack/manifest/format.hpp"
#include "readers.hpp"

namespace mlpack::scan {
namespace {

// Both lists are bounded so a hostile file cannot grow the report without
// limit (one pickle can import millions of globals).
constexpr std::size_t kMaxFindings = 10000;
constexpr std::size_t kMaxGlobals = 10000;

}  // namespace

std::string_view verdict_name(Verdict v) {
  switch (v) {
    case Verdict::kClean:
      return "clean";
    case Verdict::kUnknown:
      return "unknown";
    case Verdict::kDangerous:
      return "dangerous";
  }
  return "dangerous";
}

std::string_view severity_name(Severity s) {
  switch (s) {
    case Severity::kUnknown:
      return "unknown";
    case Severity::kDangerous:
      return "dangerous";
  }
  return "dangerous";
}

Verdict Report::verdict() const {
  Verdict v = Verdict::kClean;
  for (const Finding& f : findings) {
    if (f.severity == Severity::kDangerous) return Verdict::kDangerous;
    v = Verdict::kUnknown;
  }
  return v;
}

void Report::add(Severity severity, std::string kind, std::string detail, std::string member) {
  if (findings.size() < kMaxFindings) {
    findings.push_back(Finding{severity, std::move(kind), std::move(detail), std::move(member)});
    return;
  }
  // One closing entry stands for everything past the cap and carries the
  // worst severity among it, so the verdict stays right.
  if (findings.size() == kMaxFindings) {
    findings.push_back(
        Finding{severity,
                "malformed",
                "more than " + std::to_string(kMaxFindings) + " findings: the rest are not listed",
                {}});
    return;
  }
  if (severity == Severity::kDangerous) findings.back().severity = Severity::kDangerous;
}

void Report::add_global(const std::string& qualified) {
  // Past the cap nothing is searched or stored any more.
  if (globals.size() > kMaxGlobals) return;
  // From the back: a pickle mostly repeats the globals it imported last.
  if (std::find(globals.rbegin(), globals.rend(), qualified) != globals.rend()) return;
  globals.push_back(qualified);
  if (globals.size() > kMaxGlobals) {
    add(Severity::kUnknown, "global",
        "more than " + std::to_string(kMaxGlobals) + " distinct globals: the rest are not listed");
  }
}

std::size_t MemoryReader::read(std::span<std::uint8_t> out) {
  std::size_t n = std::min(out.size(), bytes_.size() - pos_);
  if (n > 0) std::memcpy(out.data(), bytes_.data() + pos_, n);
  pos_ += n;
  return n;
}

namespace {

using readers::BufferedReader;
using readers::ZipWalker;
using Bytes = std::span<const std::uint8_t>;

// A stream's head is peeked whole before anything is consumed.
static_assert(readers::kStreamBufferBytes >= manifest::kFormatSniffBytes);
static_assert(readers::kFileBufferBytes >= manifest::kFormatSniffBytes);

// A zip inside a zip inside ... is opened this many levels deep.
constexpr int kMaxNesting = 3;
constexpr std::size_t kMaxKerasConfigBytes = 64u << 20;
// libarchive keeps a record per member of the central directory in memory;
// 16 MiB of directory is some 150,000 real members, far more than any model.
constexpr std::uint64_t kMaxZipDirectoryBytes = 16u << 20;
// numpy itself ignores its 10,000-byte header limit when allow_pickle is set
// (the only case that matters here), so the bound is the scanner's own.
constexpr std::size_t kMaxNpyHeaderBytes = 1u << 20;
constexpr int kMaxLiteralDepth = 64;

bool starts_with(Bytes b, std::string_view prefix) {
  return b.size() >= prefix.size() && std::memcmp(b.data(), prefix.data(), prefix.size()) == 0;
}

bool is_zip(Bytes head) {
  return starts_with(head, "PK\x03\x04") || starts_with(head, "PK\x05\x06");
}

bool starts_with_proto(Bytes head) {
  return head.size() >= 2 && head[0] == 0x80 && head[1] >= 2 && head[1] <= 5;
}

char ascii_lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

bool ends_with_nocase(std::string_view s, std::string_view suffix) {
  if (s.size() < suffix.size()) return false;
  s = s.substr(s.size() - suffix.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (ascii_lower(s[i]) != suffix[i]) return false;
  }
  return true;
}

// Names that pickle-based loaders open, whatever the bytes look like (a
// protocol 0 or 1 pickle has no PROTO opcode to recognise it by).
bool has_pickle_name(std::string_view name) {
  for (std::string_view ext : {".pkl", ".pickle", ".joblib", ".jbl", ".pt", ".pth"}) {
    if (ends_with_nocase(name, ext)) return true;
  }
  return false;
}

// torch.save's storage records, "<dir>/data/<key>": raw tensor bytes that
// torch.load reads without unpickling, and that start with 0x80 0x02 by
// chance often enough (int8 or float16 weights) to be left alone.
bool is_torch_storage(std::string_view name) {
  std::size_t slash = name.rfind('/');
  if (slash == std::string_view::npos || slash + 1 == name.size()) return false;
  std::string_view key = name.substr(slash + 1);
  if (!std::all_of(key.begin(), key.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return false;
  }
  std::string_view dir = name.substr(0, slash);
  return dir == "data" || dir.ends_with("/data");
}

std::string join_member(const std::string& outer, const std::string& inner) {
  return outer.empty() ? inner : outer + "/" + inner;
}

void malformed(Report& r, std::string detail, const std::string& member) {
  r.add(Severity::kDangerous, "malformed", std::move(detail), member);
}

void report_stream_error(const BufferedReader& in, Report& r, const std::string& member) {
  if (!in.error().empty()) malformed(r, in.error(), member);
}

// Whether the pickle scanner gave up on this stream since finding `from`:
// after that, the reader's position means nothing and reading on would only
// produce noise.
bool desynced(const Report& r, std::size_t from, const std::string& member) {
  for (std::size_t i = from; i < r.findings.size(); ++i) {
    if (r.findings[i].kind == "malformed" && r.findings[i].member == member) return true;
  }
  return false;
}

// --- pickle streams ----------------------------------------------------------

// One pickle, as pickle.load reads it, then whatever follows. pickle.load
// ignores trailing bytes, but a loader that calls load() again runs them, so
// trailing data is reported, and further pickles (a PROTO opcode) are
// scanned for the globals they would import.
void scan_pickles(BufferedReader& in, Report& r, const std::string& member, bool joblib) {
  std::size_t before = r.findings.size();
  if (!scan_pickle(in, r, member, joblib)) return;  // empty: nothing to load, nothing to run
  if (desynced(r, before, member) || in.at_end()) return;
  malformed(r, "extra data after STOP at byte " + std::to_string(in.position()), member);
  while (!in.at_end() && in.peek(1)[0] == 0x80) {
    const std::uint64_t at = in.position();
    before = r.findings.size();
    if (!scan_pickle(in, r, member, joblib) || desynced(r, before, member)) return;
    if (in.position() == at) return;  // never loop on a scanner that read nothing
  }
}

// torch.save's format before 1.6: five pickles (magic number, protocol
// version, sys_info, the object, the storage keys), then raw storage bytes
// that are not pickles and must not be read as such.
void scan_legacy_torch(BufferedReader& in, Report& r, const std::string& member) {
  constexpr int kPickles = 5;
  for (int i = 0; i < kPickles; ++i) {
    std::size_t before = r.findings.size();
    if (!scan_pickle(in, r, member, false)) {
      malformed(r,
                "legacy PyTorch checkpoint ends after " + std::to_string(i) + " of its " +
                    std::to_string(kPickles) + " pickles",
                member);
      return;
    }
    if (desynced(r, before, member)) return;
  }
}

void scan_joblib(BufferedReader& in, Report& r, const std::string& member) {
  readers::Compression c = readers::sniff_compression(in.peek(8));
  if (c == readers::Compression::kNone) {
    scan_pickles(in, r, member, true);
    return;
  }
  std::string refused;
  std::unique_ptr<BufferedReader> inner = readers::open_decompressor(in, c, refused);
  if (!inner) {
    malformed(r, refused, member);
    return;
  }
  scan_pickles(*inner, r, member, true);
  report_stream_error(*inner, r, member);
}

// --- .npy headers --------------------------------------------------------------

// A Python literal, as numpy reads an .npy header with ast.literal_eval.
struct PyValue {
  enum class Kind { kStr, kBytes, kInt, kBool, kNone, kList, kTuple, kDict };
  Kind kind = Kind::kNone;
  std::string text;            // kStr (UTF-8) and kBytes
  std::vector<PyValue> items;  // kList, kTuple; kDict: key, value, key, value, ...
};

// Accepts the literal subset .npy headers use, and refuses (rather than
// guesses at) anything else: a header read differently from numpy could
// hide an object dtype, so every Python rule that can change a value is
// followed: adjacent strings concatenate, "(x)" is x, escapes such as
// "\x4f" spell letters, a repeated key keeps its last value.
class LiteralParser {
 public:
  explicit LiteralParser(std::string_view text) : t_(text) {}

  std::optional<PyValue> parse() {
    PyValue v;
    if (!value(v, 0)) return std::nullopt;
    skip_space();
    if (pos_ != t_.size()) return std::nullopt;
    return v;
  }

 private:
  void skip_space() {
    while (pos_ < t_.size() && (t_[pos_] == ' ' || t_[pos_] == '\t' || t_[pos_] == '\n' ||
                                t_[pos_] == '\r' || t_[pos_] == '\f')) {
      ++pos_;
    }
  }

  bool peek_is(char c) {
    skip_space();
    return pos_ < t_.size() && t_[pos_] == c;
  }

  bool value(PyValue& out, int depth) {
    if (depth > kMaxLiteralDepth) return false;
    skip_space();
    if (pos_ >= t_.size()) return false;
    char c = t_[pos_];
    if (c == '{') return sequence(out, '}', PyValue::Kind::kDict, depth);
    if (c == '[') return sequence(out, ']', PyValue::Kind::kList, depth);
    if (c == '(') return sequence(out, ')', PyValue::Kind::kTuple, depth);
    if (c == '\'' || c == '"' || string_prefix() > 0) return strings(out);
    if ((c >= '0' && c <= '9') || c == '-' || c == '+') return number(out);
    return name(out);
  }

  // Elements up to `close`, commas between, one trailing comma allowed.
  bool sequence(PyValue& out, char close, PyValue::Kind kind, int depth) {
    ++pos_;
    out.kind = kind;
    bool trailing_comma = false;
    std::size_t count = 0;
    while (!peek_is(close)) {
      PyValue item;
      if (!value(item, depth + 1)) return false;
      out.items.push_back(std::move(item));
      if (kind == PyValue::Kind::kDict) {
        if (!peek_is(':')) return false;
        ++pos_;
        PyValue v;
        if (!value(v, depth + 1)) return false;
        out.items.push_back(std::move(v));
      }
      ++count;
      trailing_comma = false;
      if (peek_is(',')) {
        ++pos_;
        trailing_comma = true;
      } else if (!peek_is(close)) {
        return false;
      }
    }
    ++pos_;
    // "(x)" is x itself; only "(x,)" is a tuple.
    if (kind == PyValue::Kind::kTuple && count == 1 && !trailing_comma) {
      PyValue inner = std::move(out.items[0]);
      out = std::move(inner);
    }
    return true;
  }

  // Length of a string prefix (r, b, u, rb, br, ...) followed by a quote, or 0.
  std::size_t string_prefix() const {
    std::size_t i = pos_;
    while (i < t_.size() && i - pos_ < 2 && t_[i] != '\0' && std::strchr("rRbBuU", t_[i])) {
      ++i;
    }
    if (i == pos_ || i >= t_.size() || (t_[i] != '\'' && t_[i] != '"')) return 0;
    return i - pos_;
  }

  // One or more adjacent string literals, concatenated as Python does.
  bool strings(PyValue& out) {
    bool first = true;
    for (;;) {
      skip_space();
      if (pos_ >= t_.size()) break;
      std::size_t prefix = string_prefix();
      if (prefix == 0 && t_[pos_] != '\'' && t_[pos_] != '"') break;
      bool raw = false;
      bool bytes = false;
      bool u = false;
      for (std::size_t i = 0; i < prefix; ++i) {
        char p = ascii_lower(t_[pos_ + i]);
        raw |= p == 'r';
        bytes |= p == 'b';
        u |= p == 'u';
      }
      if (u && prefix > 1) return false;  // "ur" is not Python 3
      pos_ += prefix;
      PyValue::Kind kind = bytes ? PyValue::Kind::kBytes : PyValue::Kind::kStr;
      if (!first && kind != out.kind) return false;  // str "" bytes: a SyntaxError
      out.kind = kind;
      first = false;
      if (!string_body(out.text, raw, bytes)) return false;
    }
    return !first;
  }

  static int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  }

  bool hex_digits(std::size_t n, std::uint32_t& out) {
    out = 0;
    if (t_.size() - pos_ < n) return false;
    for (std::size_t i = 0; i < n; ++i) {
      int h = hex_value(t_[pos_ + i]);
      if (h < 0) return false;
      out = out * 16 + static_cast<std::uint32_t>(h);
    }
    pos_ += n;
    return true;
  }

  bool string_body(std::string& out, bool raw, bool bytes) {
    char quote = t_[pos_];
    bool triple = t_.substr(pos_, 3) == std::string(3, quote);
    pos_ += triple ? 3 : 1;
    for (;;) {
      if (pos_ >= t_.size()) return false;
      char c = t_[pos_];
      if (c == quote && (!triple || t_.substr(pos_, 3) == std::string(3, quote))) {
        pos_ += triple ? 3 : 1;
        return true;
      }
      if (c == '\n' && !triple) return false;
      ++pos_;
      if (c != '\\') {
        out.push_back(c);
        continue;
      }
      if (pos_ >= t_.size()) return false;
      char e = t_[pos_];
      if (raw) {  // the backslash stays; it only keeps a quote from ending the string
        out.push_back('\\');
        out.push_back(e);
        ++pos_;
        continue;
      }
      ++pos_;
      std::uint32_t cp = 0;
      if (const char simple = text::python_simple_escape(e)) {
        out.push_back(simple);
        continue;
      }
      switch (e) {
        case '\n':
          break;
        case 'x':
          if (!hex_digits(2, cp)) return false;
          if (bytes) {
            out.push_back(static_cast<char>(cp));
          } else {
            text::append_utf8(out, cp);
          }
          break;
        case 'u':
        case 'U':
          if (bytes) {  // not an escape in bytes
            out.push_back('\\');
            out.push_back(e);
            break;
          }
          if (!hex_digits(e == 'u' ? 4 : 8, cp) || cp > 0x10FFFF) return false;
          text::append_utf8(out, cp);
          break;
        case 'N':
          if (!bytes) return false;  // named characters would need Unicode's name table
          out.push_back('\\');
          out.push_back(e);
          break;
        default:
          if (e >= '0' && e <= '7') {
            cp = static_cast<std::uint32_t>(e - '0');
            for (int k = 0; k < 2 && pos_ < t_.size() && t_[pos_] >= '0' && t_[pos_] <= '7'; ++k) {
              cp = cp * 8 + static_cast<std::uint32_t>(t_[pos_++] - '0');
            }
            if (bytes) {
              out.push_back(static_cast<char>(cp & 0xFF));
            } else {
              text::append_utf8(out, cp);
            }
          } else {  // Python keeps unknown escapes as they are
            out.push_back('\\');
            out.push_back(e);
          }
      }
    }
  }

  // Integers only (a shape's dimensions); a float or anything else fails,
  // as numpy's header checks would. Python 2 writers added an "L".
  bool number(PyValue& out) {
    if (t_[pos_] == '-' || t_[pos_] == '+') {
      ++pos_;
      skip_space();
    }
    std::size_t start = pos_;
    while (pos_ < t_.size() &&
           (std::isalnum(static_cast<unsigned char>(t_[pos_])) || t_[pos_] == '_')) {
      ++pos_;
    }
    std::string_view digits = t_.substr(start, pos_ - start);
    if (digits.empty() || digits[0] < '0' || digits[0] > '9') return false;
    if (digits.back() == 'L' || digits.back() == 'l') digits.remove_suffix(1);
    for (char c : digits) {
      if (!(std::isxdigit(static_cast<unsigned char>(c)) || c == '_' || c == 'x' || c == 'X' ||
            c == 'o' || c == 'O')) {
        return false;
      }
    }
    out.kind = PyValue::Kind::kInt;
    return true;
  }

  bool name(PyValue& out) {
    for (auto [word, kind] : {std::pair{std::string_view("True"), PyValue::Kind::kBool},
                              std::pair{std::string_view("False"), PyValue::Kind::kBool},
                              std::pair{std::string_view("None"), PyValue::Kind::kNone}}) {
      if (t_.substr(pos_, word.size()) != word) continue;
      std::size_t after = pos_ + word.size();
      if (after < t_.size() &&
          (std::isalnum(static_cast<unsigned char>(t_[after])) || t_[after] == '_')) {
        continue;
      }
      pos_ = after;
      out.kind = kind;
      return true;
    }
    return false;
  }

  std::string_view t_;
  std::size_t pos_ = 0;
};

enum class Dtype { kPlain, kObject, kInvalid };

// numpy.dtype(str) gives an object dtype for 'O' (with any byte order or
// size), for the name "object", and inside comma-separated or shaped forms
// ("i4,O", "(2,)O"); the simple one-type form is read exactly, anything
// else counts as object when it mentions one at all.
Dtype typestr_dtype(std::string_view s) {
  std::string_view t = s;
  if (!t.empty() && std::strchr("<>|=", t[0]) != nullptr) t.remove_prefix(1);
  bool simple = !t.empty() && (std::isalpha(static_cast<unsigned char>(t[0])) || t[0] == '?');
  if (simple) {
    std::size_t i = 1;
    while (i < t.size() && std::isdigit(static_cast<unsigned char>(t[i]))) ++i;
    if (i < t.size() && t[i] == '[' && t.back() == ']') {
      for (std::size_t k = i + 1; k + 1 < t.size(); ++k) {
        if (!std::isalnum(static_cast<unsigned char>(t[k]))) simple = false;
      }
      i = t.size();
    }
    simple = simple && i == t.size();
  }
  if (simple) return t[0] == 'O' ? Dtype::kObject : Dtype::kPlain;
  return s.find('O') != std::string_view::npos || s.find("object") != std::string_view::npos
             ? Dtype::kObject
             : Dtype::kPlain;
}

Dtype combine(Dtype a, Dtype b) {
  if (a == Dtype::kInvalid || b == Dtype::kInvalid) return Dtype::kInvalid;
  return (a == Dtype::kObject || b == Dtype::kObject) ? Dtype::kObject : Dtype::kPlain;
}

// A field of a structured descr, as Python iterates it: its length and its
// second element (the field's dtype). A string yields its characters and a
// dict its keys, so ['xO'] and {'xO': 0} both describe a field 'x' of
// dtype 'O'. False when Python could not iterate it.
bool field_parts(const PyValue& field, std::size_t& size, const PyValue*& second, PyValue& holder) {
  second = nullptr;
  switch (field.kind) {
    case PyValue::Kind::kList:
    case PyValue::Kind::kTuple:
      size = field.items.size();
      if (size >= 2) second = &field.items[1];
      return true;
    case PyValue::Kind::kDict:
      size = field.items.size() / 2;
      if (size >= 2) second = &field.items[2];
      return true;
    case PyValue::Kind::kStr: {
      // Characters are code points; a multi-byte one is never a dtype letter.
      size = 0;
      for (std::size_t i = 0; i < field.text.size();) {
        auto c = static_cast<unsigned char>(field.text[i]);
        std::size_t len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
        len = std::min(len, field.text.size() - i);
        if (++size == 2) holder = PyValue{PyValue::Kind::kStr, field.text.substr(i, len), {}};
        i += len;
      }
      if (size >= 2) second = &holder;
      return true;
    }
    case PyValue::Kind::kBytes:  // yields ints, which are no dtype
      size = field.text.size();
      holder = PyValue{PyValue::Kind::kInt, {}, {}};
      second = &holder;
      return true;
    default:
      return false;
  }
}

// What numpy.lib.format.descr_to_dtype makes of a descr: a string is a
// dtype, a tuple is (dtype, shape), anything else is iterated as fields
// (name, dtype) or (name, dtype, shape).
Dtype descr_dtype(const PyValue& v, int depth) {
  if (depth > kMaxLiteralDepth) return Dtype::kInvalid;
  if (v.kind == PyValue::Kind::kStr) return typestr_dtype(v.text);
  if (v.kind == PyValue::Kind::kTuple) {
    return v.items.empty() ? Dtype::kInvalid : descr_dtype(v.items[0], depth + 1);
  }
  if (v.kind != PyValue::Kind::kList && v.kind != PyValue::Kind::kDict) return Dtype::kInvalid;
  const std::size_t step = v.kind == PyValue::Kind::kDict ? 2 : 1;  // a dict's fields are its keys
  Dtype result = Dtype::kPlain;
  for (std::size_t i = 0; i < v.items.size(); i += step) {
    std::size_t size = 0;
    const PyValue* second = nullptr;
    PyValue holder;
    if (!field_parts(v.items[i], size, second, holder) || (size != 2 && size != 3)) {
      return Dtype::kInvalid;
    }
    result = combine(result, descr_dtype(*second, depth + 1));
    if (result == Dtype::kInvalid) return result;
  }
  return result;
}

// numpy.lib.format._read_array_header's checks: a dict with exactly the keys
// descr, fortran_order and shape; a bool; a tuple of ints; a valid descr.
// Returns the dtype kind, or kInvalid with `why` set.
Dtype npy_header_dtype(std::string_view header, std::string& why) {
  std::optional<PyValue> root = LiteralParser(header).parse();
  if (!root) {
    why = "the header is not a Python literal this scanner reads";
    return Dtype::kInvalid;
  }
  if (root->kind != PyValue::Kind::kDict) {
    why = "the header is not a dict";
    return Dtype::kInvalid;
  }
  const PyValue* descr = nullptr;
  const PyValue* fortran = nullptr;
  const PyValue* shape = nullptr;
  for (std::size_t i = 0; i < root->items.size(); i += 2) {
    const PyValue& key = root->items[i];
    const PyValue* value = &root->items[i + 1];
    if (key.kind == PyValue::Kind::kStr && key.text == "descr") {
      descr = value;
    } else if (key.kind == PyValue::Kind::kStr && key.text == "fortran_order") {
      fortran = value;
    } else if (key.kind == PyValue::Kind::kStr && key.text == "shape") {
      shape = value;
    } else {
      why = "the header has keys other than descr, fortran_order and shape";
      return Dtype::kInvalid;
    }
  }
  if (!descr || !fortran || !shape) {
    why = "the header lacks descr, fortran_order or shape";
    return Dtype::kInvalid;
  }
  // isinstance(True, int) holds in Python, so booleans pass as dimensions.
  if (shape->kind != PyValue::Kind::kTuple ||
      !std::all_of(shape->items.begin(), shape->items.end(), [](const PyValue& d) {
        return d.kind == PyValue::Kind::kInt || d.kind == PyValue::Kind::kBool;
      })) {
    why = "shape is not a tuple of integers";
    return Dtype::kInvalid;
  }
  if (fortran->kind != PyValue::Kind::kBool) {
    why = "fortran_order is not a bool";
    return Dtype::kInvalid;
  }
  Dtype d = descr_dtype(*descr, 0);
  if (d == Dtype::kInvalid) why = "descr is not a dtype description";
  return d;
}

// An .npy array: only an object dtype stores its data as a pickle (numpy's
// write_array pickles the whole array after the header).
void scan_npy(BufferedReader& in, Report& r, const std::string& member) {
  std::uint8_t prefix[8];
  if (in.read(prefix) != sizeof prefix || std::memcmp(prefix, "\x93NUMPY", 6) != 0) {
    malformed(r, ".npy header is truncated", member);
    return;
  }
  const int major = prefix[6];
  const int minor = prefix[7];
  if ((major != 1 && major != 2 && major != 3) || minor != 0) {
    malformed(
        r, "unsupported .npy format version " + std::to_string(major) + "." + std::to_string(minor),
        member);
    return;
  }
  std::uint8_t len_bytes[4] = {};
  const std::size_t len_size = major == 1 ? 2 : 4;
  if (in.read(std::span(len_bytes, len_size)) != len_size) {
    malformed(r, ".npy header is truncated", member);
    return;
  }
  std::uint64_t len = 0;
  for (std::size_t i = 0; i < len_size; ++i) len |= std::uint64_t{len_bytes[i]} << (8 * i);
  if (len > kMaxNpyHeaderBytes) {
    malformed(r,
              ".npy header of " + std::to_string(len) + " bytes is over the scanner's " +
                  std::to_string(kMaxNpyHeaderBytes >> 20) + " MiB limit",
              member);
    return;
  }
  std::string header(static_cast<std::size_t>(len), '\0');
  if (in.read(std::span(reinterpret_cast<std::uint8_t*>(header.data()), header.size())) !=
      header.size()) {
    malformed(r, ".npy header is truncated", member);
    return;
  }
  // Versions 1 and 2 are latin-1, version 3 UTF-8; only ASCII matters to a
  // valid header, and a latin-1 byte never spells an ASCII letter.
  std::string why;
  Dtype d = npy_header_dtype(header, why);
  if (d == Dtype::kInvalid) {
    malformed(r, ".npy header: " + why, member);
    return;
  }
  if (d == Dtype::kObject) scan_pickles(in, r, member, false);
}

// --- zips ----------------------------------------------------------------------

enum class ZipKind { kGeneric, kPytorch, kNpz, kKeras };

ZipKind zip_kind(std::string_view format) {
  if (format == "pytorch") return ZipKind::kPytorch;
  if (format == "npz") return ZipKind::kNpz;
  if (format == "keras") return ZipKind::kKeras;
  return ZipKind::kGeneric;
}

void scan_zip_members(ZipWalker& zip, ZipKind kind, Report& r, const std::string& prefix,
                      int depth);

// A member a pickle-based loader may open: sniffed the way scan_file sniffs
// a file, then scanned as what it is.
void scan_member_stream(BufferedReader& in, Report& r, const std::string& member,
                        const std::string& name, int depth) {
  Bytes head = in.peek(manifest::kFormatSniffBytes);
  const std::string format = manifest::detect_format(head, name);
  if (is_zip(head)) {
    if (depth >= kMaxNesting) {
      malformed(
          r,
          "archive nested more than " + std::to_string(kMaxNesting) + " levels deep: not scanned",
          member);
      return;
    }
    ZipWalker inner(in);
    scan_zip_members(inner, zip_kind(format), r, member, depth + 1);
    return;
  }
  if (format == "npy") {
    scan_npy(in, r, member);
  } else if (format == "pytorch") {
    scan_legacy_torch(in, r, member);
  } else if (format == "joblib") {
    scan_joblib(in, r, member);
  } else {
    scan_pickles(in, r, member, false);
  }
}

void read_keras_config(BufferedReader& in, Report& r, const std::string& member) {
  std::string json;
  std::vector<std::uint8_t> chunk(readers::kStreamBufferBytes);
  for (;;) {
    std::size_t n = in.read(chunk);
    if (n == 0) break;
    if (n > kMaxKerasConfigBytes - json.size()) {
      malformed(r,
                "config.json is larger than " + std::to_string(kMaxKerasConfigBytes >> 20) + " MiB",
                member);
      return;
    }
    json.append(reinterpret_cast<const char*>(chunk.data()), n);
  }
  if (!in.error().empty()) return;  // reported by the caller; half a config proves nothing
  check_keras_config(json, r, member);
}

void scan_zip_members(ZipWalker& zip, ZipKind kind, Report& r, const std::string& prefix,
                      int depth) {
  while (zip.next()) {
    if (!zip.is_file()) continue;
    const std::string& name = zip.name();
    const std::string member = join_member(prefix, name);
    if (zip.encrypted()) {
      // Nothing can load it without the password, and nothing here can read it.
      r.add(Severity::kUnknown, "malformed", "encrypted member: not scanned", member);
      continue;
    }
    if (kind == ZipKind::kPytorch && is_torch_storage(name)) continue;
    BufferedReader& in = zip.data();
    if (kind == ZipKind::kKeras && name == "config.json") {
      read_keras_config(in, r, member);
      report_stream_error(in, r, member);
      continue;
    }
    const bool named = has_pickle_name(name);
    Bytes head = in.peek(8);
    if (!in.error().empty() && !named) {
      // Its first bytes could not even be read (an unsupported compression
      // method, say): whether it is a pickle cannot be told.
      r.add(Severity::kUnknown, "malformed", in.error(), member);
      continue;
    }
    // numpy.load opens every member that starts with the .npy magic, named
    // .npy or not.
    if (starts_with(head, "\x93NUMPY")) {
      scan_npy(in, r, member);
    } else if (named || starts_with_proto(head)) {
      scan_member_stream(in, r, member, name, depth);
    }
    report_stream_error(in, r, member);
  }
  if (!zip.error().empty()) malformed(r, zip.error(), prefix);
}

void scan_zip_file(readers::FileReader& file, ZipKind kind, Report& r) {
  std::optional<std::uint64_t> span = readers::zip_directory_span(file);
  if (span && *span > kMaxZipDirectoryBytes) {
    malformed(r,
              "zip central directory of " + std::to_string(*span) +
                  " bytes is over the scanner's " + std::to_string(kMaxZipDirectoryBytes >> 20) +
                  " MiB limit: not scanned",
              {});
    return;
  }
  ZipWalker zip(file);
  scan_zip_members(zip, kind, r, {}, 0);
}

}  // namespace

namespace {
bool has_pickle_extension(std::string_view name) {
  const auto dot = name.rfind('.');
  if (dot == std::string_view::npos) return false;
  std::string ext(name.substr(dot + 1));
  for (char& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return ext == "pkl" || ext == "pickle" || ext == "joblib" || ext == "jbl" || ext == "pt" ||
         ext == "pth";
}
}  // namespace

Report scan_file(const std::filesystem::path& file, std::string_view filename) {
  readers::Utf8Ctype utf8;
  readers::FileReader in(file);
  Report report;
  Bytes head = in.peek(manifest::kFormatSniffBytes);
  const std::string own_name = file.filename().string();
  report.format = manifest::detect_format(head, filename.empty() ? own_name : filename);
  const std::string& f = report.format;
  const bool zip = is_zip(head);

  if (zip && (f == "pytorch" || f == "npz" || f == "keras" || f == "zip")) {
    report.scanned = true;
    scan_zip_file(in, zip_kind(f), report);
  } else if (f == "pickle") {
    report.scanned = true;
    scan_pickles(in, report, {}, false);
  } else if (f == "joblib") {
    report.scanned = true;
    scan_joblib(in, report, {});
  } else if (f == "pytorch") {
    report.scanned = true;
    scan_legacy_torch(in, report, {});
  } else if (f == "npy") {
    report.scanned = true;
    scan_npy(in, report, {});
  } else if (f == "keras" || f == "hdf5") {
    report.scanned = true;
    check_keras_hdf5(in, report, {});
  } else if (f == "safetensors") {
    report.scanned = true;
    check_safetensors(in, in.size(), report, {});
  } else if (f == "onnx") {
    report.scanned = true;
    check_onnx(in, report, {});
  } else if (head.size() >= 2 && head[0] == 0x80 &&
             has_pickle_extension(filename.empty() ? own_name : filename)) {
    // Named like a pickle and opening with PROTO, but not taken for one by
    // detect_format (a bad opcode, a protocol from the future): whoever
    // loads it will try, so say how it is broken. (Raw weights under other
    // names may open with these bytes too.)
    report.format = "pickle";
    report.scanned = true;
    scan_pickles(in, report, {}, false);
  }
  return report;
}

}  // namespace mlpack::scan
