// The checks for formats that carry no pickle: safetensors headers, Keras
// Lambda layers and ONNX external-data paths. Inputs are built here byte by
// byte, so each test names exactly the rule it breaks.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>

#include "mlpack/scan/scan.hpp"

using namespace mlpack;
using namespace mlpack::scan;

namespace {

// Hands out at most `step` bytes per read, so chunk boundaries fall
// everywhere a parser could mishandle them.
class TrickleReader : public Reader {
 public:
  TrickleReader(std::string_view bytes, std::size_t step) : bytes_(bytes), step_(step) {}
  std::size_t read(std::span<std::uint8_t> out) override {
    std::size_t n = std::min({out.size(), step_, bytes_.size() - pos_});
    std::copy_n(bytes_.data() + pos_, n, out.data());
    pos_ += n;
    return n;
  }

 private:
  std::string_view bytes_;
  std::size_t step_;
  std::size_t pos_ = 0;
};

std::string describe(const Report& report) {
  std::string out;
  for (const auto& f : report.findings) out += f.kind + ": " + f.detail + "\n";
  return out;
}

std::size_t count_kind(const Report& report, std::string_view kind) {
  return static_cast<std::size_t>(std::count_if(report.findings.begin(), report.findings.end(),
                                                [&](const Finding& f) { return f.kind == kind; }));
}

bool has(const Report& report, std::string_view kind, std::string_view detail_part) {
  return std::any_of(report.findings.begin(), report.findings.end(), [&](const Finding& f) {
    return f.kind == kind && f.detail.find(detail_part) != std::string::npos;
  });
}

// --- safetensors -------------------------------------------------------------

std::string le64(std::uint64_t n) {
  std::string out;
  for (int i = 0; i < 8; ++i) out += static_cast<char>((n >> (8 * i)) & 0xff);
  return out;
}

std::string safetensors(std::string_view header, std::size_t data_size) {
  return le64(header.size()) + std::string(header) + std::string(data_size, '\x5a');
}

Report check_st(const std::string& file, std::uint64_t file_size) {
  MemoryReader in(file);
  Report report;
  check_safetensors(in, file_size, report, "model.safetensors");
  return report;
}

Report check_st(const std::string& file) {
  return check_st(file, file.size());
}

Report check_header(std::string_view header, std::size_t data_size) {
  return check_st(safetensors(header, data_size));
}

// --- protobuf ----------------------------------------------------------------

std::string varint(std::uint64_t v) {
  std::string out;
  while (v >= 0x80) {
    out += static_cast<char>((v & 0x7f) | 0x80);
    v >>= 7;
  }
  out += static_cast<char>(v);
  return out;
}

std::string pb_varint(std::uint64_t field, std::uint64_t v) {
  return varint(field << 3) + varint(v);
}

std::string pb_bytes(std::uint64_t field, std::string_view bytes) {
  return varint((field << 3) | 2) + varint(bytes.size()) + std::string(bytes);
}

std::string entry(std::string_view key, std::string_view value) {
  return pb_bytes(1, key) + pb_bytes(2, value);
}

// A TensorProto whose data lives in `location`.
std::string external_tensor(std::string_view name, std::string_view location) {
  return pb_varint(1, 4) + pb_varint(2, 1) + pb_bytes(8, name) +
         pb_bytes(13, entry("location", location)) + pb_bytes(13, entry("offset", "0")) +
         pb_bytes(13, entry("length", "16")) + pb_varint(14, 1);
}

std::string model_with_graph(std::string_view graph) {
  return pb_varint(1, 8) + pb_bytes(2, "test") + pb_bytes(7, graph) +
         pb_bytes(8, pb_bytes(1, "") + pb_varint(2, 17));
}

std::string model_with_initializer(std::string_view tensor) {
  return model_with_graph(pb_bytes(2, "main") + pb_bytes(5, tensor));
}

Report check_model(std::string_view bytes) {
  MemoryReader in(bytes);
  Report report;
  check_onnx(in, report, "model.onnx");
  return report;
}

}  // namespace

// =============================================================================
// safetensors

