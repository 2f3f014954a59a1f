// An ONNX tensor can keep its data in another file, named by a path relative
// to the model's folder. A path that is absolute or climbs out with ".."
// makes the loader read any file the user can read (and, with some runtimes,
// write back to it), so such paths are findings.
//
// The ModelProto is walked as a protobuf stream, descending only into the
// messages that can hold tensors; everything else (raw tensor data included)
// is skipped by its length, read and discarded in chunks, never held.
//
// Field numbers, from onnx/onnx.proto:
//   ModelProto        graph = 7, training_info = 20, functions = 25
//   TrainingInfoProto initialization = 1, algorithm = 2 (GraphProto)
//   GraphProto        node = 1, initializer = 5, sparse_initializer = 15
//   NodeProto         attribute = 5
//   FunctionProto     node = 7, attribute_proto = 11
//   AttributeProto    t = 5, g = 6, tensors = 10, graphs = 11,
//                     sparse_tensor = 22, sparse_tensors = 23
//   SparseTensorProto values = 1, indices = 2 (TensorProto)
//   TensorProto       name = 8, external_data = 13, data_location = 14
//   StringStringEntryProto key = 1, value = 2
#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mlpack/scan/scan.hpp"
#include "mlpack/util/text.hpp"

namespace mlpack::scan {
namespace {

// Subgraphs nest three messages deep per level (graph, node, attribute);
// this allows 30 levels of control flow while bounding the recursion.
constexpr int kMaxDepth = 100;
constexpr std::size_t kMaxFindings = 100;
constexpr std::size_t kChunk = 64 * 1024;
// No path is longer (PATH_MAX is 4096); a longer location is refused unread.
constexpr std::uint64_t kMaxLocation = 64 * 1024;
constexpr std::uint64_t kMaxTensorName = 1024;
constexpr std::uint64_t kUnbounded = UINT64_MAX;

constexpr std::uint64_t kDataLocationExternal = 1;

enum Wire : std::uint64_t { kVarint = 0, kFixed64 = 1, kLength = 2, kFixed32 = 5 };

// Thrown inside this file only, and caught by check_onnx.
struct Malformed {
  std::string detail;
};

std::string shown(std::string_view s) {
  constexpr std::size_t kMax = 120;
  std::string out = text::escape_control(s.substr(0, kMax));
  if (s.size() > kMax) out += "...";
  return out;
}

// Why loading `location` would reach outside the model's folder, or empty.
std::string location_problem(std::string_view loc) {
  if (loc.empty()) return "is empty";
  if (loc.find('\0') != std::string_view::npos) return "contains a NUL byte";
  if (loc[0] == '/' || loc[0] == '\\') return "is an absolute path";
  char c = loc[0];
  if (loc.size() >= 2 && loc[1] == ':' && ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'))) {
    return "names a drive";
  }
  // Both separators count: the model may be loaded on Windows.
  std::size_t start = 0;
  while (start <= loc.size()) {
    std::size_t sep = loc.find_first_of("/\\", start);
    std::size_t end = sep == std::string_view::npos ? loc.size() : sep;
    if (loc.substr(start, end - start) == "..") return "climbs out of the model's folder";
    start = end + 1;
  }
  return "";
}

// The input, with its offset, for a parse that never looks back.
class Stream {
 public:
  explicit Stream(Reader& in) : in_(in), buf_(kChunk) {}

  std::uint64_t offset() const { return offset_; }

  bool at_end() {
    if (pos_ < len_) return false;
    fill();
    return len_ == 0;
  }

  std::uint8_t byte() {
    if (at_end()) throw Malformed{"truncated at byte " + std::to_string(offset_)};
    ++offset_;
    return buf_[pos_++];
  }

  // Appends `n` bytes to `out`, or throws when the input ends first.
  void read(std::uint64_t n, std::string* out) {
    while (n > 0) {
      if (at_end()) throw Malformed{"truncated at byte " + std::to_string(offset_)};
      std::size_t take = static_cast<std::size_t>(std::min<std::uint64_t>(n, len_ - pos_));
      if (out) out->append(reinterpret_cast<const char*>(buf_.data() + pos_), take);
      pos_ += take;
      offset_ += take;
      n -= take;
    }
  }
  void skip(std::uint64_t n) { read(n, nullptr); }

 private:
  void fill() {
    pos_ = 0;
    len_ = in_.read(buf_);
  }

