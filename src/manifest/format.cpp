#include "mlpack/manifest/format.hpp"

#include <algorithm>
#include <array>

namespace mlpack::manifest {
namespace {

// The head comes from untrusted files, so every read goes through these
// checks; nothing below indexes `head` without first asking has().
using Bytes = std::span<const std::uint8_t>;

bool has(Bytes b, std::size_t off, std::size_t n) {
  return off <= b.size() && n <= b.size() - off;
}

std::uint64_t read_le(Bytes b, std::size_t off, std::size_t n) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < n; ++i) v |= std::uint64_t{b[off + i]} << (8 * i);
  return v;
}

std::string_view as_chars(Bytes b) {
  return std::string_view(reinterpret_cast<const char*>(b.data()), b.size());
}

bool matches_at(Bytes b, std::size_t off, std::string_view sig) {
  return has(b, off, sig.size()) && as_chars(b).substr(off, sig.size()) == sig;
}

bool contains(Bytes b, std::string_view needle) {
  return as_chars(b).find(needle) != std::string_view::npos;
}

char ascii_lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
  }
  return true;
}

// Only compared, never copied, so odd or huge file names cost nothing.
class Extension {
 public:
  explicit Extension(std::string_view filename) {
    std::size_t slash = filename.find_last_of("/\\");
    std::string_view base = slash == std::string_view::npos ? filename : filename.substr(slash + 1);
    std::size_t dot = base.rfind('.');
    // A leading dot marks a hidden file (".keras" is a folder name, not an extension).
    if (dot != std::string_view::npos && dot > 0) ext_ = base.substr(dot + 1);
  }
  bool is(std::string_view e) const { return iequals(ext_, e); }
  template <typename... Ts>
  bool any(Ts... es) const {
    return (is(es) || ...);
  }

 private:
  std::string_view ext_;
};

// --- text ------------------------------------------------------------------

enum class Controls { kText, kJson };

bool allowed_control(std::uint8_t c, Controls mode) {
  if (c == '\t' || c == '\n' || c == '\r') return true;
  // Form feeds and ANSI colour escapes turn up in real logs and sources; JSON forbids them.
  return mode == Controls::kText && (c == '\f' || c == '\v' || c == 0x1b);
}

// Validates UTF-8 in [begin, end). `cut_tail` accepts a multi-byte sequence
// cut off by `end`, for when `end` is where the head was cut rather than
// where the file ends.
bool is_utf8_text(Bytes b, std::size_t begin, std::size_t end, Controls mode, bool cut_tail) {
  std::size_t i = begin;
  while (i < end) {
    std::uint8_t c = b[i];
    if (c < 0x80) {
      if (c < 0x20 && !allowed_control(c, mode)) return false;
      ++i;
      continue;
    }
    std::size_t len;
    std::uint32_t cp;
    std::uint32_t min;
    if ((c & 0xE0) == 0xC0) {
      len = 2, cp = c & 0x1Fu, min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3, cp = c & 0x0Fu, min = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4, cp = c & 0x07u, min = 0x10000;
    } else {
      return false;
    }
    for (std::size_t k = 1; k < len; ++k) {
      if (i + k >= end) return cut_tail;
      std::uint8_t cc = b[i + k];
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3Fu);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += len;
  }
  return true;
}

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

std::size_t skip_space(std::string_view t, std::size_t pos) {
  while (pos < t.size() && is_space(t[pos])) ++pos;
  return pos;
}

bool starts_json_literal(std::string_view t, std::size_t pos, std::string_view word) {
  if (t.substr(pos, word.size()) != word) return false;
  std::size_t after = pos + word.size();
  return after >= t.size() || is_space(t[after]) || t[after] == ',' || t[after] == ']';
}

// A bare leading '[' is also how INI and TOML files start ("[section]"), so
// the first element has to look like a JSON value too.
bool looks_like_json(std::string_view t) {
  std::size_t pos = skip_space(t, 0);
  if (pos >= t.size()) return false;
  char open = t[pos];
  if (open != '{' && open != '[') return false;
  pos = skip_space(t, pos + 1);
  if (pos >= t.size()) return true;  // "{" or "[" then the head ends: nothing contradicts it
  char c = t[pos];
  if (open == '{') return c == '"' || c == '}';
  return c == '{' || c == '[' || c == '"' || c == ']' || c == '-' || (c >= '0' && c <= '9') ||
         starts_json_literal(t, pos, "true") || starts_json_literal(t, pos, "false") ||
         starts_json_literal(t, pos, "null");
}

bool is_yaml_key_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-' || c == '.';
}

