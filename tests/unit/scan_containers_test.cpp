// The containers around the pickle scanner: joblib's compressed dumps,
// PyTorch zips and legacy checkpoints, NumPy .npy/.npz, Keras archives and
// generic zips, all built here byte by byte (libarchive writes the zips and
// compressed streams, zlib the zlib ones).
#include <archive.h>
#include <archive_entry.h>
#include <zlib.h>

#include <catch2/catch.hpp>

#include <algorithm>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "mlpack/scan/scan.hpp"
#include "mlpack/util/error.hpp"
#include "temp_dir.hpp"

using mlpack::scan::Report;
using mlpack::scan::Severity;
using mlpack::scan::Verdict;
using mlpack::test::TestDir;

namespace {

using Members = std::vector<std::pair<std::string, std::string>>;

// Every byte of a literal, embedded NULs included.
template <std::size_t N>
std::string raw(const char (&s)[N]) {
  return std::string(s, N - 1);
}

// pickle.dumps of os.system, of subprocess.Popen and of OrderedDict() at
// protocol 2 (checked with pickletools.dis).
const std::string kOsSystem =
    raw("\x80\x02"
        "cos\nsystem\nq\x00.");
const std::string kPopen =
    raw("\x80\x02"
        "csubprocess\nPopen\nq\x00.");
const std::string kOrderedDict =
    raw("\x80\x02"
        "ccollections\nOrderedDict\nq\x00)Rq\x01.");

struct WriteFree {
  void operator()(struct archive* a) const { archive_write_free(a); }
};
struct EntryFree {
  void operator()(archive_entry* e) const { archive_entry_free(e); }
};

// Writes `members` into memory with a libarchive writer that `setup` chose.
std::string write_archive(const std::function<void(struct archive*)>& setup,
                          const Members& members) {
  std::unique_ptr<struct archive, WriteFree> a(archive_write_new());
  setup(a.get());
  archive_write_set_bytes_in_last_block(a.get(), 1);  // no padding after the data
  std::size_t capacity = 1 << 16;
  for (const auto& m : members) capacity += 2 * m.second.size() + m.first.size() + 1024;
  std::string out(capacity, '\0');
  std::size_t used = 0;
  REQUIRE(archive_write_open_memory(a.get(), out.data(), out.size(), &used) == ARCHIVE_OK);
  for (const auto& [name, data] : members) {
    std::unique_ptr<archive_entry, EntryFree> e(archive_entry_new());
    archive_entry_set_pathname(e.get(), name.c_str());
    archive_entry_set_filetype(e.get(), AE_IFREG);
    archive_entry_set_perm(e.get(), 0644);
    archive_entry_set_size(e.get(), static_cast<la_int64_t>(data.size()));
    REQUIRE(archive_write_header(a.get(), e.get()) == ARCHIVE_OK);
    if (!data.empty()) {
      REQUIRE(archive_write_data(a.get(), data.data(), data.size()) ==
              static_cast<la_ssize_t>(data.size()));
    }
  }
  REQUIRE(archive_write_close(a.get()) == ARCHIVE_OK);
  out.resize(used);
  return out;
}

std::string zip(const Members& members, bool stored = false) {
  return write_archive(
      [stored](struct archive* a) {
        archive_write_set_format_zip(a);
        if (stored) archive_write_set_options(a, "zip:compression=store");
      },
      members);
}

// One stream through a libarchive compression filter, as joblib writes them.
std::string compressed(int filter, const std::string& data) {
  return write_archive(
      [filter](struct archive* a) {
        archive_write_set_format_raw(a);
        REQUIRE(archive_write_add_filter(a, filter) == ARCHIVE_OK);
      },
      {{"data", data}});
}

std::string zlib_stream(const std::string& data) {
  uLongf size = compressBound(static_cast<uLong>(data.size()));
  std::string out(size, '\0');
  REQUIRE(compress2(reinterpret_cast<Bytef*>(out.data()), &size,
                    reinterpret_cast<const Bytef*>(data.data()), static_cast<uLong>(data.size()),
                    6) == Z_OK);
  out.resize(size);
  return out;
}

// An .npy file: magic, version, little-endian header length, the header
// padded with spaces and a newline to a multiple of 64 bytes, then data.
std::string npy(const std::string& header, const std::string& data, int major = 1) {
  const std::size_t len_size = major == 1 ? 2 : 4;
  std::string h = header;
  while ((10 + (len_size - 2) + h.size() + 1) % 64 != 0) h += ' ';
  h += '\n';
  std::string out = "\x93NUMPY";
  out += static_cast<char>(major);
  out += '\0';
  for (std::size_t i = 0; i < len_size; ++i) out += static_cast<char>((h.size() >> (8 * i)) & 0xff);
  return out + h + data;
}

bool has_global(const Report& r, std::string_view g) {
  return std::find(r.globals.begin(), r.globals.end(), g) != r.globals.end();
}

bool has_finding(const Report& r, std::string_view kind, std::string_view detail_part,
                 std::string_view member) {
  return std::any_of(r.findings.begin(), r.findings.end(), [&](const mlpack::scan::Finding& f) {
    return f.kind == kind && f.detail.find(detail_part) != std::string::npos && f.member == member;
  });
}

std::string describe(const Report& r) {
  std::string s = "format=" + r.format + " scanned=" + (r.scanned ? "yes" : "no") +
                  " verdict=" + std::string(mlpack::scan::verdict_name(r.verdict())) + "\n";
  for (const auto& f : r.findings) {
    s += "  " + std::string(mlpack::scan::severity_name(f.severity)) + " " + f.kind + " [" +
         f.member + "] " + f.detail + "\n";
  }
  for (const auto& g : r.globals) s += "  global " + g + "\n";
  return s;
}

Report scan(const TestDir& dir, const std::string& name, const std::string& bytes) {
  Report r = mlpack::scan::scan_file(dir.write(name, bytes));
  INFO(describe(r));
  return r;
}

}  // namespace