  Reader& in_;
  std::vector<std::uint8_t> buf_;
  std::size_t pos_ = 0;
  std::size_t len_ = 0;
  std::uint64_t offset_ = 0;
};

enum class Kind { kModel, kTrainingInfo, kGraph, kNode, kFunction, kAttribute, kSparseTensor };

// Which fields of `kind` are messages worth descending into.
std::optional<Kind> child_kind(Kind kind, std::uint64_t field, bool& is_tensor) {
  is_tensor = false;
  switch (kind) {
    case Kind::kModel:
      if (field == 7) return Kind::kGraph;
      if (field == 20) return Kind::kTrainingInfo;
      if (field == 25) return Kind::kFunction;
      break;
    case Kind::kTrainingInfo:
      if (field == 1 || field == 2) return Kind::kGraph;
      break;
    case Kind::kGraph:
      if (field == 1) return Kind::kNode;
      if (field == 5) is_tensor = true;
      if (field == 15) return Kind::kSparseTensor;
      break;
    case Kind::kNode:
      if (field == 5) return Kind::kAttribute;
      break;
    case Kind::kFunction:
      if (field == 7) return Kind::kNode;
      if (field == 11) return Kind::kAttribute;
      break;
    case Kind::kAttribute:
      if (field == 5 || field == 10) is_tensor = true;
      if (field == 6 || field == 11) return Kind::kGraph;
      if (field == 22 || field == 23) return Kind::kSparseTensor;
      break;
    case Kind::kSparseTensor:
      if (field == 1 || field == 2) is_tensor = true;
      break;
  }
  return std::nullopt;
}

struct Field {
  std::uint64_t number = 0;
  std::uint64_t wire = 0;
  std::uint64_t varint = 0;  // the value, for kVarint
  std::uint64_t end = 0;     // offset just past the value, for kLength
};

class Walker {
 public:
  Walker(Stream& in, Report& report, const std::string& member)
      : in_(in), report_(report), member_(member) {}

  void model() { message(Kind::kModel, kUnbounded, 0); }

  void finish() {
    if (count_ > kMaxFindings) {
      report_.add(Severity::kDangerous, "external-data",
                  std::to_string(count_ - kMaxFindings) + " more external-data problems not listed",
                  member_);
    }
  }

 private:
  std::uint64_t varint(std::uint64_t end) {
    std::uint64_t value = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (in_.offset() >= end) {
        throw Malformed{"varint at byte " + std::to_string(in_.offset()) +
                        " runs past the end of its message"};
      }
      std::uint8_t b = in_.byte();
      // The tenth byte holds bit 63 only; more would not fit 64 bits.
      if (shift == 63 && b > 1) break;
      value |= std::uint64_t{b & 0x7Fu} << shift;
      if (!(b & 0x80)) return value;
    }
    throw Malformed{"varint longer than 64 bits at byte " + std::to_string(in_.offset())};
  }

  void need(std::uint64_t n, std::uint64_t end, std::uint64_t field) {
    if (end != kUnbounded && n > end - in_.offset()) {
      throw Malformed{"field " + std::to_string(field) + " at byte " +
                      std::to_string(in_.offset()) + " declares " + std::to_string(n) +
                      " bytes, its message has " + std::to_string(end - in_.offset()) + " left"};
    }
  }

  // Reads the fields of one message up to `end`, handing each to `on_field`.
  // A length-delimited field the handler leaves unread is skipped; one it
  // reads must be read exactly to its end (the handlers below guarantee it).
  template <typename OnField>
  void fields(std::uint64_t end, OnField on_field) {
    while (end == kUnbounded ? !in_.at_end() : in_.offset() < end) {
      std::uint64_t at = in_.offset();
      std::uint64_t tag = varint(end);
      Field f;
      f.number = tag >> 3;
      f.wire = tag & 7;
      if (f.number == 0) throw Malformed{"field number 0 at byte " + std::to_string(at)};
      switch (f.wire) {
        case kVarint:
          f.varint = varint(end);
          on_field(f);
          break;
        case kFixed64:
          need(8, end, f.number);
          in_.skip(8);
          break;
        case kFixed32:
          need(4, end, f.number);
          in_.skip(4);
          break;
        case kLength: {
          std::uint64_t n = varint(end);
          need(n, end, f.number);
          if (n > UINT64_MAX - in_.offset()) {
            throw Malformed{"field length overflows at byte " + std::to_string(at)};
          }
          f.end = in_.offset() + n;
          on_field(f);
          if (in_.offset() < f.end) in_.skip(f.end - in_.offset());
          break;
        }
        default:
          // 3 and 4 are the groups of proto2, which ONNX never uses; 6 and 7
          // do not exist.
          throw Malformed{"wire type " + std::to_string(f.wire) + " of field " +
                          std::to_string(f.number) + " at byte " + std::to_string(at)};
      }
    }
  }

