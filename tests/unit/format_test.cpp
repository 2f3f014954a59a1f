#include "mlpack/manifest/format.hpp"

#include <catch2/catch.hpp>

#include <cstdint>
#include <cstring>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <vector>

using mlpack::manifest::detect_format;
using mlpack::manifest::kFormatSniffBytes;

namespace {

using Bytes = std::vector<std::uint8_t>;

Bytes bytes(std::string_view s) {
  return Bytes(s.begin(), s.end());
}

// Every byte of a literal, embedded NULs included, without counting by hand.
template <std::size_t N>
Bytes raw(const char (&s)[N]) {
  return Bytes(s, s + N - 1);
}

Bytes cat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const Bytes& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

void put_le(Bytes& out, std::uint64_t v, int n) {
  for (int i = 0; i < n; ++i) out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}

// Copies into a buffer of exactly `n` bytes, so AddressSanitizer catches any
// read past the end (a vector's spare capacity would hide it).
std::string detect_prefix(const Bytes& data, std::size_t n, std::string_view name) {
  std::unique_ptr<std::uint8_t[]> buf(new std::uint8_t[n]);
  if (n > 0) std::memcpy(buf.get(), data.data(), n);
  return detect_format(std::span<const std::uint8_t>(buf.get(), n), name);
}

std::string detect(const Bytes& data, std::string_view name = "") {
  return detect_prefix(data, data.size(), name);
}

// --- sample builders -------------------------------------------------------

struct ZipMember {
  std::string name;
  std::string data;
  bool descriptor = false;        // sizes 0 in the local header, data descriptor after
  bool zip64 = false;             // sizes 0xFFFFFFFF, real ones in the Zip64 extra (numpy.savez)
  bool sized_descriptor = false;  // data descriptor after, yet sizes in the local header too
};

// Stored (uncompressed) members laid out the way Python's zipfile writes them,
// followed by the central directory and end record.
Bytes make_zip(const std::vector<ZipMember>& members) {
  Bytes out;
  Bytes central;
  std::size_t count = 0;
  for (const ZipMember& m : members) {
    std::size_t offset = out.size();
    std::uint64_t size = m.data.size();
    Bytes extra;
    if (m.zip64) {
      put_le(extra, 0x0001, 2);
      put_le(extra, 16, 2);
      put_le(extra, size, 8);
      put_le(extra, size, 8);
    }
    bool has_descriptor = m.descriptor || m.sized_descriptor;
    std::uint64_t header_size = m.zip64 ? 0xFFFFFFFFu : (m.descriptor ? 0 : size);
    Bytes local = bytes("PK\x03\x04");
    put_le(local, m.zip64 ? 45 : 20, 2);       // version needed
    put_le(local, has_descriptor ? 8 : 0, 2);  // flags
    put_le(local, 0, 2);                       // stored
    put_le(local, 0, 4);                       // time, date
    put_le(local, 0x12345678, 4);              // crc (not checked by the detector)
    put_le(local, header_size, 4);
    put_le(local, header_size, 4);
    put_le(local, m.name.size(), 2);
    put_le(local, extra.size(), 2);
    out.insert(out.end(), local.begin(), local.end());
    out.insert(out.end(), m.name.begin(), m.name.end());
    out.insert(out.end(), extra.begin(), extra.end());
    out.insert(out.end(), m.data.begin(), m.data.end());
    if (has_descriptor) {
      Bytes dd = bytes("PK\x07\x08");
      put_le(dd, 0x12345678, 4);
      put_le(dd, size, 4);
      put_le(dd, size, 4);
      out.insert(out.end(), dd.begin(), dd.end());
    }
    Bytes c = bytes("PK\x01\x02");
    put_le(c, 20, 2);
    put_le(c, 20, 2);
    put_le(c, has_descriptor ? 8 : 0, 2);
    put_le(c, 0, 2);
    put_le(c, 0, 4);
    put_le(c, 0x12345678, 4);
    put_le(c, size, 4);
    put_le(c, size, 4);
    put_le(c, m.name.size(), 2);
    put_le(c, 0, 2);  // extra
    put_le(c, 0, 2);  // comment
    put_le(c, 0, 2);  // disk
    put_le(c, 0, 2);  // internal attributes
    put_le(c, 0, 4);  // external attributes
    put_le(c, offset, 4);
    central.insert(central.end(), c.begin(), c.end());
    central.insert(central.end(), m.name.begin(), m.name.end());
    ++count;
  }
  std::size_t central_offset = out.size();
  out.insert(out.end(), central.begin(), central.end());
  Bytes end = bytes("PK\x05\x06");
  put_le(end, 0, 4);
  put_le(end, count, 2);
  put_le(end, count, 2);
  put_le(end, central.size(), 4);
  put_le(end, central_offset, 4);
  put_le(end, 0, 2);
  out.insert(out.end(), end.begin(), end.end());
  return out;
}

// The safetensors layout: u64 header length, JSON header padded with spaces
// to a multiple of 8, then the tensor data.
Bytes make_safetensors(std::string header, std::size_t data_bytes = 4) {
  while (header.size() % 8 != 0) header.push_back(' ');
  Bytes out;
  put_le(out, header.size(), 8);
  out.insert(out.end(), header.begin(), header.end());
  out.insert(out.end(), data_bytes, 0);
  return out;
}

const std::string kTensorHeader = R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})";

