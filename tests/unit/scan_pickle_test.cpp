// The pickle opcode scanner, on streams written byte by byte (the CLI test
// scans pickles that Python itself wrote).
#include <catch2/catch.hpp>

#include <string>

#include "mlpack/scan/scan.hpp"
#include "mlpack/util/text.hpp"

using namespace mlpack::scan;

namespace {

// A byte string from a literal, NULs included (its length from the array).
template <std::size_t N>
std::string bin(const char (&literal)[N]) {
  return std::string(literal, N - 1);
}

Report scan_bytes(std::string_view bytes, bool joblib = false) {
  MemoryReader in(bytes);
  Report r;
  REQUIRE(scan_pickle(in, r, "", joblib));
  return r;
}

std::string details(const Report& r) {
  std::string out;
  for (const auto& f : r.findings) out += f.kind + ":" + f.detail + ";";
  return out;
}

bool has_finding(const Report& r, Severity s, std::string_view kind, std::string_view detail) {
  for (const auto& f : r.findings) {
    if (f.severity == s && f.kind == kind && f.detail.find(detail) != std::string::npos)
      return true;
  }
  return false;
}

}  // namespace

TEST_CASE("scan: os.system payload at protocols 0, 2 and 4", "[scan-pickle]") {
  // As pickle.dumps writes them for a __reduce__ returning (os.system, (...)).
  const std::string p0 = "cposix\nsystem\np0\n(Vecho pwned\np1\ntp2\nRp3\n.";
  const std::string p2(
      "\x80\x02"
      "cposix\nsystem\nq\x00X\x0a\x00\x00\x00"
      "echo pwnedq\x01\x85q\x02Rq\x03.",
      42);
  const std::string p4(
      "\x80\x04\x95\x25\x00\x00\x00\x00\x00\x00\x00\x8c\x05posix\x94\x8c\x06system\x94\x93\x94"
      "\x8c\x0a"
      "echo pwned\x94\x85\x94R\x94.",
      48);
  for (const auto& bytes : {p0, p2, p4}) {
    Report r = scan_bytes(bytes);
    INFO(details(r));
    CHECK(r.verdict() == Verdict::kDangerous);
    CHECK(has_finding(r, Severity::kDangerous, "global", "posix.system"));
    CHECK(r.globals == std::vector<std::string>{"posix.system"});
  }
}

TEST_CASE("scan: STACK_GLOBAL operands fetched from the memo", "[scan-pickle]") {
  const std::string bytes(
      "\x80\x04\x8c\x02os\x94\x8c\x06system\x94"
      "00h\x00h\x01\x93\x8c\x0a"
      "echo pwned\x85R.",
      38);
  Report r = scan_bytes(bytes);
  INFO(details(r));
  CHECK(has_finding(r, Severity::kDangerous, "global", "os.system"));
}

TEST_CASE("scan: STACK_GLOBAL on operands that are not strings is dangerous", "[scan-pickle]") {
  Report r = scan_bytes(bin("\x80\x04K\x01K\x02\x93)R."));
  INFO(details(r));
  CHECK(r.verdict() == Verdict::kDangerous);
  CHECK(has_finding(r, Severity::kDangerous, "global", "unresolvable"));
}

TEST_CASE("scan: allowlist, denylist and unknown globals", "[scan-pickle]") {
  CHECK(classify_global("collections", "OrderedDict") == Verdict::kClean);
  CHECK(classify_global("numpy.core.multiarray", "_reconstruct") == Verdict::kClean);
  CHECK(classify_global("sklearn.linear_model._logistic", "LogisticRegression") == Verdict::kClean);
  CHECK(classify_global("torch._utils", "_rebuild_tensor_v2") == Verdict::kClean);
  CHECK(classify_global("builtins", "eval") == Verdict::kDangerous);
  CHECK(classify_global("__builtin__", "apply") == Verdict::kDangerous);
  CHECK(classify_global("subprocess", "Popen") == Verdict::kDangerous);
  CHECK(classify_global("os.path", "join") == Verdict::kDangerous);
  CHECK(classify_global("operator", "attrgetter") == Verdict::kDangerous);
  CHECK(classify_global("functools", "partial") == Verdict::kDangerous);
  CHECK(classify_global("importlib.machinery", "SourceFileLoader") == Verdict::kDangerous);
  // Attribute paths through dunders reach anything.
  CHECK(classify_global("collections", "OrderedDict.__init__.__globals__") == Verdict::kDangerous);
  CHECK(classify_global("mymodule", "MyModel") == Verdict::kUnknown);
  CHECK(classify_global("sklearn.utils", "fetch_something") == Verdict::kUnknown);
  CHECK(classify_global("osmium", "Thing") == Verdict::kUnknown);  // not the os module

  Report r =
      scan_bytes(bin("\x80\x02"
                     "cmymodule\nMyModel\nq\x00)\x81q\x01."));
  CHECK(r.verdict() == Verdict::kUnknown);
  CHECK(has_finding(r, Severity::kUnknown, "global", "mymodule.MyModel"));
}