TEST_CASE("safetensors: a well-formed file has no findings", "[scan-formats]") {
  const std::string header = R"({"__metadata__":{"format":"pt"},)"
                             R"("b":{"dtype":"I8","shape":[3],"data_offsets":[16,19]},)"
                             R"("a":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]},)"
                             R"("empty":{"dtype":"F64","shape":[0,5],"data_offsets":[19,19]},)"
                             R"("scalar":{"dtype":"BF16","shape":[],"data_offsets":[19,21]},)"
                             R"("nibbles":{"dtype":"F4","shape":[2,3],"data_offsets":[21,24]}})";
  Report report = check_header(header + "      ", 24);  // writers pad with spaces
  INFO(describe(report));
  CHECK(report.findings.empty());
  CHECK(check_header("{}", 0).findings.empty());
  CHECK(check_header(R"({"__metadata__":{}})", 0).findings.empty());
}

TEST_CASE("safetensors: a byte length that does not match dtype x shape", "[scan-formats]") {
  Report report = check_header(R"({"w":{"dtype":"F32","shape":[2,2],"data_offsets":[0,12]}})", 12);
  INFO(describe(report));
  REQUIRE(report.findings.size() == 1);
  CHECK(report.findings[0].kind == "header");
  CHECK(report.findings[0].detail ==
        "tensor 'w': data_offsets [0, 12] hold 12 bytes, F32 [2, 2] needs 16");
  CHECK(report.findings[0].member == "model.safetensors");
  CHECK(report.findings[0].severity == Severity::kDangerous);

  // Sub-byte dtypes must still fill whole bytes.
  Report odd = check_header(R"({"w":{"dtype":"F4","shape":[3],"data_offsets":[0,2]}})", 2);
  CHECK(has(odd, "header", "12 bits, not whole bytes"));
}

TEST_CASE("safetensors: invalid JSON and a header that is not an object", "[scan-formats]") {
  Report bad = check_header(R"({"w":{"dtype":"F32",)", 0);
  INFO(describe(bad));
  CHECK(has(bad, "header", "header is not valid JSON"));
  CHECK(has(check_header("[]", 0), "header", "not a JSON object"));
  CHECK(has(check_header("{\"\xff\":1}", 0), "header", "not valid JSON"));
  CHECK(has(check_header(R"({"a":1,})", 0), "header", "not valid JSON"));
  CHECK(has(check_header(std::string(200, '[') + std::string(200, ']'), 0), "header",
            "not valid JSON"));
}

TEST_CASE("safetensors: header length beyond the file or the limit", "[scan-formats]") {
  std::string too_long = le64(100) + "{}";
  Report report = check_st(too_long);
  INFO(describe(report));
  CHECK(has(report, "header", "header length 100 runs past the end of the 10-byte file"));

  Report huge = check_st(le64(200'000'000) + "{}", 300'000'000);
  CHECK(has(huge, "header", "exceeds the 100000000-byte limit"));
  Report max = check_st(le64(UINT64_MAX) + "{}");
  CHECK(has(max, "header", "exceeds"));

  CHECK(has(check_st("\x02\x00\x00"), "header", "too short"));
  CHECK(has(check_st(""), "header", "too short"));
}

TEST_CASE("safetensors: a file_size that does not match the bytes", "[scan-formats]") {
  std::string file = safetensors(R"({"w":{"dtype":"U8","shape":[4],"data_offsets":[0,4]}})", 4);
  Report longer = check_st(file, file.size() + 4);
  INFO(describe(longer));
  CHECK(has(longer, "malformed", "data section is 4 bytes, the file size says 8"));
  Report shorter = check_st(file, file.size() - 2);
  CHECK(has(shorter, "malformed", "data section is at least 4 bytes, the file size says 2"));
  // A header cut short by the stream, not by its declared length.
  std::string cut = le64(50) + "{\"w\":";
  CHECK(has(check_st(cut, 100), "malformed", "truncated"));
}

TEST_CASE("safetensors: offsets out of bounds or reversed", "[scan-formats]") {
  Report out = check_header(R"({"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})", 8);
  INFO(describe(out));
  CHECK(has(out, "header", "tensor 'w': data_offsets [0, 16] run past the 8-byte data section"));

  Report reversed = check_header(R"({"w":{"dtype":"U8","shape":[0],"data_offsets":[8,0]}})", 8);
  CHECK(has(reversed, "header", "data_offsets [8, 0] end before they begin"));
}