  void descend(int depth) {
    if (depth > kMaxDepth) {
      throw Malformed{"messages nested deeper than " + std::to_string(kMaxDepth) + " at byte " +
                      std::to_string(in_.offset())};
    }
  }

  void message(Kind kind, std::uint64_t end, int depth) {
    descend(depth);
    fields(end, [&](const Field& f) {
      if (f.wire != kLength) return;
      bool is_tensor = false;
      std::optional<Kind> child = child_kind(kind, f.number, is_tensor);
      if (is_tensor) {
        tensor(f.end, depth + 1);
      } else if (child) {
        message(*child, f.end, depth + 1);
      }
    });
  }

  // Reads a string field the handler wants, up to `max` bytes; a longer one
  // is left for fields() to skip and reported as nullopt.
  std::optional<std::string> string(const Field& f, std::uint64_t max) {
    std::uint64_t n = f.end - in_.offset();
    if (n > max) return std::nullopt;
    std::string out;
    in_.read(n, &out);
    return out;
  }

  // Problems of one tensor, kept until its name (which may come after its
  // external_data) is known. Only as many as can be reported are kept.
  struct Problems {
    std::vector<std::string> kept;
    std::size_t dropped = 0;
    bool has_location = false;
    void push(std::string p) {
      if (kept.size() < kMaxFindings) {
        kept.push_back(std::move(p));
      } else {
        ++dropped;
      }
    }
  };

  void tensor(std::uint64_t end, int depth) {
    descend(depth);
    std::string name;
    std::uint64_t data_location = 0;
    Problems problems;
    fields(end, [&](const Field& f) {
      if (f.number == 14 && f.wire == kVarint) data_location = f.varint;
      if (f.wire != kLength) return;
      if (f.number == 8) {
        name = string(f, kMaxTensorName).value_or("(a name too long to show)");
      } else if (f.number == 13) {
        entry(f.end, depth + 1, problems);
      }
    });
    std::string who = name.empty() ? "a tensor" : "tensor '" + shown(name) + "'";
    for (auto& problem : problems.kept) add(who + ": external data location " + problem);
    count_ += problems.dropped;
    if (data_location == kDataLocationExternal && !problems.has_location) {
      add(who + " keeps its data outside the model but names no location");
    }
  }

  void entry(std::uint64_t end, int depth, Problems& problems) {
    descend(depth);
    std::optional<std::string> key;
    std::optional<std::string> value;
    std::uint64_t value_size = 0;
    fields(end, [&](const Field& f) {
      if (f.wire != kLength) return;
      if (f.number == 1) {
        // Only "location" matters; a longer key is not it.
        key = string(f, 64).value_or(std::string());
      } else if (f.number == 2) {
        value_size = f.end - in_.offset();
        value = string(f, kMaxLocation);
        if (!value) value = std::string();  // too long to read, flagged below by its size
      }
    });
    if (!key || *key != "location") return;
    problems.has_location = true;
    if (value_size > kMaxLocation) {
      problems.push("of " + std::to_string(value_size) + " bytes is longer than any path");
      return;
    }
    // A missing value reads as the empty string, as protobuf defaults it.
    std::string loc = value.value_or("");
    std::string why = location_problem(loc);
    if (!why.empty()) {
      std::string quoted = "'";  // appended: "'" + string trips GCC 12's -Wrestrict
      quoted += shown(loc);
      problems.push(quoted + "' " + why);
    }
  }

  void add(std::string detail) {
    if (++count_ <= kMaxFindings) {
      report_.add(Severity::kDangerous, "external-data", std::move(detail), member_);
    }
  }

  Stream& in_;
  Report& report_;
  const std::string& member_;
  std::size_t count_ = 0;
};

}  // namespace

void check_onnx(Reader& in, Report& report, const std::string& member) {
  Stream stream(in);
  Walker walker(stream, report, member);
  try {
    walker.model();
  } catch (const Malformed& m) {
    report.add(Severity::kDangerous, "malformed", m.detail, member);
  } catch (const std::bad_alloc&) {
    // Every buffer above is bounded, so this is the machine, not the file;
    // still, a scan that could not finish is not a clean one.
    report.add(Severity::kDangerous, "malformed", "out of memory while reading the model", member);
  }
  walker.finish();
}

}  // namespace mlpack::scan