// Plain prose, e-mail headers and source code often contain "word: text", so a
// document only counts when every top-level line is a mapping key, a list
// item, a comment or an indented continuation, with at least two keys.
bool looks_like_yaml(std::string_view t, bool head_cut) {
  if (t.starts_with("%YAML")) return true;
  if (t.starts_with("---") && (t.size() == 3 || is_space(t[3]))) return true;
  constexpr int kMaxLines = 200;
  int keys = 0;
  int lines = 0;
  std::size_t pos = 0;
  while (pos < t.size() && lines < kMaxLines) {
    std::size_t nl = t.find('\n', pos);
    // The last line of a cut head is partial and proves nothing either way.
    if (nl == std::string_view::npos && head_cut) break;
    std::string_view line = t.substr(pos, nl == std::string_view::npos ? nl : nl - pos);
    pos = nl == std::string_view::npos ? t.size() : nl + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    std::size_t first = line.find_first_not_of(' ');
    if (first == std::string_view::npos || line[first] == '#') continue;
    ++lines;
    if (line[0] == '\t') return false;  // YAML forbids tab indentation
    if (first > 0) {
      if (keys == 0) return false;
      continue;
    }
    if (line == "-" || line.starts_with("- ")) continue;
    std::size_t k = 0;
    while (k < line.size() && is_yaml_key_char(line[k])) ++k;
    if (k == 0 || k >= line.size() || line[k] != ':') return false;
    if (k + 1 < line.size() && line[k + 1] != ' ' && line[k + 1] != '\t') return false;
    ++keys;
  }
  return keys >= 2;
}

// --- zip -------------------------------------------------------------------

constexpr std::string_view kZipLocal = "PK\x03\x04";
constexpr std::string_view kZipCentral = "PK\x01\x02";
constexpr std::string_view kZipEnd = "PK\x05\x06";

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Facts about member names, gathered as they are found so no list is kept.
struct ZipNames {
  bool pytorch = false;
  bool keras_weights = false;
  bool keras_metadata = false;
  bool keras_config = false;
  int npy = 0;
  int other = 0;

  void add(std::string_view name) {
    if (name.empty()) return;
    bool torch = false;
    std::size_t slash = name.find('/');
    // torch.save writes "<dir>/data.pkl", "<dir>/version" (or ".data/version")
    // and one "<dir>/data/<n>" per storage; a generic "data/" folder is common
    // elsewhere, so only numbered storage records count.
    if (name.ends_with("data.pkl") || name.ends_with(".data/version")) torch = true;
    if (slash != std::string_view::npos && slash > 0 && name.substr(slash) == "/version") {
      torch = true;
    }
    for (std::size_t at = name.find("/data/"); at != std::string_view::npos;
         at = name.find("/data/", at + 1)) {
      if (all_digits(name.substr(at + 6))) torch = true;
    }
    if (torch) pytorch = true;
    if (name == "model.weights.h5") {
      keras_weights = true;
    } else if (name == "metadata.json") {
      keras_metadata = true;
    } else if (name == "config.json") {
      keras_config = true;
    }
    if (name.ends_with(".npy")) {
      ++npy;
    } else if (!name.ends_with("/")) {  // folder entries say nothing about the contents
      ++other;
    }
  }
};

bool plausible_name(Bytes b, std::size_t off, std::size_t len) {
  if (len == 0 || len > 1024 || !has(b, off, len)) return false;
  for (std::size_t i = 0; i < len; ++i) {
    if (b[off + i] < 0x20 || b[off + i] == 0x7f) return false;
  }
  return true;
}

// Local headers store 0xFFFFFFFF when the real size lives in the Zip64
// extra field (numpy.savez always writes it that way).
bool zip64_compressed_size(Bytes b, std::size_t extra_off, std::size_t extra_len,
                           std::uint32_t usize, std::uint64_t& csize) {
  std::size_t pos = extra_off;
  std::size_t end = extra_off + extra_len;
  while (pos + 4 <= end) {
    std::uint64_t id = read_le(b, pos, 2);
    std::size_t len = static_cast<std::size_t>(read_le(b, pos + 2, 2));
    std::size_t body = pos + 4;
    if (len > end - body) return false;
    if (id == 0x0001) {
      std::size_t at = body + (usize == 0xFFFFFFFFu ? 8 : 0);
      if (at + 8 > body + len) return false;
      csize = read_le(b, at, 8);
      return true;
    }
    pos = body + len;
  }
  return false;
}

