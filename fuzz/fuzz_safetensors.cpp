// libFuzzer target for the safetensors header check (and the JSON parser
// under it): any bytes as a whole .safetensors file.
#include <cstddef>
#include <cstdint>
#include <span>

#include "mlpack/scan/scan.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  mlpack::scan::MemoryReader in(std::span(data, size));
  mlpack::scan::Report report;
  mlpack::scan::check_safetensors(in, size, report, "");
  (void)report.verdict();
  return 0;
}