// Same header grown with metadata to an exact, unpadded length, so the
// length's low bytes can be chosen to collide with other formats' magic numbers.
Bytes safetensors_with_header_length(std::size_t length) {
  std::string prefix = R"({"__metadata__":{"note":")";
  std::string suffix = R"("},"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})";
  std::string header = prefix + std::string(length - prefix.size() - suffix.size(), 'x') + suffix;
  Bytes out;
  put_le(out, header.size(), 8);
  out.insert(out.end(), header.begin(), header.end());
  out.insert(out.end(), 4, 0);
  return out;
}

// pickle.dumps({'a': 1}, protocol=4) and protocol=2, byte for byte.
const Bytes kPickle4 =
    raw("\x80\x04\x95\x0a\x00\x00\x00\x00\x00\x00\x00}\x94\x8c\x01"
        "a\x94K\x01s.");
const Bytes kPickle2 =
    raw("\x80\x02}q\x00X\x01\x00\x00\x00"
        "aq\x01K\x01s.");
// pickle.dumps([1, 2], protocol=0): plain ASCII.
const Bytes kPickle0 = bytes("(lp0\nI1\naI2\na.");

// The start of a legacy (non-zip) torch.save file: the pickled magic number
// 0x1950a86a20f9469cfc6c, then the protocol version 1001.
const Bytes kTorchLegacy = cat(
    {raw("\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19."), raw("\x80\x02M\xe9\x03.")});

// What joblib.dump writes for an object holding a NumPy array.
const Bytes kJoblibPickle =
    cat({raw("\x80\x04\x95\x40\x00\x00\x00\x00\x00\x00\x00"),
         bytes("\x8c\x13joblib.numpy_pickle\x94\x8c\x11NumpyArrayWrapper\x94\x93\x94)\x81\x94."),
         Bytes(40, 0)});

const Bytes kNpy = [] {
  std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }";
  while ((10 + header.size() + 1) % 64 != 0) header.push_back(' ');
  header.push_back('\n');
  Bytes out = raw("\x93NUMPY\x01\x00");
  put_le(out, header.size(), 2);
  out.insert(out.end(), header.begin(), header.end());
  out.insert(out.end(), 12, 0);
  return out;
}();

const Bytes kHdf5Signature = bytes("\x89HDF\r\n\x1a\n");

Bytes make_hdf5(std::size_t offset = 0, std::string_view attrs = "") {
  Bytes out(offset, 0);
  out.insert(out.end(), kHdf5Signature.begin(), kHdf5Signature.end());
  out.insert(out.end(), {0, 0, 0, 0, 8, 8, 0, 0});  // superblock v0 fields
  out.insert(out.end(), 64, 0);
  out.insert(out.end(), attrs.begin(), attrs.end());
  out.insert(out.end(), 16, 0);
  return out;
}