TEST_CASE("report verdict, names and bounds", "[scan-containers]") {
  Report r;
  CHECK(r.verdict() == Verdict::kClean);
  r.add(Severity::kUnknown, "global", "foo.bar");
  CHECK(r.verdict() == Verdict::kUnknown);
  r.add(Severity::kDangerous, "global", "os.system", "archive/data.pkl");
  CHECK(r.verdict() == Verdict::kDangerous);
  CHECK(r.findings.back().member == "archive/data.pkl");
  CHECK(mlpack::scan::verdict_name(Verdict::kClean) == "clean");
  CHECK(mlpack::scan::verdict_name(Verdict::kUnknown) == "unknown");
  CHECK(mlpack::scan::verdict_name(Verdict::kDangerous) == "dangerous");
  CHECK(mlpack::scan::severity_name(Severity::kUnknown) == "unknown");
  CHECK(mlpack::scan::severity_name(Severity::kDangerous) == "dangerous");

  SECTION("globals are recorded once, in first-seen order, up to a cap") {
    Report g;
    g.add_global("b.x");
    g.add_global("a.y");
    g.add_global("b.x");
    CHECK(g.globals == std::vector<std::string>{"b.x", "a.y"});
    for (int i = 0; i < 20000; ++i) g.add_global("m.n" + std::to_string(i));
    CHECK(g.globals.size() == 10001);
    CHECK(g.findings.size() == 1);  // one note that the list was cut
    CHECK(g.verdict() == Verdict::kUnknown);
  }
  SECTION("findings are capped, and a dangerous one past the cap still counts") {
    Report f;
    for (int i = 0; i < 20000; ++i) f.add(Severity::kUnknown, "global", "m.n");
    CHECK(f.findings.size() == 10001);
    CHECK(f.verdict() == Verdict::kUnknown);
    f.add(Severity::kDangerous, "global", "os.system");
    CHECK(f.findings.size() == 10001);
    CHECK(f.verdict() == Verdict::kDangerous);
  }
}

TEST_CASE("MemoryReader reads its bytes once", "[scan-containers]") {
  mlpack::scan::MemoryReader in(std::string_view("abcdef"));
  std::uint8_t buf[4];
  CHECK(in.read(buf) == 4);
  CHECK(std::string(reinterpret_cast<char*>(buf), 4) == "abcd");
  CHECK(in.read(buf) == 2);
  CHECK(in.read(buf) == 0);
}

