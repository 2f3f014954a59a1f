// libFuzzer target for the pickle opcode scanner: any bytes, read as a
// sequence of pickles the way scan_file reads a pickle file (and, with the
// first byte odd, as joblib reads one).
#include <cstddef>
#include <cstdint>
#include <span>

#include "mlpack/scan/scan.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const bool joblib = (data[0] & 1) != 0;
  mlpack::scan::MemoryReader in(std::span(data + 1, size - 1));
  mlpack::scan::Report report;
  // Up to a few consecutive pickles, as after a STOP with data behind it.
  for (int i = 0; i < 4 && mlpack::scan::scan_pickle(in, report, "", joblib); ++i) {
  }
  (void)report.verdict();
  return 0;
}