// ModelProto: ir_version 7, producer_name "pytorch", producer_version "2.1",
// graph {name: "main"}, opset_import {version: 17}.
const Bytes kOnnx =
    raw("\x08\x07\x12\x07pytorch\x1a\x03"
        "2.1\x3a\x06\x12\x04main\x42\x02\x10\x11");

const Bytes kPyTorchZip =
    make_zip({{"archive/data.pkl", std::string(kPickle2.begin(), kPickle2.end())},
              {"archive/byteorder", "little"},
              {"archive/data/0", std::string(16, '\0')},
              {"archive/version", "3\n"}});

const Bytes kNpz = make_zip({{"x.npy", std::string(kNpy.begin(), kNpy.end()), false, true},
                             {"y.npy", std::string(kNpy.begin(), kNpy.end()), false, true}});

const Bytes kKerasZip = make_zip({{"metadata.json", R"({"keras_version": "3.3.3"})"},
                                  {"config.json", R"({"module": "keras.src.models"})"},
                                  {"model.weights.h5", std::string(make_hdf5().size(), 'h')}});

const Bytes kPlainZip =
    make_zip({{"docs/readme.txt", "hello\n"}, {"docs/data/train.csv", "a,b\n"}});

const std::set<std::string> kAllFormats = {"pickle", "joblib", "pytorch", "safetensors", "onnx",
                                           "keras",  "hdf5",   "npy",     "npz",         "zip",
                                           "json",   "yaml",   "text",    "binary"};

}  // namespace

TEST_CASE("empty input is binary whatever its name", "[format]") {
  CHECK(detect({}) == "binary");
  CHECK(detect({}, "notes.txt") == "binary");
  CHECK(detect({}, "config.json") == "binary");
  CHECK(detect({}, "model.pkl") == "binary");
}

TEST_CASE("pickles by protocol header", "[format]") {
  CHECK(detect(kPickle4, "model.pkl") == "pickle");
  CHECK(detect(kPickle4) == "pickle");
  CHECK(detect(kPickle2, "state.pickle") == "pickle");
  // Content wins over a misleading name.
  CHECK(detect(kPickle4, "weights.dat") == "pickle");
  CHECK(detect(kPickle2, "model.onnx") == "pickle");
}

TEST_CASE("protocol 0 pickles need a pickle extension", "[format]") {
  CHECK(detect(kPickle0, "model.pkl") == "pickle");
  CHECK(detect(kPickle0, "dir/MODEL.PICKLE") == "pickle");
  CHECK(detect(kPickle0, "model.joblib") == "joblib");
  // Without one the ASCII opcodes are just text.
  CHECK(detect(kPickle0, "notes.txt") == "text");
  CHECK(detect(kPickle0) == "text");
}

TEST_CASE("legacy torch.save files by their pickled magic number", "[format]") {
  CHECK(detect(kTorchLegacy, "model.pt") == "pytorch");
  CHECK(detect(kTorchLegacy, "weights.dat") == "pytorch");
  CHECK(detect(kTorchLegacy, "model.pkl") == "pytorch");
  // A plain protocol-2 pickle named .pt is still only a pickle.
  CHECK(detect(kPickle2, "model.pt") == "pickle");
}

TEST_CASE("joblib pickles by content or extension", "[format]") {
  CHECK(detect(kJoblibPickle, "model.bin") == "joblib");
  CHECK(detect(kJoblibPickle) == "joblib");
  CHECK(detect(cat({raw("\x80\x04\x95\x20\x00\x00\x00\x00\x00\x00\x00"),
                    bytes("\x8c\x0cjoblib.cache\x94\x8c\x04Memo\x94\x93\x94.")}),
               "cache.pkl") == "joblib");
  CHECK(detect(kPickle4, "model.joblib") == "joblib");
  CHECK(detect(kPickle4, "model.JBL") == "joblib");
}

