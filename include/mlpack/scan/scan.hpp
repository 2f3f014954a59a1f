// Model safety scanning: finds what loading a model file could execute,
// without executing anything. Pickle-family files (pickle, joblib, PyTorch)
// are walked opcode by opcode and every imported global is classified;
// other formats are checked for their own escape hatches (safetensors
// headers, Keras Lambda layers, ONNX external-data paths).
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace mlpack::scan {

// Recorded with every result, so a verdict can be re-checked when the
// scanner's rules change.
inline constexpr const char* kScannerVersion = "1";

enum class Severity { kUnknown, kDangerous };

struct Finding {
  Severity severity = Severity::kDangerous;
  // global | malformed | lambda-layer | external-data | header
  std::string kind;
  std::string detail;  // "os.system", "truncated at byte 120", ...
  std::string member;  // inside a container ("archive/data.pkl"); empty for the file itself
};

enum class Verdict { kClean, kUnknown, kDangerous };
std::string_view verdict_name(Verdict v);    // clean | unknown | dangerous
std::string_view severity_name(Severity s);  // unknown | dangerous

struct Report {
  std::string format;                // as manifest::detect_format names it
  std::vector<Finding> findings;     // in the order found
  std::vector<std::string> globals;  // every global imported, "module.name", first-seen order
  bool scanned = false;              // false: not a format that can carry code

  Verdict verdict() const;
  void add(Severity severity, std::string kind, std::string detail, std::string member = {});
  void add_global(const std::string& qualified);
};

// A byte stream the parsers read from: a file, a decompressed stream, a zip
// member. read() fills up to out.size() bytes and returns 0 only at the end.
class Reader {
 public:
  virtual ~Reader() = default;
  virtual std::size_t read(std::span<std::uint8_t> out) = 0;
};

// A Reader over bytes in memory (tests, fuzzing, small members).
class MemoryReader : public Reader {
 public:
  explicit MemoryReader(std::span<const std::uint8_t> bytes) : bytes_(bytes) {}
  explicit MemoryReader(std::string_view bytes)
      : bytes_(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()) {}
  std::size_t read(std::span<std::uint8_t> out) override;

 private:
  std::span<const std::uint8_t> bytes_;
  std::size_t pos_ = 0;
};

// Scans one file: detects its format and runs the checks that apply.
// `filename` (default: the file's own name) breaks format ties, for store
// objects named by their digest. Throws only for I/O errors on the file
// itself; anything malformed inside it becomes a finding.
Report scan_file(const std::filesystem::path& file, std::string_view filename = {});

// --- the checks, one per format (each adds findings to `report`) ----------

// Pickle streams (pickle.cpp). Reads one pickle, through its STOP opcode, and
// returns true; returns false when the input was already at its end.
// With `joblib`, the raw array data joblib writes after each
// NumpyArrayWrapper is skipped (and an object array's nested pickle scanned).
bool scan_pickle(Reader& in, Report& report, const std::string& member, bool joblib = false);

// Whether a global (module and name, as a pickle names them) is on the
// allowlist (kClean), the denylist (kDangerous) or neither (kUnknown).
Verdict classify_global(std::string_view module, std::string_view name);

// safetensors: header is JSON, offsets in bounds, non-overlapping, covering
// the data, dtype x shape matching each byte length (safetensors.cpp).
void check_safetensors(Reader& in, std::uint64_t file_size, Report& report,
                       const std::string& member);

// Keras: Lambda layers (which carry Python code) in a .keras archive's
// config.json, or in an HDF5 file's model_config attribute (keras.cpp).
void check_keras_config(std::string_view config_json, Report& report, const std::string& member);
void check_keras_hdf5(Reader& in, Report& report, const std::string& member);

// ONNX: external-data locations that are absolute or climb out of the
// model's folder (onnx.cpp).
void check_onnx(Reader& in, Report& report, const std::string& member);

}  // namespace mlpack::scan
