// safetensors carries no code, but a loader trusts its header to slice the
// data section: offsets out of bounds, overlapping tensors or a byte length
// that does not match dtype x shape are how a crafted file reaches memory it
// should not. Every rule the reference reader (huggingface/safetensors,
// tensor.rs) enforces is checked here, each violation a "header" finding.
#include <algorithm>
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "mlpack/scan/scan.hpp"
#include "mlpack/util/error.hpp"
#include "mlpack/util/json.hpp"
#include "mlpack/util/text.hpp"

namespace mlpack::scan {
namespace {

// The reference reader refuses larger headers; so do we, before allocating.
constexpr std::uint64_t kMaxHeaderBytes = 100'000'000;
// A header value costs ~50 bytes parsed; real headers hold ~10 values per
// tensor, so this allows 400k tensors while keeping a "[0,0,0,..." header
// of 100 MB from costing gigabytes.
constexpr std::size_t kMaxHeaderValues = 4'000'000;
// A hostile header can break every rule for every tensor; the first ones
// say enough, and the report stays small.
constexpr std::size_t kMaxFindings = 100;
constexpr std::size_t kChunk = 64 * 1024;

struct Dtype {
  std::string_view name;
  std::uint64_t bits;
};

// Every dtype of the reference implementation's Dtype enum, with its width.
// The sub-byte ones (F4, F6_*) are why sizes are counted in bits.
constexpr std::array<Dtype, 22> kDtypes = {{
    {"BOOL", 8},    {"U8", 8},          {"I8", 8},          {"F8_E5M2", 8}, {"F8_E4M3", 8},
    {"F8_E8M0", 8}, {"F8_E4M3FNUZ", 8}, {"F8_E5M2FNUZ", 8}, {"F4", 4},      {"F6_E2M3", 6},
    {"F6_E3M2", 6}, {"I16", 16},        {"U16", 16},        {"F16", 16},    {"BF16", 16},
    {"I32", 32},    {"U32", 32},        {"F32", 32},        {"F64", 64},    {"I64", 64},
    {"U64", 64},    {"C64", 64},
}};

const Dtype* find_dtype(std::string_view name) {
  for (const auto& d : kDtypes) {
    if (d.name == name) return &d;
  }
  return nullptr;
}

// Names come from the file: shown escaped and cut, so a finding can neither
// drive a terminal nor grow to megabytes.
std::string in_quotes(std::string_view s) {
  constexpr std::size_t kMax = 120;
  // Appended piece by piece: "'" + string trips GCC 12's -Wrestrict (PR105329).
  std::string out = "'";
  out += text::escape_control(s.substr(0, kMax));
  if (s.size() > kMax) out += "...";
  return out + "'";
}

// A value as a finding shows it: scalars as written, short arrays of
// scalars in full, anything bigger by its kind (dumping a hostile 100 MB
// array just to cut it would cost 100 MB).
std::string json_text(const json::Value& v) {
  constexpr std::size_t kMax = 60;
  auto cut = [](std::string_view s) {
    return text::escape_control(s.substr(0, kMax)) + (s.size() > kMax ? "..." : "");
  };
  if (v.is_string()) {
    std::string out = "\"";
    out += cut(v.as_string());
    return out + "\"";
  }
  if (v.is_number()) return cut(v.number_text());
  if (v.is_bool()) return v.as_bool() ? "true" : "false";
  if (v.is_null()) return "null";
  if (v.is_object()) return "an object";
  const json::Array& items = v.as_array();
  constexpr std::size_t kMaxItems = 8;
  bool scalars = std::none_of(items.begin(), items.end(),
                              [](const json::Value& i) { return i.is_array() || i.is_object(); });
  if (items.size() > kMaxItems || !scalars) {
    return "an array of " + std::to_string(items.size()) + " values";
  }
  std::string out = "[";
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i) out += ", ";
    out += json_text(items[i]);
  }
  return out + "]";
}