TEST_CASE("compressed joblib dumps need a joblib or pickle extension", "[format]") {
  const std::vector<Bytes> streams = {
      raw("\x78\x9c\x6b\x60\x99\x2a\x00"),      // zlib
      raw("\x78\x01\x01\x02\x00"),              // zlib, level 1
      raw("\x1f\x8b\x08\x00\x00\x00\x00\x00"),  // gzip
      bytes("BZh91AY&SY"),                      // bz2
      raw("\xfd"
          "7zXZ\x00\x00\x04\xe6\xd6\xb4"),      // xz
      raw("\x04\x22\x4d\x18\x64\x40\xa7"),      // lz4 frame
      raw("\x5d\x00\x00\x80\x00\xff\xff\xff"),  // lzma alone
      bytes("ZF0x1a              "),            // old joblib zfile
  };
  for (std::size_t i = 0; i < streams.size(); ++i) {
    const Bytes& s = streams[i];
    CAPTURE(i);
    CHECK(detect(s, "model.joblib") == "joblib");
    CHECK(detect(s, "out/model.jbl") == "joblib");
    CHECK(detect(s, "model.pkl") == "joblib");
    CHECK(detect(s, "model.bin") == "binary");
    CHECK(detect(s) == "binary");
  }
}

TEST_CASE("npy arrays by magic", "[format]") {
  CHECK(detect(kNpy, "x.npy") == "npy");
  CHECK(detect(kNpy, "x.bin") == "npy");
  CHECK(detect(kNpy) == "npy");
}

TEST_CASE("hdf5 files, and keras ones among them", "[format]") {
  CHECK(detect(make_hdf5(), "data.h5") == "hdf5");
  CHECK(detect(make_hdf5()) == "hdf5");
  CHECK(detect(make_hdf5(), "model.keras") == "keras");
  CHECK(detect(make_hdf5(0, "keras_version\0003.1.0"), "model.h5") == "keras");
  CHECK(detect(make_hdf5(0, "model_config{\"class_name\": \"Sequential\"}"), "m.bin") == "keras");
  // The superblock may follow a user block of 512, 1024 or 2048 bytes.
  CHECK(detect(make_hdf5(512), "data.h5") == "hdf5");
  CHECK(detect(make_hdf5(1024)) == "hdf5");
  CHECK(detect(make_hdf5(2048)) == "hdf5");
  CHECK(detect(make_hdf5(100), "data.h5") == "binary");
  // A head that stops inside the signature at 512 must not count.
  Bytes cut = make_hdf5(512);
  cut.resize(512 + 4);
  CHECK(detect(cut, "data.h5") == "binary");
}

TEST_CASE("pytorch zip archives by member names", "[format]") {
  CHECK(detect(kPyTorchZip, "model.pt") == "pytorch");
  CHECK(detect(kPyTorchZip, "model.zip") == "pytorch");
  CHECK(detect(kPyTorchZip) == "pytorch");
  CHECK(detect(make_zip({{"m/version", "3\n"}})) == "pytorch");
  CHECK(detect(make_zip({{"m/.data/version", "3\n"}, {"m/x", "y"}})) == "pytorch");
  CHECK(detect(make_zip({{"notes.txt", "a"}, {"m/data/17", "b"}})) == "pytorch");
}

TEST_CASE("a decisive member after a zip64 member is still found", "[format]") {
  // Without reading the Zip64 extra the walk cannot get past the first member.
  Bytes zip = make_zip({{"x/notes.txt", "some notes", false, true}, {"x/data.pkl", "."}});
  CHECK(detect(zip, "bundle.zip") == "pytorch");
}

TEST_CASE("names inside a stored member are not the archive's own", "[format]") {
  // The walk steps over each member's data (here sized by the Zip64 extra), so
  // a zip stored inside a zip does not lend its member names to the outer one.
  Bytes inner = make_zip({{"m/data.pkl", "."}});
  Bytes outer = make_zip(
      {{"nested.zip", std::string(inner.begin(), inner.end()), false, true}, {"b.txt", "b"}});
  CHECK(detect(outer, "bundle.zip") == "zip");
}