TEST_CASE("plain pickles and what follows their STOP", "[scan-containers]") {
  TestDir dir;
  SECTION("a payload") {
    Report r = scan(dir, "model.pkl", kOsSystem);
    CHECK(r.format == "pickle");
    CHECK(r.scanned);
    CHECK(r.verdict() == Verdict::kDangerous);
    CHECK(has_global(r, "os.system"));
    CHECK(has_finding(r, "global", "os.system", ""));
  }
  SECTION("a clean pickle") {
    Report r = scan(dir, "model.pkl", kOrderedDict);
    CHECK(r.verdict() == Verdict::kClean);
    CHECK(r.globals == std::vector<std::string>{"collections.OrderedDict"});
  }
  SECTION("junk after STOP") {
    Report r = scan(dir, "model.pkl", kOrderedDict + "trailing junk");
    CHECK(r.verdict() == Verdict::kDangerous);
    CHECK(has_finding(r, "malformed", "extra data after STOP at byte 34", ""));
    CHECK(r.globals == std::vector<std::string>{"collections.OrderedDict"});
  }
  SECTION("a hidden second pickle is scanned too") {
    Report r = scan(dir, "model.pkl", kOrderedDict + kPopen + kOsSystem);
    CHECK(r.verdict() == Verdict::kDangerous);
    CHECK(has_finding(r, "malformed", "extra data after STOP at byte 34", ""));
    CHECK(has_global(r, "subprocess.Popen"));
    CHECK(has_global(r, "os.system"));
    CHECK(has_finding(r, "global", "subprocess.Popen", ""));
  }
}

TEST_CASE("joblib's compressed dumps are decompressed and scanned", "[scan-containers]") {
  TestDir dir;
  std::string file;
  SECTION("gzip") {
    file = compressed(ARCHIVE_FILTER_GZIP, kOsSystem);
  }
  SECTION("bzip2") {
    file = compressed(ARCHIVE_FILTER_BZIP2, kOsSystem);
  }
  SECTION("xz") {
    file = compressed(ARCHIVE_FILTER_XZ, kOsSystem);
  }
  SECTION("legacy lzma") {
    file = compressed(ARCHIVE_FILTER_LZMA, kOsSystem);
  }
  SECTION("lz4") {
    file = compressed(ARCHIVE_FILTER_LZ4, kOsSystem);
  }
  SECTION("zlib") {
    file = zlib_stream(kOsSystem);
  }
  SECTION("zlib, two concatenated streams") {
    file = zlib_stream(kOsSystem.substr(0, 5)) + zlib_stream(kOsSystem.substr(5));
  }
  // "ZF", hex(len(data)) left-justified to 19 bytes, the zlib stream.
  SECTION("joblib <= 0.9 ZF") {
    file = "ZF0x10" + std::string(15, ' ') + zlib_stream(kOsSystem);
  }
  SECTION("ZF with Python 2's extra space") {
    file = "ZF0x10" + std::string(16, ' ') + zlib_stream(kOsSystem);
  }
  Report r = scan(dir, "model.joblib", file);
  CHECK(r.format == "joblib");
  CHECK(r.scanned);
  CHECK(r.verdict() == Verdict::kDangerous);
  CHECK(has_finding(r, "global", "os.system", ""));
  CHECK(std::none_of(r.findings.begin(), r.findings.end(),
                     [](const auto& f) { return f.kind == "malformed"; }));
}

TEST_CASE("broken compressed streams are findings, not errors", "[scan-containers]") {
  TestDir dir;
  SECTION("corrupt gzip") {
    std::string gz = compressed(ARCHIVE_FILTER_GZIP, kOrderedDict + std::string(5000, 'x'));
    gz.resize(gz.size() / 2);
    Report r = scan(dir, "model.joblib", gz);
    CHECK(r.verdict() == Verdict::kDangerous);
    CHECK(has_finding(r, "malformed", "", ""));
  }
  SECTION("garbage after the zlib magic") {
    Report r = scan(dir, "model.joblib", raw("\x78\x9c garbage garbage garbage"));
    CHECK(r.format == "joblib");
    CHECK(r.verdict() == Verdict::kDangerous);
    CHECK(has_finding(r, "malformed", "zlib", ""));
  }
  SECTION("an lzma header asking for a 4 GiB dictionary") {
    Report r = scan(dir, "model.joblib",
                    raw("\x5d\x00\x00\x00\xff\xff\xff\xff\xff\xff\xff\xff\xff"
                        "rest"));
    CHECK(r.verdict() == Verdict::kDangerous);
    CHECK(has_finding(r, "malformed", "dictionary", ""));
  }
  SECTION("a ZF header without a length") {
    Report r = scan(dir, "model.joblib", "ZFnot-a-length!!!!!!!" + zlib_stream(kOsSystem));
    CHECK(r.verdict() == Verdict::kDangerous);
    CHECK(has_finding(r, "malformed", "ZF", ""));
  }
}