TEST_CASE("safetensors: overlapping tensors and gaps", "[scan-formats]") {
  Report overlap = check_header(R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},)"
                                R"("b":{"dtype":"F32","shape":[4],"data_offsets":[8,24]}})",
                                24);
  INFO(describe(overlap));
  CHECK(has(overlap, "header", "tensor 'b' [8, 24] overlaps tensor 'a' [0, 16]"));

  // The same bytes claimed twice, by tensors that each look fine alone.
  Report twice = check_header(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                              R"("b":{"dtype":"I32","shape":[2],"data_offsets":[0,8]}})",
                              8);
  CHECK(has(twice, "header", "overlaps"));

  Report gap = check_header(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                            R"("b":{"dtype":"F32","shape":[1],"data_offsets":[12,16]}})",
                            16);
  INFO(describe(gap));
  CHECK(has(gap, "header", "data bytes [8, 12) belong to no tensor"));

  Report tail = check_header(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", 20);
  CHECK(has(tail, "header", "data bytes [8, 20) belong to no tensor"));
  Report head = check_header(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})", 12);
  CHECK(has(head, "header", "data bytes [0, 4) belong to no tensor"));
  CHECK(has(check_header("{}", 3), "header", "data bytes [0, 3) belong to no tensor"));
}

TEST_CASE("safetensors: unknown dtype", "[scan-formats]") {
  Report report = check_header(R"({"w":{"dtype":"Q4_K","shape":[2],"data_offsets":[0,2]}})", 2);
  INFO(describe(report));
  CHECK(has(report, "header", "tensor 'w': unknown dtype 'Q4_K'"));
  CHECK(has(check_header(R"({"w":{"dtype":32,"shape":[1],"data_offsets":[0,4]}})", 4), "header",
            "tensor 'w': dtype is 32, not a string"));
}

TEST_CASE("safetensors: a shape whose size overflows 64 bits", "[scan-formats]") {
  Report report = check_header(
      R"({"w":{"dtype":"F32","shape":[1099511627776,1099511627776],"data_offsets":[0,0]}})", 0);
  INFO(describe(report));
  CHECK(has(report, "header", "tensor 'w': F32 [1099511627776, 1099511627776] is more than 2^64"));
  // 2^32 x 2^32 x 8 bits wraps to exactly 0 in 64 bits: it must not pass
  // for an empty tensor.
  Report wraps = check_header(
      R"({"w":{"dtype":"U8","shape":[4294967296,4294967296],"data_offsets":[0,0]}})", 0);
  CHECK(has(wraps, "header", "more than 2^64 bits"));
  // A dimension too big for 64 bits at all.
  Report digits = check_header(
      R"({"w":{"dtype":"U8","shape":[99999999999999999999],"data_offsets":[0,0]}})", 0);
  CHECK(has(digits, "header", "shape[0] is 99999999999999999999, not a non-negative integer"));
}

TEST_CASE("safetensors: duplicate tensor names", "[scan-formats]") {
  Report report = check_header(R"({"w":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},)"
                               R"("w":{"dtype":"U8","shape":[4],"data_offsets":[4,8]}})",
                               8);
  INFO(describe(report));
  CHECK(has(report, "header", "tensor 'w' is listed more than once"));
  CHECK(has(check_header(R"({"__metadata__":{"a":"1","a":"2"}})", 0), "header",
            "__metadata__ key 'a' is listed more than once"));
}