TEST_CASE("npz archives by .npy members", "[format]") {
  CHECK(detect(kNpz, "arrays.npz") == "npz");
  CHECK(detect(kNpz, "arrays.zip") == "npz");
  CHECK(detect(kNpz) == "npz");
  // One stray member makes it a plain zip unless the name says npz.
  Bytes mixed = make_zip({{"x.npy", "a"}, {"README", "b"}});
  CHECK(detect(mixed, "data.zip") == "zip");
  CHECK(detect(mixed, "data.npz") == "npz");
}

TEST_CASE("keras v3 archives by member names", "[format]") {
  CHECK(detect(kKerasZip, "model.keras") == "keras");
  CHECK(detect(kKerasZip, "model.zip") == "keras");
  CHECK(detect(make_zip({{"model.weights.h5", "w"}}), "x.zip") == "keras");
  // config.json alone is common in unrelated archives.
  Bytes config_only = make_zip({{"config.json", "{}"}, {"weights.bin", "w"}});
  CHECK(detect(config_only, "x.zip") == "zip");
  CHECK(detect(config_only, "x.keras") == "keras");
}

TEST_CASE("zips streamed with data descriptors are scanned for later headers", "[format]") {
  Bytes keras = make_zip({{"metadata.json", R"({"date_saved": "2024"})", true},
                          {"config.json", R"({"class_name": "Functional"})", true},
                          {"model.weights.h5", "weights", true}});
  CHECK(detect(keras, "model.bin") == "keras");
  Bytes torch = make_zip({{"x/byteorder", "little", true}, {"x/data.pkl", ".", true}});
  CHECK(detect(torch, "blob") == "pytorch");
  Bytes plain = make_zip({{"a.txt", "a", true}, {"b.txt", "b", true}});
  CHECK(detect(plain, "a.zip") == "zip");
}

TEST_CASE("a data descriptor after a sized member is stepped over", "[format]") {
  Bytes zip = make_zip({{"a/notes.txt", "notes", false, false, true}, {"a/data.pkl", "."}});
  CHECK(detect(zip, "bundle.zip") == "pytorch");
}

TEST_CASE("other zips, with extension tie-breaks", "[format]") {
  CHECK(detect(kPlainZip, "docs.zip") == "zip");
  CHECK(detect(kPlainZip) == "zip");
  CHECK(detect(kPlainZip, "model.pt") == "pytorch");
  CHECK(detect(kPlainZip, "model.pth") == "pytorch");
  CHECK(detect(kPlainZip, "model.bin") == "pytorch");
  CHECK(detect(kPlainZip, "arrays.npz") == "npz");
  CHECK(detect(kPlainZip, "model.keras") == "keras");
  Bytes empty_zip = make_zip({});
  CHECK(detect(empty_zip, "x.zip") == "zip");
  CHECK(detect(empty_zip, "x.npz") == "npz");
}

TEST_CASE("safetensors by header, whatever the name", "[format]") {
  Bytes st = make_safetensors(kTensorHeader);
  CHECK(detect(st, "model.safetensors") == "safetensors");
  CHECK(detect(st, "model.bin") == "safetensors");
  CHECK(detect(st, "model.pkl") == "safetensors");
  CHECK(detect(st) == "safetensors");
  CHECK(detect(make_safetensors("{}"), "empty.safetensors") == "safetensors");
  // A header longer than the head is judged on the part that is there.
  Bytes big = safetensors_with_header_length(200000);
  big.resize(kFormatSniffBytes);
  CHECK(detect(big) == "safetensors");
}