TEST_CASE("PyTorch zip checkpoints", "[scan-containers]") {
  TestDir dir;
  SECTION("a payload in data.pkl") {
    // Storage records hold raw tensor bytes, which may start like a pickle.
    Report r = scan(dir, "model.pt",
                    zip({{"archive/data.pkl", kOsSystem},
                         {"archive/data/0", kPopen},
                         {"archive/version", "3\n"}}));
    CHECK(r.format == "pytorch");
    CHECK(r.scanned);
    CHECK(r.verdict() == Verdict::kDangerous);
    CHECK(has_finding(r, "global", "os.system", "archive/data.pkl"));
    CHECK_FALSE(has_global(r, "subprocess.Popen"));
  }
  SECTION("a clean checkpoint, stored rather than deflated") {
    Report r =
        scan(dir, "model.pt",
             zip({{"model/data.pkl", kOrderedDict}, {"model/data/0", "\x80\x02\x01\x02"}}, true));
    CHECK(r.verdict() == Verdict::kClean);
    CHECK(r.globals == std::vector<std::string>{"collections.OrderedDict"});
  }
  SECTION("any member that starts with PROTO, and other .pkl members") {
    Report r = scan(dir, "model.pt",
                    zip({{"archive/data.pkl", kOrderedDict},
                         {"archive/extra", kPopen},
                         {"archive/constants.pkl", kOsSystem}}));
    CHECK(has_finding(r, "global", "subprocess.Popen", "archive/extra"));
    CHECK(has_finding(r, "global", "os.system", "archive/constants.pkl"));
  }
  SECTION("trailing data inside a member") {
    Report r = scan(dir, "model.pt", zip({{"archive/data.pkl", kOrderedDict + kPopen}}));
    CHECK(has_finding(r, "malformed", "extra data after STOP", "archive/data.pkl"));
    CHECK(has_finding(r, "global", "subprocess.Popen", "archive/data.pkl"));
  }
}

TEST_CASE("legacy PyTorch checkpoints: five pickles, then raw storage", "[scan-containers]") {
  TestDir dir;
  const std::string magic = raw("\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19.");
  const std::string version = raw("\x80\x02M\xe9\x03.");
  const std::string sys_info = raw("\x80\x02}q\x00.");
  const std::string keys =
      raw("\x80\x02]q\x00X\x01\x00\x00\x00"
          "0q\x01"
          "a.");
  // The storage bytes would read as a pickle importing subprocess.Popen.
  const std::string storage = kPopen + std::string(64, '\x01');
  SECTION("a payload in the object") {
    Report r = scan(dir, "model.pt", magic + version + sys_info + kOsSystem + keys + storage);
    CHECK(r.format == "pytorch");
    CHECK(r.verdict() == Verdict::kDangerous);
    CHECK(has_finding(r, "global", "os.system", ""));
    CHECK_FALSE(has_global(r, "subprocess.Popen"));
  }
  SECTION("a clean one") {
    Report r = scan(dir, "model.pt", magic + version + sys_info + kOrderedDict + keys + storage);
    CHECK(r.verdict() == Verdict::kClean);
    CHECK(r.findings.empty());
  }
  SECTION("cut short") {
    Report r = scan(dir, "model.pt", magic + version);
    CHECK(r.verdict() == Verdict::kDangerous);
    CHECK(has_finding(r, "malformed", "after 2 of its 5 pickles", ""));
  }
}