TEST_CASE("safetensors: missing, extra and mistyped fields", "[scan-formats]") {
  struct Case {
    const char* entry;
    const char* expect;
  };
  for (const Case& c : {
           Case{R"({"shape":[1],"data_offsets":[0,1]})", "tensor 'w' has no \"dtype\""},
           Case{R"({"dtype":"U8","data_offsets":[0,1]})", "tensor 'w' has no \"shape\""},
           Case{R"({"dtype":"U8","shape":[1]})", "tensor 'w' has no \"data_offsets\""},
           Case{R"({"dtype":"U8","shape":[1],"data_offsets":[0,1],"x":1})",
                "tensor 'w' has an unexpected field 'x'"},
           Case{R"({"dtype":"U8","dtype":"U8","shape":[1],"data_offsets":[0,1]})",
                "tensor 'w' has field 'dtype' more than once"},
           Case{R"({"dtype":"U8","shape":"1","data_offsets":[0,1]})",
                "tensor 'w': shape is \"1\", not an array"},
           Case{R"({"dtype":"U8","shape":[-1],"data_offsets":[0,1]})",
                "shape[0] is -1, not a non-negative integer"},
           Case{R"({"dtype":"U8","shape":[1.0],"data_offsets":[0,1]})",
                "shape[0] is 1.0, not a non-negative integer"},
           Case{R"({"dtype":"U8","shape":[1e0],"data_offsets":[0,1]})",
                "not a non-negative integer"},
           Case{R"({"dtype":"U8","shape":[1],"data_offsets":[0,1,2]})",
                "data_offsets is [0, 1, 2], not a pair of non-negative integers"},
           Case{R"({"dtype":"U8","shape":[1],"data_offsets":[0]})", "not a pair"},
           Case{R"({"dtype":"U8","shape":[1],"data_offsets":{"a":0}})", "not a pair"},
           Case{R"({"dtype":"U8","shape":[1],"data_offsets":[0,"1"]})", "not a pair"},
           Case{R"("U8")", "tensor 'w' is \"U8\", not an object"},
           Case{R"(null)", "tensor 'w' is null, not an object"},
       }) {
    Report report = check_header(std::string(R"({"w":)") + c.entry + "}", 1);
    INFO(c.entry);
    INFO(describe(report));
    CHECK(has(report, "header", c.expect));
  }
  CHECK(has(check_header(R"({"__metadata__":{"n":1}})", 0), "header",
            "__metadata__ 'n' is 1, not a string"));
  CHECK(has(check_header(R"({"__metadata__":[]})", 0), "header", "not an object of strings"));
}

TEST_CASE("safetensors: hostile names are escaped and findings are capped", "[scan-formats]") {
  Report report =
      check_header(R"({"a\u001b[31m":{"dtype":"U8","shape":[1],"data_offsets":[0,2]}})", 2);
  INFO(describe(report));
  CHECK(has(report, "header", "tensor 'a\\x1b[31m'"));

  std::string header = "{";
  for (int i = 0; i < 500; ++i) {
    if (i) header += ",";
    header += "\"t" + std::to_string(i) + R"(":{"dtype":"Q","shape":[1],"data_offsets":[0,1]})";
  }
  header += "}";
  Report many = check_header(header, 1);
  CHECK(many.findings.size() == 101);
  CHECK(has(many, "header", "more header problems not listed"));
}

TEST_CASE("safetensors: reads through a reader that trickles", "[scan-formats]") {
  std::string file =
      safetensors(R"({"a":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]}})", 16);
  TrickleReader in(file, 3);
  Report report;
  check_safetensors(in, file.size(), report, "");
  INFO(describe(report));
  CHECK(report.findings.empty());
}

// =============================================================================
// Keras

TEST_CASE("keras: Lambda layers nested in Sequential and Functional models", "[scan-formats]") {
  const char* config = R"({
    "module": "keras", "class_name": "Sequential",
    "config": {"name": "outer", "layers": [
      {"module": "keras.layers", "class_name": "InputLayer", "config": {"name": "in"}},
      {"module": "keras.layers", "class_name": "Lambda",
       "config": {"name": "my_lambda",
                  "function": {"class_name": "__lambda__", "config": {"code": "4wEAAAAA"}}}},
      {"module": "keras", "class_name": "Functional", "config": {"name": "inner", "layers": [
        {"class_name": "Dense", "config": {"name": "Lambda"}},
        {"class_name": "Lambda",
         "config": {"name": "named_fn",
                    "function": {"module": "builtins", "class_name": "function",
                                 "config": "exec", "registered_name": "function"}}}
      ]}}
    ]}})";
  Report report;
  check_keras_config(config, report, "model.keras/config.json");
  INFO(describe(report));
  REQUIRE(report.findings.size() == 2);
  CHECK(report.findings[0].kind == "lambda-layer");
  CHECK(report.findings[0].detail ==
        "Lambda layer 'my_lambda' runs an inline lambda (marshalled Python bytecode)");
  CHECK(report.findings[1].detail == "Lambda layer 'named_fn' runs function builtins.exec");
  CHECK(report.findings[1].member == "model.keras/config.json");
}