// Members written with a data descriptor may still carry their sizes; the
// descriptor (12 to 24 bytes, signature optional) then sits between them.
std::size_t skip_descriptor(Bytes b, std::size_t data_end) {
  constexpr std::array<std::size_t, 5> kGaps = {0, 12, 16, 20, 24};
  for (std::size_t gap : kGaps) {
    std::size_t at = data_end + gap;
    if (!has(b, at, 4)) return at;  // past the head: the walk will stop there
    if (matches_at(b, at, kZipLocal) || matches_at(b, at, kZipCentral) ||
        matches_at(b, at, kZipEnd)) {
      return at;
    }
  }
  return data_end;
}

// When a member's size is unknown (streamed with a data descriptor), the next
// header cannot be computed, so the rest of the head is searched for local and
// central directory headers instead.
void scan_for_headers(Bytes b, std::size_t from, ZipNames& names) {
  std::string_view t = as_chars(b);
  for (std::size_t at = t.find("PK", from); at != std::string_view::npos;
       at = t.find("PK", at + 1)) {
    if (matches_at(b, at, kZipLocal) && has(b, at, 30)) {
      std::size_t len = read_le(b, at + 26, 2);
      if (plausible_name(b, at + 30, len)) names.add(t.substr(at + 30, len));
    } else if (matches_at(b, at, kZipCentral) && has(b, at, 46)) {
      std::size_t len = read_le(b, at + 28, 2);
      if (plausible_name(b, at + 46, len)) names.add(t.substr(at + 46, len));
    }
  }
}

ZipNames read_zip_names(Bytes b) {
  ZipNames names;
  std::string_view t = as_chars(b);
  std::size_t pos = 0;
  while (matches_at(b, pos, kZipLocal) && has(b, pos, 30)) {
    std::uint32_t flags = static_cast<std::uint32_t>(read_le(b, pos + 6, 2));
    std::uint64_t csize = read_le(b, pos + 18, 4);
    std::uint32_t usize = static_cast<std::uint32_t>(read_le(b, pos + 22, 4));
    std::size_t name_len = read_le(b, pos + 26, 2);
    std::size_t extra_len = read_le(b, pos + 28, 2);
    std::size_t name_off = pos + 30;
    if (!has(b, name_off, name_len)) break;
    names.add(t.substr(name_off, name_len));
    std::size_t extra_off = name_off + name_len;
    if (csize == 0xFFFFFFFFu) {
      if (!has(b, extra_off, extra_len)) break;
      if (!zip64_compressed_size(b, extra_off, extra_len, usize, csize)) {
        scan_for_headers(b, extra_off + extra_len, names);
        break;
      }
    }
    bool descriptor = (flags & 0x8u) != 0;
    if (descriptor && csize == 0) {
      scan_for_headers(b, extra_off, names);
      break;
    }
    // csize may be any 64-bit value from a Zip64 extra: compare, never add,
    // so a wrapped sum cannot send the walk backwards into a loop.
    std::size_t data_off = extra_off + extra_len;
    if (data_off >= b.size() || csize >= b.size() - data_off) break;  // next header not in head
    std::size_t next = data_off + static_cast<std::size_t>(csize);
    if (descriptor) next = skip_descriptor(b, next);
    pos = next;
  }
  return names;
}

std::string_view classify_zip(Bytes b, const Extension& ext) {
  ZipNames names = read_zip_names(b);
  if (names.pytorch) return "pytorch";
  // "config.json" or "metadata.json" alone is too common in other archives;
  // Keras v3 always writes both, plus the weights.
  if (names.keras_weights || (names.keras_metadata && names.keras_config) ||
      ((names.keras_metadata || names.keras_config) && contains(b, "keras"))) {
    return "keras";
  }
  if (names.npy > 0 && names.other == 0) return "npz";
  if (ext.any("pt", "pth", "bin")) return "pytorch";
  if (ext.is("npz")) return "npz";
  if (ext.is("keras")) return "keras";
  return "zip";
}

// --- pickle ----------------------------------------------------------------

bool is_pickle_opcode(std::uint8_t c) {
  // Opcodes of protocols 0-5 (Lib/pickletools.py); PROTO (0x80) itself is
  // left out because it may only come first.
  constexpr std::string_view kAscii = "(.012FIJKLMNPQRSTUVXabcdefghijklopqrstu}])BCG";
  if (c >= 0x81 && c <= 0x98) return true;
  return c != 0 && kAscii.find(static_cast<char>(c)) != std::string_view::npos;
}

// torch.save's legacy format begins with the pickled magic number 0x1950a86a20f9469cfc6c.
constexpr std::string_view kTorchLegacyMagic =
    "\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19";