TEST_CASE("NumPy .npy: only object arrays hold a pickle", "[scan-containers]") {
  TestDir dir;
  SECTION("object dtype") {
    Report r = scan(dir, "a.npy",
                    npy("{'descr': '|O', 'fortran_order': False, 'shape': (2,), }", kOsSystem));
    CHECK(r.format == "npy");
    CHECK(r.scanned);
    CHECK(r.verdict() == Verdict::kDangerous);
    CHECK(has_finding(r, "global", "os.system", ""));
  }
  SECTION("float data is not read as a pickle") {
    Report r = scan(dir, "a.npy",
                    npy("{'descr': '<f8', 'fortran_order': False, 'shape': (1,), }", kOsSystem));
    CHECK(r.scanned);
    CHECK(r.verdict() == Verdict::kClean);
    CHECK(r.globals.empty());
  }
  SECTION("version 2 header, structured dtype with an object field") {
    Report r =
        scan(dir, "a.npy",
             npy("{'descr': [('a', '<i4'), ('b', '|O')], 'fortran_order': False, 'shape': (3L,)}",
                 kPopen, 2));
    CHECK(has_finding(r, "global", "subprocess.Popen", ""));
  }
  SECTION("a field named O is not an object field") {
    Report r = scan(dir, "a.npy",
                    npy("{'descr': [('O', '<f4'), (('t', 'Obj'), '<i8', (2,))], "
                        "'fortran_order': True, 'shape': ()}",
                        kPopen));
    CHECK(r.verdict() == Verdict::kClean);
  }
  SECTION("object dtypes spelled the ways Python allows") {
    const std::string descr =
        GENERATE(std::string("'|' 'O'"), std::string("'\\x4f'"), std::string("'\\117'"),
                 std::string("'\\u004f8'"), std::string("('|O')"), std::string("['xO']"),
                 std::string("{'xO': 1}"), std::string("'i4,O'"), std::string("'object'"),
                 std::string("('|O', (2,))"), std::string("\"\"\"|O\"\"\""));
    INFO(descr);
    Report r =
        scan(dir, "a.npy",
             npy("{'descr': '<f8', 'descr': " + descr + ", 'fortran_order': False, 'shape': (1,)}",
                 kPopen));
    CHECK(has_global(r, "subprocess.Popen"));
  }
  SECTION("a header this scanner cannot read is a finding") {
    const std::string header =
        GENERATE(std::string("{'descr': '|O', 'fortran_order': False}"),
                 std::string("{'descr': '|O', 'fortran_order': 0, 'shape': ()}"),
                 std::string("{'descr': '|O', 'fortran_order': False, 'shape': [1]}"),
                 std::string("{'descr': '|O', 'fortran_order': False, 'shape': (), 'x': 1}"),
                 std::string("{'descr': '\\N{LATIN CAPITAL LETTER O}', 'fortran_order': False, "
                             "'shape': ()}"),
                 std::string("{'descr': f'O', 'fortran_order': False, 'shape': ()}"),
                 std::string("{'descr': 5, 'fortran_order': False, 'shape': ()}"),
                 std::string(100, '[') + std::string(100, ']'), std::string("{'descr': '|O'"));
    INFO(header);
    Report r = scan(dir, "a.npy", npy(header, kOrderedDict));
    CHECK(r.verdict() == Verdict::kDangerous);
    CHECK(has_finding(r, "malformed", ".npy header", ""));
  }
  SECTION("a truncated file") {
    Report r = scan(dir, "a.npy", raw("\x93NUMPY\x01\x00\x76\x00{'descr'"));
    CHECK(has_finding(r, "malformed", "truncated", ""));
  }
  SECTION("an unknown version") {
    Report r =
        scan(dir, "a.npy", npy("{'descr': '<f8', 'fortran_order': False, 'shape': ()}", "", 9));
    CHECK(has_finding(r, "malformed", "version 9.0", ""));
  }
}

TEST_CASE("NumPy .npz: each array member", "[scan-containers]") {
  TestDir dir;
  const std::string objects =
      npy("{'descr': '|O', 'fortran_order': False, 'shape': (1,), }", kOsSystem);
  const std::string floats =
      npy("{'descr': '<f8', 'fortran_order': False, 'shape': (1,), }", std::string(8, '\0'));
  Report r = scan(dir, "arrays.npz", zip({{"weights.npy", floats}, {"labels.npy", objects}}));
  CHECK(r.format == "npz");
  CHECK(r.scanned);
  CHECK(r.verdict() == Verdict::kDangerous);
  CHECK(has_finding(r, "global", "os.system", "labels.npy"));
  CHECK(r.globals == std::vector<std::string>{"os.system"});
}