TEST_CASE("keras: Keras 2 model_config layouts", "[scan-formats]") {
  const char* config = R"({"class_name": "Model", "config": {"layers": [
      {"class_name": "Lambda", "config": {"name": "l1", "function": ["4wEAAA==", null, null],
       "function_type": "lambda", "module": "__main__"}},
      {"class_name": "Lambda", "config": {"name": "l2", "function": "payload",
       "function_type": "function", "module": "evil"}},
      {"class_name": "Lambda"}]}})";
  Report report;
  check_keras_config(config, report, "");
  INFO(describe(report));
  REQUIRE(report.findings.size() == 3);
  CHECK(report.findings[0].detail ==
        "Lambda layer 'l1' runs an inline lambda (marshalled Python bytecode)");
  CHECK(report.findings[1].detail == "Lambda layer 'l2' runs function evil.payload");
  CHECK(report.findings[2].detail == "Lambda layer (unnamed)");
}

TEST_CASE("keras: a config without Lambda layers is clean", "[scan-formats]") {
  const char* config = R"({"module": "keras", "class_name": "Sequential", "config": {
      "name": "seq", "layers": [
        {"class_name": "InputLayer", "config": {"name": "in", "batch_shape": [null, 4]}},
        {"class_name": "Dense", "config": {"name": "Lambda", "units": 3,
         "activation": "relu", "note": "class_name Lambda"}},
        {"class_name": "TFOpLambda", "config": {"name": "tf_op"}},
        {"class_name": "Lambdas", "config": {}}]},
      "compile_config": {"loss": "mse"}})";
  Report report;
  check_keras_config(config, report, "");
  INFO(describe(report));
  CHECK(report.findings.empty());
}

TEST_CASE("keras: an invalid or too deep config is malformed", "[scan-formats]") {
  Report bad;
  check_keras_config(R"({"class_name": "Lambda",)", bad, "config.json");
  INFO(describe(bad));
  CHECK(has(bad, "malformed", "Keras config is not valid JSON"));
  Report deep;
  check_keras_config(std::string(100000, '[') + std::string(100000, ']'), deep, "");
  CHECK(has(deep, "malformed", "nested deeper"));
}

TEST_CASE("keras: HDF5 byte search finds Lambda layers across chunk boundaries", "[scan-formats]") {
  const std::string layer =
      R"({"class_name": "Lambda", "config": {"name": "lam", "trainable": true}})";
  // Straddles the 64 KiB boundary of the reader's chunks.
  std::string file =
      "\x89HDF\r\n\x1a\n" + std::string(65536 - 8 - 10, '\0') + layer + std::string(5000, '\x01');
  Report report;
  MemoryReader in(file);
  check_keras_hdf5(in, report, "model.h5");
  INFO(describe(report));
  REQUIRE(report.findings.size() == 1);
  CHECK(report.findings[0].kind == "lambda-layer");
  CHECK(report.findings[0].detail == "Lambda layer 'lam' in the HDF5 model config at byte 65527");

  // Every boundary position, and each match seen exactly once.
  for (std::size_t step : {1, 7, 13, 64}) {
    std::string two = "junk" + layer + std::string(300, 'x') + R"({"class_name":"Lambda"})";
    TrickleReader trickle(two, step);
    Report r;
    check_keras_hdf5(trickle, r, "");
    INFO(step);
    INFO(describe(r));
    CHECK(r.findings.size() == 2);
  }
}

TEST_CASE("keras: HDF5 byte search ignores near misses and caps findings", "[scan-formats]") {
  for (std::string text :
       {R"("class_name": "LambdaX")", R"("class_name": "lambda")", R"("class_name"= "Lambda")",
        R"("class_name": Lambda)", R"("class_name")"}) {
    Report report;
    MemoryReader in(text);
    check_keras_hdf5(in, report, "");
    INFO(text);
    CHECK(report.findings.empty());
  }
  std::string many;
  for (int i = 0; i < 150; ++i) many += R"({"class_name": "Lambda"})";
  Report report;
  MemoryReader in(many);
  check_keras_hdf5(in, report, "");
  CHECK(report.findings.size() == 101);
  CHECK(has(report, "lambda-layer", "50 more Lambda layers not listed"));
}

// =============================================================================
// ONNX

TEST_CASE("onnx: external data inside the model's folder is clean", "[scan-formats]") {
  for (const char* location : {"weights.bin", "sub/w.bin", "a/./b.bin", "..data", "x..y/z"}) {
    Report report = check_model(model_with_initializer(external_tensor("w", location)));
    INFO(location);
    INFO(describe(report));
    CHECK(report.findings.empty());
  }
  // A model with inline data only, a large raw_data field included.
  std::string inline_tensor =
      pb_varint(1, 4) + pb_bytes(8, "w") + pb_bytes(9, std::string(300000, 'z'));
  Report report = check_model(model_with_initializer(inline_tensor));
  INFO(describe(report));
  CHECK(report.findings.empty());
  CHECK(check_model("").findings.empty());
}