bool is_pickle(Bytes b, const Extension& ext) {
  if (b.size() >= 3 && b[0] == 0x80 && b[1] >= 2 && b[1] <= 5 && is_pickle_opcode(b[2])) {
    return true;
  }
  // Protocol 0/1 pickles have no header and are often plain ASCII, so only a
  // pickle-ish extension makes their first opcode meaningful.
  constexpr std::string_view kFirstOpcodes = "(]})cISVNFLJKMXUGT";
  return !b.empty() && ext.any("pkl", "pickle", "joblib", "jbl", "pt", "pth") &&
         kFirstOpcodes.find(static_cast<char>(b[0])) != std::string_view::npos;
}

bool is_compressed_stream(Bytes b) {
  if (b.size() >= 2 && b[0] == 0x78 &&
      (b[1] == 0x01 || b[1] == 0x5e || b[1] == 0x9c || b[1] == 0xda)) {
    return true;
  }
  return matches_at(b, 0, "\x1f\x8b") || matches_at(b, 0, "BZh") ||
         matches_at(b, 0,
                    std::string_view("\xfd"
                                     "7zXZ\x00",
                                     6)) ||
         matches_at(b, 0, "\x04\x22\x4d\x18") || matches_at(b, 0, "ZF") ||
         // joblib's "lzma" option writes the legacy .lzma container, whose
         // first byte is the default lc/lp/pb properties byte.
         matches_at(b, 0, std::string_view("\x5d\x00\x00", 3));
}

// --- safetensors -----------------------------------------------------------

bool is_safetensors(Bytes b) {
  if (b.size() < 9 || b[8] != '{') return false;
  std::uint64_t n = read_le(b, 0, 8);
  if (n < 2 || n > 100'000'000) return false;
  bool cut = n > b.size() - 8;
  std::size_t end = cut ? b.size() : static_cast<std::size_t>(8 + n);
  if (!is_utf8_text(b, 8, end, Controls::kJson, cut)) return false;
  std::string_view header = as_chars(b).substr(8, end - 8);
  std::size_t next = skip_space(header, 1);
  if (next < header.size() && header[next] != '"' && header[next] != '}') return false;
  if (!cut) {
    // The writer pads the header with spaces to an 8-byte boundary.
    std::size_t last = header.find_last_not_of(' ');
    if (last == std::string_view::npos || header[last] != '}') return false;
  }
  return true;
}

// --- onnx ------------------------------------------------------------------

bool read_varint(Bytes b, std::size_t& pos, std::uint64_t& out) {
  out = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (pos >= b.size()) return false;
    std::uint8_t c = b[pos++];
    out |= std::uint64_t{c & 0x7fu} << shift;
    if ((c & 0x80) == 0) return true;
  }
  return false;
}

// Wire type of each ModelProto field (onnx.proto), -1 when unknown.
int model_proto_wire_type(std::uint64_t field) {
  switch (field) {
    case 1:  // ir_version
    case 5:  // model_version
      return 0;
    case 2:   // producer_name
    case 3:   // producer_version
    case 4:   // domain
    case 6:   // doc_string
    case 7:   // graph
    case 8:   // opset_import
    case 14:  // metadata_props
    case 20:  // training_info
    case 25:  // functions
    case 26:  // configuration
      return 2;
    default:
      return -1;
  }
}

bool printable_ascii(Bytes b, std::size_t off, std::size_t len) {
  for (std::size_t i = 0; i < len; ++i) {
    if (b[off + i] < 0x20 || b[off + i] > 0x7e) return false;
  }
  return true;
}

// OperatorSetIdProto: optional domain (1, string) and a version (2, varint).
bool is_opset_import(Bytes b, std::size_t off, std::size_t len) {
  Bytes msg = b.subspan(off, len);
  std::size_t pos = 0;
  bool version = false;
  while (pos < msg.size()) {
    std::uint64_t tag;
    if (!read_varint(msg, pos, tag)) return false;
    if (tag == 0x0a) {
      std::uint64_t n;
      if (!read_varint(msg, pos, n) || n > msg.size() - pos || !printable_ascii(msg, pos, n)) {
        return false;
      }
      pos += n;
    } else if (tag == 0x10) {
      std::uint64_t v;
      if (!read_varint(msg, pos, v) || v == 0 || v > 1000) return false;
      version = true;
    } else {
      return false;
    }
  }
  return version;
}

struct OnnxEvidence {
  bool prefix = false;  // ir_version then a ModelProto field
  bool valid = false;   // every top-level field in the head decodes
  bool producer = false;
  bool opset = false;
};