TEST_CASE("generic zips: pickle-named members and PROTO-led ones", "[scan-containers]") {
  TestDir dir;
  SECTION("members") {
    Report r = scan(dir, "bundle.zip",
                    zip({{"README.txt", "c\nos\nsystem\n"},
                         {"models/model.pkl", kOsSystem},
                         {"blob", kPopen},
                         {"folder/", ""}}));
    CHECK(r.format == "zip");
    CHECK(r.scanned);
    CHECK(has_finding(r, "global", "os.system", "models/model.pkl"));
    CHECK(has_finding(r, "global", "subprocess.Popen", "blob"));
    CHECK(r.globals.size() == 2);
  }
  SECTION("a compressed joblib member") {
    Report r = scan(dir, "bundle.zip",
                    zip({{"model.joblib", compressed(ARCHIVE_FILTER_GZIP, kOsSystem)}}));
    CHECK(has_finding(r, "global", "os.system", "model.joblib"));
  }
  SECTION("a PyTorch checkpoint inside a zip") {
    std::string inner = zip({{"archive/data.pkl", kOsSystem}});
    Report r = scan(dir, "bundle.zip", zip({{"models/model.pt", inner}}));
    CHECK(has_finding(r, "global", "os.system", "models/model.pt/archive/data.pkl"));
  }
  SECTION("zips nested too deep are not opened") {
    std::string z = zip({{"archive/data.pkl", kOsSystem}});
    for (int i = 0; i < 4; ++i) z = zip({{"m.pt", z}}, true);
    Report r = scan(dir, "bundle.zip", z);
    CHECK(r.verdict() == Verdict::kDangerous);
    CHECK(has_finding(r, "malformed", "nested", "m.pt/m.pt/m.pt/m.pt"));
  }
  SECTION("nothing to scan") {
    Report r = scan(dir, "bundle.zip", zip({{"a.txt", "hello"}, {"b.csv", "1,2"}}));
    CHECK(r.scanned);
    CHECK(r.verdict() == Verdict::kClean);
  }
}

TEST_CASE("Keras archives: config.json goes to the Lambda check", "[scan-containers]") {
  TestDir dir;
  const std::string config =
      R"({"class_name": "Sequential", "config": {"name": "s", "layers": [)"
      R"({"class_name": "Lambda", "config": {"name": "evil", "function": "x"}}]}})";
  Report r = scan(dir, "model.keras",
                  zip({{"metadata.json", R"({"keras_version": "3.0.0"})"},
                       {"config.json", config},
                       {"model.weights.h5", "not really hdf5"}}));
  CHECK(r.format == "keras");
  CHECK(r.scanned);
  CHECK(r.verdict() == Verdict::kDangerous);
  CHECK(has_finding(r, "lambda-layer", "evil", "config.json"));
}

TEST_CASE("damaged and hostile zips", "[scan-containers]") {
  TestDir dir;
  SECTION("cut in half") {
    std::string z =
        zip({{"archive/data.pkl", kOsSystem + std::string(4000, 'x')}, {"archive/version", "3\n"}});
    z.resize(z.size() / 2);
    Report r = scan(dir, "model.pt", z);
    CHECK(r.scanned);
    CHECK(r.verdict() == Verdict::kDangerous);
    CHECK(has_finding(r, "malformed", "", ""));
  }
  SECTION("a central directory said to span 17 MiB") {
    // Only the end record is real: its directory offset is 0, so a reader
    // would walk (and keep in memory) everything before it.
    std::string z = raw("PK\x05\x06");
    z += std::string(17u << 20, '\0');
    z += raw("PK\x05\x06\x00\x00\x00\x00\x01\x00\x01\x00\x2e\x00\x00\x00\x00\x00\x00\x00\x00\x00");
    Report r = scan(dir, "big.zip", z);
    CHECK(r.format == "zip");
    CHECK(has_finding(r, "malformed", "central directory", ""));
  }
  SECTION("an encrypted member") {
    std::string z = write_archive(
        [](struct archive* a) {
          archive_write_set_format_zip(a);
          REQUIRE(archive_write_set_options(a, "zip:encryption=zipcrypt") == ARCHIVE_OK);
          REQUIRE(archive_write_set_passphrase(a, "secret") == ARCHIVE_OK);
        },
        {{"archive/data.pkl", kOsSystem}});
    Report r = scan(dir, "model.pt", z);
    CHECK(r.verdict() == Verdict::kUnknown);
    CHECK(has_finding(r, "malformed", "encrypted", "archive/data.pkl"));
  }
}

TEST_CASE("scan_file's own errors and formats without code", "[scan-containers]") {
  TestDir dir;
  CHECK_THROWS_AS(mlpack::scan::scan_file(dir.path() / "missing.pkl"), mlpack::NotFoundError);
  CHECK_THROWS_AS(mlpack::scan::scan_file(dir.path()), mlpack::Error);
  Report text = scan(dir, "notes.txt", "import os; os.system('x')\n");
  CHECK(text.format == "text");
  CHECK_FALSE(text.scanned);
  CHECK(text.verdict() == Verdict::kClean);
  Report empty = scan(dir, "empty.pkl", "");
  CHECK_FALSE(empty.scanned);
}