TEST_CASE("safetensors header lengths that look like other magic numbers", "[format]") {
  // 0x280 starts 80 02 like a protocol-2 pickle; 0x178 starts 78 01 like zlib;
  // 0x8b1f starts 1f 8b like gzip.
  for (std::size_t length : {0x280u, 0x178u, 0x8b1fu}) {
    CAPTURE(length);
    Bytes st = safetensors_with_header_length(length);
    REQUIRE(st[0] == (length & 0xff));
    CHECK(detect(st, "model.pkl") == "safetensors");
    CHECK(detect(st, "model.joblib") == "safetensors");
  }
}

TEST_CASE("things that are not safetensors", "[format]") {
  Bytes st = make_safetensors(kTensorHeader);
  Bytes no_brace = st;
  no_brace[8] = '[';
  CHECK(detect(no_brace, "model.safetensors") == "binary");
  Bytes huge = st;
  huge[3] = 0x10;  // header length 0x10000000 + ..., over the 100 MB cap
  CHECK(detect(huge, "model.safetensors") == "binary");
  Bytes control = st;
  control[12] = 0x01;
  CHECK(detect(control, "model.safetensors") == "binary");
  // The header must end in '}' when the head holds all of it.
  Bytes open = make_safetensors(R"({"w":1,  )");
  CHECK(detect(open, "model.safetensors") == "binary");
}

TEST_CASE("onnx models by protobuf structure", "[format]") {
  CHECK(detect(kOnnx, "model.onnx") == "onnx");
  CHECK(detect(kOnnx, "model.bin") == "onnx");
  CHECK(detect(kOnnx) == "onnx");
  // A graph running past the head still leaves the producer to go on.
  Bytes big =
      raw("\x08\x08\x12\x07pytorch\x1a\x03"
          "2.3\x3a\xff\xff\x04");
  big.resize(4096, 0x0a);
  CHECK(detect(big) == "onnx");
  // Only an opset import, no producer.
  CHECK(detect(raw("\x08\x07\x42\x04\x0a\x00\x10\x11\x3a\x00")) == "onnx");
}

TEST_CASE("onnx-like bytes without evidence need the extension", "[format]") {
  // A valid prefix but a non-printable producer and nothing else ONNX-ish.
  Bytes weak = raw("\x08\x07\x12\x03\x01\x02\x03\x3a\x02\x00\x00");
  CHECK(detect(weak, "blob.bin") == "binary");
  CHECK(detect(weak) == "binary");
  CHECK(detect(weak, "model.onnx") == "onnx");
  // ir_version out of range, or a second field ModelProto does not have.
  CHECK(detect(raw("\x08\x63\x12\x07pytorch"), "m.onnx") == "binary");
  CHECK(detect(raw("\x08\x07\x10\x07pytorch"), "m.onnx") == "binary");
  // A field ModelProto knows, with the wrong wire type.
  CHECK(detect(raw("\x08\x07\x12\x07pytorch\x3d\x00\x00\x00\x00")) == "binary");
}

TEST_CASE("json by first character or extension", "[format]") {
  CHECK(detect(bytes(R"({"a": 1})")) == "json");
  CHECK(detect(bytes("  \n[1, 2, 3]\n"), "x.txt") == "json");
  CHECK(detect(bytes(R"([{"a": 1}])")) == "json");
  CHECK(detect(bytes("[true, null]")) == "json");
  CHECK(detect(bytes("\xef\xbb\xbf{\"bom\": true}")) == "json");
  CHECK(detect(bytes("\"just a string\""), "value.json") == "json");
  // INI and TOML sections open with '[' too.
  CHECK(detect(bytes("[section]\nkey = 1\n"), "setup.cfg") == "text");
  CHECK(detect(bytes("[tool.poetry]\nname = \"x\"\n")) == "text");
  CHECK(detect(bytes("{{ template }}\n")) == "text");
}