OnnxEvidence inspect_onnx(Bytes b) {
  OnnxEvidence ev;
  if (b.size() < 3 || b[0] != 0x08 || b[1] < 1 || b[1] > 20) return ev;
  std::size_t pos = 0;
  int fields = 0;
  while (pos < b.size()) {
    std::uint64_t tag;
    if (!read_varint(b, pos, tag)) break;  // cut by the head's end
    std::uint64_t field = tag >> 3;
    int wire = static_cast<int>(tag & 7);
    int expected = model_proto_wire_type(field);
    if (field == 0 || (expected >= 0 && wire != expected)) return ev;
    if (fields == 1) {
      if (expected < 0 || field == 1) return ev;
      ev.prefix = true;
    }
    if (wire == 0) {
      std::uint64_t v;
      if (!read_varint(b, pos, v)) break;
    } else if (wire == 1 || wire == 5) {
      std::size_t n = wire == 1 ? 8 : 4;
      if (!has(b, pos, n)) break;
      pos += n;
    } else if (wire == 2) {
      std::uint64_t n;
      if (!read_varint(b, pos, n)) break;
      if (n > b.size() - pos) break;  // a large graph runs past the head
      std::size_t len = static_cast<std::size_t>(n);
      if (field == 2 && len >= 1 && len <= 128 && printable_ascii(b, pos, len)) ev.producer = true;
      if (field == 8 && is_opset_import(b, pos, len)) ev.opset = true;
      pos += len;
    } else {
      return ev;  // groups and reserved wire types never occur in ModelProto
    }
    ++fields;
  }
  ev.valid = ev.prefix;
  return ev;
}

bool is_onnx(Bytes b, const Extension& ext) {
  OnnxEvidence ev = inspect_onnx(b);
  if (!ev.prefix) return false;
  if (ext.is("onnx")) return true;
  // Three plausible bytes are easy to hit by chance, so without the extension
  // the whole head must decode and carry something only ONNX writes.
  return ev.valid && (ev.producer || ev.opset || contains(b, "onnx"));
}

// --- hdf5 ------------------------------------------------------------------

constexpr std::string_view kHdf5Signature = "\x89HDF\r\n\x1a\n";

bool is_hdf5(Bytes b) {
  // A user block may precede the superblock; its size is a power of two >= 512.
  constexpr std::array<std::size_t, 4> kOffsets = {0, 512, 1024, 2048};
  for (std::size_t off : kOffsets) {
    if (matches_at(b, off, kHdf5Signature)) return true;
  }
  return false;
}

}  // namespace

std::string detect_format(std::span<const std::uint8_t> head, std::string_view filename) {
  if (head.empty()) return "binary";
  Extension ext(filename);

  if (matches_at(head, 0, "\x93NUMPY")) return "npy";
  if (is_hdf5(head)) {
    if (ext.is("keras") || contains(head, "keras_version") || contains(head, "model_config")) {
      return "keras";
    }
    return "hdf5";
  }
  if (matches_at(head, 0, kZipLocal) || matches_at(head, 0, kZipEnd)) {
    return std::string(classify_zip(head, ext));
  }
  // Checked before pickle and the compressor magics: header lengths such as
  // 0x280 or 0x178 begin with the bytes 80 02 (a protocol-2 pickle) or 78 01
  // (zlib).
  if (is_safetensors(head)) return "safetensors";
  // joblib's compressed dumps are plain compressor streams; nothing in the
  // bytes says joblib, so the extension has to. Checked before pickle because
  // the .lzma container opens with 0x5d, which is also the EMPTY_LIST opcode.
  if (is_compressed_stream(head)) {
    return ext.any("joblib", "jbl", "pkl", "pickle") ? "joblib" : "binary";
  }
  if (is_pickle(head, ext)) {
    if (matches_at(head, 0, kTorchLegacyMagic)) return "pytorch";
    if (ext.any("joblib", "jbl") || contains(head, "joblib") ||
        contains(head, "NumpyArrayWrapper")) {
      return "joblib";
    }
    return "pickle";
  }
  if (is_onnx(head, ext)) return "onnx";

  bool head_cut = head.size() >= kFormatSniffBytes;
  if (is_utf8_text(head, 0, head.size(), Controls::kText, head_cut)) {
    std::string_view text = as_chars(head);
    if (text.starts_with("\xef\xbb\xbf")) text.remove_prefix(3);
    if (looks_like_json(text) || ext.is("json")) return "json";
    if (ext.any("yaml", "yml") || looks_like_yaml(text, head_cut)) return "yaml";
    return "text";
  }
  return "binary";
}

}  // namespace mlpack::manifest