// A plain non-negative integer that fits 64 bits. "1e3" and "2.0" are
// refused, as the reference reader (serde into usize) refuses them.
std::optional<std::uint64_t> as_uint(const json::Value& v) {
  if (!v.is_number()) return std::nullopt;
  const std::string& t = v.number_text();
  if (t.empty()) return std::nullopt;
  std::uint64_t n = 0;
  for (char c : t) {
    if (c < '0' || c > '9') return std::nullopt;
    auto digit = static_cast<std::uint64_t>(c - '0');
    if (n > (UINT64_MAX - digit) / 10) return std::nullopt;
    n = n * 10 + digit;
  }
  return n;
}

std::string shape_text(const std::vector<std::uint64_t>& shape) {
  constexpr std::size_t kMaxDims = 8;
  std::string out = "[";
  for (std::size_t i = 0; i < shape.size() && i < kMaxDims; ++i) {
    if (i) out += ", ";
    out += std::to_string(shape[i]);
  }
  if (shape.size() > kMaxDims) out += ", ...";
  return out + "]";
}

std::size_t read_full(Reader& in, std::uint8_t* out, std::size_t n) {
  std::size_t got = 0;
  while (got < n) {
    std::size_t r = in.read(std::span<std::uint8_t>(out + got, n - got));
    if (r == 0) break;
    got += r;
  }
  return got;
}

class Checker {
 public:
  Checker(Report& report, const std::string& member) : report_(report), member_(member) {}

  void finding(std::string kind, std::string detail) {
    if (++count_ <= kMaxFindings) {
      report_.add(Severity::kDangerous, std::move(kind), std::move(detail), member_);
    }
  }
  void header(std::string detail) { finding("header", std::move(detail)); }

  void finish() {
    if (count_ > kMaxFindings) {
      report_.add(Severity::kDangerous, "header",
                  std::to_string(count_ - kMaxFindings) + " more header problems not listed",
                  member_);
    }
  }

  void check(Reader& in, std::uint64_t file_size);

 private:
  struct Interval {
    std::uint64_t begin;
    std::uint64_t end;
    std::string_view name;
  };

  void check_metadata(const json::Value& value);
  void check_tensor(std::string_view name, const json::Value& entry, std::uint64_t data_size);
  void check_coverage(std::uint64_t data_size);

  Report& report_;
  const std::string& member_;
  std::size_t count_ = 0;
  std::vector<Interval> intervals_;
};

void Checker::check(Reader& in, std::uint64_t file_size) {
  std::array<std::uint8_t, 8> prefix{};
  std::size_t got = read_full(in, prefix.data(), prefix.size());
  if (got < prefix.size() || file_size < prefix.size()) {
    header("file is " + std::to_string(std::min<std::uint64_t>(got, file_size)) +
           " bytes, too short for the 8-byte header length");
    return;
  }
  std::uint64_t n = 0;
  for (std::size_t i = 0; i < 8; ++i) n |= std::uint64_t{prefix[i]} << (8 * i);
  if (n > kMaxHeaderBytes) {
    header("header length " + std::to_string(n) + " exceeds the " +
           std::to_string(kMaxHeaderBytes) + "-byte limit");
    return;
  }
  if (n > file_size - 8) {
    header("header length " + std::to_string(n) + " runs past the end of the " +
           std::to_string(file_size) + "-byte file");
    return;
  }

  // Grown chunk by chunk rather than reserved: a stream shorter than
  // file_size claims then costs only what it holds.
  std::string text;
  std::vector<std::uint8_t> buf(kChunk);
  while (text.size() < n) {
    std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(kChunk, n - text.size()));
    std::size_t r = read_full(in, buf.data(), want);
    text.append(reinterpret_cast<const char*>(buf.data()), r);
    if (r < want) break;
  }
  if (text.size() < n) {
    finding("malformed", "truncated: header of " + std::to_string(n) + " bytes ends after " +
                             std::to_string(text.size()));
    return;
  }

  // The data section is read and thrown away, so that a file_size that does
  // not match the bytes (a container's declared member size, say) is caught
  // rather than trusted. Reading stops one byte past the expected size, so a
  // stream that never ends cannot keep the scan going.
  const std::uint64_t data_size = file_size - 8 - n;
  std::uint64_t seen = 0;
  while (seen <= data_size) {
    std::size_t r = in.read(buf);
    if (r == 0) break;
    seen += r;
  }
  if (seen != data_size) {
    finding("malformed", "data section is " + std::string(seen > data_size ? "at least " : "") +
                             std::to_string(seen) + " bytes, the file size says " +
                             std::to_string(data_size));
  }

  json::Value doc;
  try {
    json::ParseOptions options;
    options.max_values = kMaxHeaderValues;
    doc = json::parse(text, options);
  } catch (const UsageError& e) {
    header(std::string("header is not valid JSON: ") + e.what());
    return;
  }
  text = std::string();  // the parsed tree is all that is needed now
  if (!doc.is_object()) {
    header("header is " + json_text(doc) + ", not a JSON object");
    return;
  }

  std::unordered_map<std::string_view, int> seen_names;
  for (const auto& [name, entry] : doc.as_object()) {
    int& times = seen_names[name];
    if (++times > 1) {
      // A reader keeps one of the entries, and which one differs between
      // readers: two tools could see two different tensors.
      if (times == 2) header("tensor " + in_quotes(name) + " is listed more than once");
      continue;
    }
    if (name == "__metadata__") {
      check_metadata(entry);
    } else {
      check_tensor(name, entry, data_size);
    }
  }
  check_coverage(data_size);
}