TEST_CASE("yaml by extension or a conservative look", "[format]") {
  CHECK(detect(bytes("name: iris\nversion: 1\nlayers:\n  - dense\n  - relu\n")) == "yaml");
  CHECK(detect(bytes("# model card\nname: iris\n\nlicense: mit\n")) == "yaml");
  CHECK(detect(bytes("---\nanything goes\n")) == "yaml");
  CHECK(detect(bytes("%YAML 1.2\n---\na: 1\n")) == "yaml");
  CHECK(detect(bytes("hello world\n"), "params.yml") == "yaml");
  CHECK(detect(bytes("hello world\n"), "params.YAML") == "yaml");
  // Prose and code with colons stay text.
  CHECK(detect(bytes("Note: this is prose.\nIt goes on here.\n")) == "text");
  CHECK(detect(bytes("single: key\n")) == "text");
  CHECK(detect(bytes("From: a@example.com\nTo: b@example.com\n\nHello there.\n")) == "text");
  CHECK(detect(bytes("def f():\n    return 1\nelse:\n")) == "text");
  CHECK(detect(bytes("http://example.com\nurl: x\n")) == "text");
  CHECK(detect(bytes("a:\n\tb: 1\nc: 2\n")) == "text");
}

TEST_CASE("text and binary", "[format]") {
  CHECK(detect(bytes("hello world\n")) == "text");
  CHECK(detect(bytes("h\xc3\xa9llo w\xc3\xb6rld \xe2\x82\xac \xf0\x9f\x98\x80\n"), "r.md") ==
        "text");
  CHECK(detect(bytes("\x1b[31mred\x1b[0m\n")) == "text");
  CHECK(detect(raw("nul\0byte")) == "binary");
  CHECK(detect(bytes("bell\x07")) == "binary");
  CHECK(detect(bytes("bad \xc3\x28 utf8")) == "binary");
  CHECK(detect(bytes("overlong \xc0\xaf")) == "binary");
  CHECK(detect(bytes("surrogate \xed\xa0\x80")) == "binary");
  // A whole file may not end inside a character...
  CHECK(detect(bytes("cut \xe2\x82")) == "binary");
  // ...but a 64 KiB head cut from a longer file may.
  Bytes cut(kFormatSniffBytes - 2, 'a');
  cut.push_back(0xe2);
  cut.push_back(0x82);
  CHECK(detect(cut) == "text");

  std::mt19937 rng(12345);
  Bytes random(4096);
  for (auto& b : random) b = static_cast<std::uint8_t>(rng());
  random[0] = 0xde;  // keep the seed's luck out of it: no magic starts with 0xde
  CHECK(detect(random) == "binary");
  CHECK(detect(random, "model.onnx") == "binary");
  CHECK(detect(random, "model.pkl") == "binary");
}

TEST_CASE("long yaml whose head ends mid-line", "[format]") {
  std::string doc;
  for (int i = 0; doc.size() < kFormatSniffBytes + 100; ++i) {
    doc += "key_" + std::to_string(i) + ": some value number " + std::to_string(i) + "\n";
  }
  Bytes head = bytes(doc);
  head.resize(kFormatSniffBytes);
  REQUIRE(head.back() != '\n');
  CHECK(detect(head) == "yaml");
}

TEST_CASE("hostile zip headers", "[format]") {
  // Name and extra lengths pointing far past the head.
  Bytes z = raw("PK\x03\x04\x14\x00\x00\x00\x00\x00");
  z.insert(z.end(), 16, 0xff);
  z.insert(z.end(), {0xff, 0xff, 0xff, 0xff});
  CHECK(detect(z, "x.zip") == "zip");
  CHECK(detect(z, "x.pt") == "pytorch");
  // A zip64 extra whose record claims more bytes than the extra holds: the
  // size is unknown, so the rest of the head is searched for headers.
  Bytes bad64 = make_zip({{"a.txt", "abc", false, true}, {"x/data.pkl", "."}});
  bad64[30 + 5 + 2] = 0x40;  // record length 16 -> 64
  CHECK(detect(bad64, "x.zip") == "pytorch");
  bad64.resize(30 + 5 + 20);  // ...and with nothing after it, only the first name
  CHECK(detect(bad64, "x.zip") == "zip");
  // Descriptor flag with zero sizes and nothing after: only the first name.
  Bytes lone = make_zip({{"metadata.json", "", true}});
  lone.resize(30 + 13 + 3);
  CHECK(detect(lone, "x.zip") == "zip");
  CHECK(detect(lone, "x.keras") == "keras");
}