TEST_CASE("scan: malformed streams are findings, not crashes", "[scan-pickle]") {
  struct Case {
    std::string bytes;
    const char* detail;
  };
  const Case cases[] = {
      {bin("\x80\x02}q\x00X\x01"), "truncated"},
      {bin("\x80\x02\xff."), "unknown opcode 0xff"},
      {bin("\x80\x09N."), "protocol 9"},
      {bin("\x80\x02."), "stack underflow"},
      {bin("\x80\x02h\x05."), "never PUT"},
      {bin("\x80\x02t."), "no MARK"},
      {bin("\x80\x02X\xff\xff\xff\xff"), "truncated"},
      {bin("\x80\x02\x8e\xff\xff\xff\xff\xff\xff\xff\xff"), "truncated"},
      {bin("\x80\x02(K\x01"
           "d."),
       "odd number"},
      {"S'abc\n.", "not quoted"},
  };
  for (const auto& c : cases) {
    Report r = scan_bytes(c.bytes);
    INFO(c.detail << " -> " << details(r));
    CHECK(r.verdict() == Verdict::kDangerous);
    CHECK(has_finding(r, Severity::kDangerous, "malformed", c.detail));
  }
}

TEST_CASE("scan: one pickle at a time, stopping right after STOP", "[scan-pickle]") {
  const std::string two("\x80\x02K\x01.\x80\x02K\x02.", 10);
  MemoryReader in(two);
  Report r;
  CHECK(scan_pickle(in, r, ""));
  CHECK(scan_pickle(in, r, ""));
  CHECK_FALSE(scan_pickle(in, r, ""));
  CHECK(r.findings.empty());
}

TEST_CASE("scan: joblib array data after a NumpyArrayWrapper is stepped over", "[scan-pickle]") {
  // NumpyArrayWrapper with shape (3,), dtype float64 ('f8'), 16-byte
  // alignment: one padding-length byte, the padding, 24 bytes of data, then
  // the pickle goes on and imports os.system.
  std::string b("\x80\x04", 2);
  b += "cjoblib.numpy_pickle\nNumpyArrayWrapper\n)\x81}(";
  b += bin("\x8c\x05shape") + "K\x03\x85";
  b += bin("\x8c\x05"
           "dtype") +
       "cnumpy\ndtype\n" +
       bin("\x8c\x02"
           "f8") +
       "\x89\x88\x87R" + bin("(K\x03\x8c\x01<NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00tb");
  b += bin("\x8c\x1bnumpy_array_alignment_bytes") + "K\x10";
  b += "ub";
  b += bin("\x03\xff\xff\xff");  // padding length 3, then the padding
  b += std::string(24, '\x00');  // the array data, which is not pickle
  b += "0cos\nsystem\n.";
  Report r = scan_bytes(b, /*joblib=*/true);
  INFO(details(r));
  CHECK(has_finding(r, Severity::kDangerous, "global", "os.system"));
  CHECK_FALSE(has_finding(r, Severity::kDangerous, "malformed", ""));
}

TEST_CASE("scan: hostile sizes are bounded, big honest pickles are not refused", "[scan-pickle]") {
  // Two million MARKs: refused as too large, quickly, without the memory.
  std::string marks = bin("\x80\x02") + std::string(2'000'000, '(');
  Report r = scan_bytes(marks);
  CHECK(has_finding(r, Severity::kDangerous, "malformed", "too many MARKs"));

  // A list of two million floats (one shared value, indices only) is clean;
  // Python's pickler appends in batches of 1000.
  std::string floats = bin("\x80\x02]q\x00");
  for (int batch = 0; batch < 2000; ++batch) {
    floats += "(";
    for (int i = 0; i < 1000; ++i) floats += bin("G\x3f\xf0\x00\x00\x00\x00\x00\x00");
    floats += "e";
  }
  floats += ".";
  Report clean = scan_bytes(floats);
  INFO(details(clean));
  CHECK(clean.findings.empty());

  // A lie about a length: truncated, not an allocation of 2^64 bytes.
  Report lie = scan_bytes(bin("\x80\x04\x8d\xff\xff\xff\xff\xff\xff\xff\x7f"));
  CHECK(has_finding(lie, Severity::kDangerous, "malformed", "truncated"));
}

TEST_CASE("scan: protocol 0 STRING operands are unescaped as Python does", "[scan-pickle]") {
  CHECK(mlpack::text::python_simple_escape('n') == '\n');
  CHECK(mlpack::text::python_simple_escape('\'') == '\'');
  CHECK(mlpack::text::python_simple_escape('x') == 0);  // takes operands
  CHECK(mlpack::text::python_simple_escape('q') == 0);
  // 'o\163' (octal) and '\x73ystem' (hex) are "os" and "system": STACK_GLOBAL
  // on them must still name os.system.
  Report r = scan_bytes("\x80\x04S'o\\163'\nS'\\x73ystem'\n\x93.");
  INFO(details(r));
  CHECK(has_finding(r, Severity::kDangerous, "global", "os.system"));
  // An escaped quote inside the string is not its end.
  Report q = scan_bytes("\x80\x04S'it\\'s'\n0N.");
  INFO(details(q));
  CHECK(q.findings.empty());
}