TEST_CASE("onnx: external data that escapes the model's folder", "[scan-formats]") {
  struct Case {
    std::string location;
    const char* why;
  };
  for (const Case& c : {
           Case{"../../etc/passwd", "climbs out of the model's folder"},
           Case{"/etc/passwd", "is an absolute path"},
           Case{"C:\\x", "names a drive"},
           Case{"c:x", "names a drive"},
           Case{"a/../../b", "climbs out"},
           Case{"a\\..\\..\\b", "climbs out"},
           Case{"..", "climbs out"},
           Case{"sub/..", "climbs out"},
           Case{"\\\\server\\share\\w", "is an absolute path"},
           Case{std::string("w.bin\0.txt", 10), "contains a NUL byte"},
           Case{"", "is empty"},
       }) {
    Report report = check_model(model_with_initializer(external_tensor("w", c.location)));
    INFO(c.location);
    INFO(describe(report));
    REQUIRE(report.findings.size() == 1);
    CHECK(report.findings[0].kind == "external-data");
    CHECK(report.findings[0].detail.starts_with("tensor 'w': external data location '"));
    CHECK(has(report, "external-data", c.why));
    CHECK(report.findings[0].member == "model.onnx");
  }
  Report exact = check_model(model_with_initializer(external_tensor("w", "../../etc/passwd")));
  CHECK(exact.findings[0].detail ==
        "tensor 'w': external data location '../../etc/passwd' climbs out of the model's folder");
}

TEST_CASE("onnx: tensors in subgraphs, functions, sparse and training graphs", "[scan-formats]") {
  std::string bad = external_tensor("deep", "/etc/shadow");
  // If node with a then_branch graph whose initializer escapes.
  std::string sub_graph = pb_bytes(5, bad);
  std::string attribute = pb_bytes(1, "then_branch") + pb_varint(20, 5) + pb_bytes(6, sub_graph);
  std::string node = pb_bytes(1, "cond") + pb_bytes(4, "If") + pb_bytes(5, attribute);
  Report nested = check_model(model_with_graph(pb_bytes(1, node)));
  INFO(describe(nested));
  CHECK(has(nested, "external-data", "tensor 'deep'"));

  // A subgraph inside a subgraph (a Loop body holding an If).
  std::string outer_attr = pb_bytes(1, "body") + pb_bytes(6, pb_bytes(1, node));
  std::string loop = pb_bytes(4, "Loop") + pb_bytes(5, outer_attr);
  CHECK(has(check_model(model_with_graph(pb_bytes(1, loop))), "external-data", "tensor 'deep'"));

  // The tensor-valued attribute of a Constant node, and lists of graphs and tensors.
  std::string constant = pb_bytes(5, pb_bytes(1, "value") + pb_bytes(5, bad));
  CHECK(has(check_model(model_with_graph(pb_bytes(1, constant))), "external-data", "deep"));
  std::string lists = pb_bytes(5, pb_bytes(10, bad) + pb_bytes(11, sub_graph));
  CHECK(count_kind(check_model(model_with_graph(pb_bytes(1, lists))), "external-data") == 2);

  // Sparse initializers (values and indices) and sparse attributes.
  std::string sparse = pb_bytes(1, bad) + pb_bytes(2, external_tensor("idx", "../i"));
  CHECK(count_kind(check_model(model_with_graph(pb_bytes(15, sparse))), "external-data") == 2);
  std::string sparse_attr = pb_bytes(5, pb_bytes(22, sparse) + pb_bytes(23, sparse));
  CHECK(count_kind(check_model(model_with_graph(pb_bytes(1, sparse_attr))), "external-data") == 4);

  // A model-local function's nodes, and its attribute defaults.
  std::string function =
      pb_bytes(1, "f") + pb_bytes(7, constant) + pb_bytes(11, pb_bytes(1, "d") + pb_bytes(5, bad));
  CHECK(count_kind(check_model(pb_varint(1, 8) + pb_bytes(25, function)), "external-data") == 2);

  // Training graphs.
  std::string training = pb_bytes(1, sub_graph) + pb_bytes(2, sub_graph);
  CHECK(count_kind(check_model(pb_varint(1, 8) + pb_bytes(20, training)), "external-data") == 2);
}