TEST_CASE("a zip64 size that wraps around does not loop the walk", "[format]") {
  Bytes zip = make_zip({{"a.txt", "abc", false, true}, {"b.txt", "b"}});
  // Header 30 + name 5 + extra 20: a size of 2^64 - 55 would lead back to offset 0.
  std::uint64_t wrap = ~std::uint64_t{0} - 54;
  for (int i = 0; i < 8; ++i) {
    zip[30 + 5 + 4 + 8 + i] = static_cast<std::uint8_t>(wrap >> (8 * i));
  }
  CHECK(detect(zip, "x.zip") == "zip");
  CHECK(detect(zip, "x.npz") == "npz");
}

TEST_CASE("every prefix of every sample is handled without crashing", "[format]") {
  const std::vector<Bytes> samples = {
      kPickle4,
      kPickle2,
      kPickle0,
      kTorchLegacy,
      kJoblibPickle,
      kNpy,
      make_hdf5(),
      make_hdf5(0, "keras_version"),
      make_hdf5(2048),
      kOnnx,
      kPyTorchZip,
      kNpz,
      kKerasZip,
      kPlainZip,
      make_zip({{"metadata.json", "{}", true}, {"config.json", "{}", true}}),
      make_zip({{"x/n.txt", "abc", false, true}, {"x/data.pkl", "."}}),
      make_safetensors(kTensorHeader),
      safetensors_with_header_length(0x280),
      raw("\x78\x9c\x6b\x60\x99\x2a\x00"),
      raw("\xfd"
          "7zXZ\x00\x00\x04"),
      bytes(R"({"a": [1, 2, {"b": null}]})"),
      bytes("name: iris\nversion: 1\nlayers:\n  - dense\n"),
      bytes("h\xc3\xa9llo \xf0\x9f\x98\x80 world\n"),
  };
  const std::vector<std::string_view> names = {
      "",        "model", "dir.d/model", "m.pkl",  "m.joblib", "m.pt", "m.onnx",
      "m.keras", "m.npz", "m.json",      "m.yaml", ".",        "a/b/", "C:\\x\\m.JBL"};
  for (std::size_t i = 0; i < samples.size(); ++i) {
    for (std::size_t n = 0; n <= samples[i].size(); ++n) {
      for (std::string_view name : names) {
        std::string got = detect_prefix(samples[i], n, name);
        if (kAllFormats.count(got) == 0) {
          FAIL("sample " << i << " cut to " << n << " bytes, named '" << name << "': " << got);
        }
      }
    }
  }
  // Full-length samples keep their formats regardless of the loop above.
  CHECK(detect_prefix(samples[10], samples[10].size(), "") == "pytorch");
  // The first 30 bytes of a zip (one bare local header) are still a zip.
  CHECK(detect_prefix(kPlainZip, 30, "") == "zip");
  CHECK(detect_prefix(kNpy, 6, "") == "npy");
  CHECK(detect_prefix(kNpy, 5, "") == "binary");
}

TEST_CASE("mutated samples never crash", "[format]") {
  const std::vector<Bytes> samples = {kPyTorchZip,   kNpz,     kKerasZip,
                                      kOnnx,         kPickle4, make_safetensors(kTensorHeader),
                                      make_hdf5(512)};
  std::mt19937 rng(42);
  for (int iter = 0; iter < 20000; ++iter) {
    Bytes data = samples[rng() % samples.size()];
    int flips = 1 + static_cast<int>(rng() % 8);
    for (int f = 0; f < flips; ++f) {
      data[rng() % data.size()] = static_cast<std::uint8_t>(rng() % 4 == 0 ? 0xff : rng());
    }
    std::size_t n = rng() % (data.size() + 1);
    std::string got = detect_prefix(data, n, iter % 2 == 0 ? "x.onnx" : "y.pt");
    REQUIRE(kAllFormats.count(got) == 1);
  }
}