void Checker::check_metadata(const json::Value& value) {
  if (!value.is_object()) {
    header("__metadata__ is " + json_text(value) + ", not an object of strings");
    return;
  }
  std::unordered_map<std::string_view, int> keys;
  for (const auto& [key, v] : value.as_object()) {
    if (++keys[key] == 2)
      header("__metadata__ key " + in_quotes(key) + " is listed more than once");
    if (!v.is_string()) {
      header("__metadata__ " + in_quotes(key) + " is " + json_text(v) + ", not a string");
    }
  }
}

void Checker::check_tensor(std::string_view name, const json::Value& entry,
                           std::uint64_t data_size) {
  const std::string who = "tensor " + in_quotes(name);
  if (!entry.is_object()) {
    header(who + " is " + json_text(entry) + ", not an object");
    return;
  }
  const json::Value* dtype_value = nullptr;
  const json::Value* shape_value = nullptr;
  const json::Value* offsets_value = nullptr;
  for (const auto& [key, v] : entry.as_object()) {
    const json::Value** slot = key == "dtype"          ? &dtype_value
                               : key == "shape"        ? &shape_value
                               : key == "data_offsets" ? &offsets_value
                                                       : nullptr;
    if (!slot) {
      header(who + " has an unexpected field " + in_quotes(key));
    } else if (*slot) {
      header(who + " has field " + in_quotes(key) + " more than once");
    } else {
      *slot = &v;
    }
  }
  for (auto [value, field] : {std::pair{dtype_value, "dtype"}, std::pair{shape_value, "shape"},
                              std::pair{offsets_value, "data_offsets"}}) {
    if (!value) {
      header(who + " has no \"" + field + "\"");
    }
  }
  if (!dtype_value || !shape_value || !offsets_value) return;

  const Dtype* dtype = nullptr;
  if (!dtype_value->is_string()) {
    header(who + ": dtype is " + json_text(*dtype_value) + ", not a string");
  } else if (!(dtype = find_dtype(dtype_value->as_string()))) {
    header(who + ": unknown dtype " + in_quotes(dtype_value->as_string()));
  }

  std::optional<std::vector<std::uint64_t>> shape;
  if (!shape_value->is_array()) {
    header(who + ": shape is " + json_text(*shape_value) + ", not an array");
  } else {
    shape.emplace();
    const json::Array& dims = shape_value->as_array();
    for (std::size_t i = 0; i < dims.size(); ++i) {
      std::optional<std::uint64_t> dim = as_uint(dims[i]);
      if (!dim) {
        header(who + ": shape[" + std::to_string(i) + "] is " + json_text(dims[i]) +
               ", not a non-negative integer");
        shape.reset();
        break;
      }
      shape->push_back(*dim);
    }
  }

  std::optional<std::uint64_t> begin;
  std::optional<std::uint64_t> end;
  if (offsets_value->is_array() && offsets_value->as_array().size() == 2) {
    begin = as_uint(offsets_value->as_array()[0]);
    end = as_uint(offsets_value->as_array()[1]);
  }
  if (!begin || !end) {
    header(who + ": data_offsets is " + json_text(*offsets_value) +
           ", not a pair of non-negative integers");
    return;
  }
  const std::string offsets = "[" + std::to_string(*begin) + ", " + std::to_string(*end) + "]";
  if (*begin > *end) {
    header(who + ": data_offsets " + offsets + " end before they begin");
    return;
  }
  if (*end > data_size) {
    header(who + ": data_offsets " + offsets + " run past the " + std::to_string(data_size) +
           "-byte data section");
  }
  intervals_.push_back({*begin, *end, name});

  if (!dtype || !shape) return;
  // Counted in bits, every step overflow-checked: a shape like [2^40, 2^40]
  // must not wrap around to a small size that happens to match.
  std::uint64_t bits = dtype->bits;
  bool overflow = false;
  bool empty = std::find(shape->begin(), shape->end(), 0) != shape->end();
  if (!empty) {
    for (std::uint64_t dim : *shape) {
      if (bits > UINT64_MAX / dim) {
        overflow = true;
        break;
      }
      bits *= dim;
    }
  }
  const std::string layout = std::string(dtype->name) + " " + shape_text(*shape);
  if (overflow) {
    header(who + ": " + layout + " is more than 2^64 bits");
    return;
  }
  if (empty) bits = 0;
  if (bits % 8 != 0) {
    header(who + ": " + layout + " is " + std::to_string(bits) + " bits, not whole bytes");
    return;
  }
  std::uint64_t need = bits / 8;
  std::uint64_t have = *end - *begin;
  if (have != need) {
    header(who + ": data_offsets " + offsets + " hold " + std::to_string(have) + " bytes, " +
           layout + " needs " + std::to_string(need));
  }
}