TEST_CASE("onnx: an external tensor without a location", "[scan-formats]") {
  std::string tensor = pb_bytes(8, "w") + pb_bytes(13, entry("offset", "0")) + pb_varint(14, 1);
  Report report = check_model(model_with_initializer(tensor));
  INFO(describe(report));
  CHECK(has(report, "external-data",
            "tensor 'w' keeps its data outside the model but names no location"));
  // Fields may come in any order: the name after the external data.
  std::string late_name = pb_bytes(13, entry("location", "/x")) + pb_bytes(8, "late");
  CHECK(has(check_model(model_with_initializer(late_name)), "external-data", "tensor 'late'"));
  // A location too long to be a path is refused unread.
  std::string long_loc = pb_bytes(13, entry("location", std::string(70000, 'a')));
  CHECK(has(check_model(model_with_initializer(long_loc)), "external-data",
            "of 70000 bytes is longer than any path"));
}

TEST_CASE("onnx: truncated and malformed protobuf", "[scan-formats]") {
  const std::string model = model_with_initializer(external_tensor("w", "weights.bin"));
  REQUIRE(check_model(model).findings.empty());
  // Every prefix: no crash, and a cut inside the graph is malformed.
  for (std::size_t cut = 0; cut < model.size(); ++cut) {
    Report report;
    MemoryReader in(std::string_view(model).substr(0, cut));
    REQUIRE_NOTHROW(check_onnx(in, report, ""));
    for (const auto& f : report.findings) CHECK(f.kind == "malformed");
  }
  Report cut = check_model(std::string_view(model).substr(0, model.size() - 20));
  INFO(describe(cut));
  CHECK(has(cut, "malformed", "truncated at byte"));

  // A submessage that claims more bytes than its parent holds.
  std::string inner = pb_bytes(5, external_tensor("w", "w.bin"));
  std::string lying = varint((7 << 3) | 2) + varint(inner.size()) + varint((5 << 3) | 2) +
                      varint(inner.size() + 50) + inner.substr(2);
  CHECK(has(check_model(lying), "malformed", "bytes, its message has"));

  CHECK(has(check_model(varint((7 << 3) | 3)), "malformed", "wire type 3"));
  CHECK(has(check_model(varint((7 << 3) | 4)), "malformed", "wire type 4"));
  CHECK(has(check_model(varint((7 << 3) | 6)), "malformed", "wire type 6"));
  CHECK(has(check_model(std::string(11, '\xff') + "\x01"), "malformed", "longer than 64 bits"));
  CHECK(has(check_model(std::string("\x08") + std::string(9, '\xff') + "\x02"), "malformed",
            "longer than 64 bits"));
  CHECK(has(check_model(std::string("\x00\x01", 2)), "malformed", "field number 0"));
  CHECK(has(check_model(pb_bytes(7, std::string("\x08\x80", 2))), "malformed",
            "runs past the end of its message"));
  CHECK(has(check_model(pb_bytes(7, "\x09\x01\x02")), "malformed", "declares 8 bytes"));
  // Lengths far past the end of the input, on the unbounded top level.
  CHECK(has(check_model(varint((2 << 3) | 2) + varint(std::uint64_t{1} << 62) + "abc"), "malformed",
            "truncated"));
  CHECK(has(check_model(varint((2 << 3) | 2) + varint(UINT64_MAX - 3) + "abc"), "malformed",
            "field length overflows"));
}

TEST_CASE("onnx: nesting depth is bounded", "[scan-formats]") {
  // graph > node > attribute > graph > ... 2000 levels deep.
  std::string graph = pb_bytes(5, external_tensor("w", "/etc/passwd"));
  for (int i = 0; i < 700; ++i) {
    graph = pb_bytes(1, pb_bytes(5, pb_bytes(6, graph)));
  }
  Report report = check_model(pb_bytes(7, graph));
  INFO(describe(report).substr(0, 500));
  CHECK(has(report, "malformed", "nested deeper than"));
}

TEST_CASE("onnx: findings are capped", "[scan-formats]") {
  std::string graph;
  for (int i = 0; i < 150; ++i) graph += pb_bytes(5, external_tensor("t", "/abs"));
  Report report = check_model(model_with_graph(graph));
  CHECK(report.findings.size() == 101);
  CHECK(has(report, "external-data", "50 more external-data problems not listed"));
}