// The reference reader requires the tensors, in offset order, to tile the
// data section exactly: no byte claimed twice, none left over (where a
// second payload could hide).
void Checker::check_coverage(std::uint64_t data_size) {
  std::sort(intervals_.begin(), intervals_.end(), [](const Interval& a, const Interval& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  std::uint64_t cursor = 0;
  const Interval* last = nullptr;
  auto range = [](const Interval& i) {
    std::string out = "[";
    out += std::to_string(i.begin);
    out += ", ";
    out += std::to_string(i.end);
    return out + "]";
  };
  for (const auto& iv : intervals_) {
    if (iv.begin > cursor) {
      header("data bytes [" + std::to_string(cursor) + ", " + std::to_string(iv.begin) +
             ") belong to no tensor");
    } else if (iv.begin < cursor && last) {
      header("tensor " + in_quotes(iv.name) + " " + range(iv) + " overlaps tensor " +
             in_quotes(last->name) + " " + range(*last));
    }
    if (iv.end >= cursor) {
      cursor = iv.end;
      last = &iv;
    }
  }
  if (cursor < data_size) {
    header("data bytes [" + std::to_string(cursor) + ", " + std::to_string(data_size) +
           ") belong to no tensor");
  }
}

}  // namespace

void check_safetensors(Reader& in, std::uint64_t file_size, Report& report,
                       const std::string& member) {
  Checker checker(report, member);
  try {
    checker.check(in, file_size);
  } catch (const std::bad_alloc&) {
    // Every allocation above is bounded, so this is the machine, not the
    // file; still a scan that could not finish is not a clean one.
    checker.finding("malformed", "out of memory while reading the header");
  }
  checker.finish();
}

}  // namespace mlpack::scan
