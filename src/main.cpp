// The thin executable: everything lives in the library. This is the one
// place where errors become a message and an exit code (DESIGN.md §4).
#include <exception>
#include <iostream>
#include <new>
#include <string>

#include <yaml-cpp/exceptions.h>

#include "mlpack/cli/app.hpp"
#include "mlpack/util/error.hpp"

namespace {

// Messages can quote bytes from hostile input (archive entry names, spec
// values): control characters are shown escaped so they cannot drive the
// terminal, and the message stays on one line.
std::string printable(const char* message) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (const char* p = message; *p; ++p) {
    unsigned char c = static_cast<unsigned char>(*p);
    if (c < 0x20 || c == 0x7f) {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return mlpack::cli::run(argc, argv);
  } catch (const mlpack::Error& e) {
    std::cerr << "mlpack: error: " << printable(e.what()) << '\n';
    return static_cast<int>(e.code());
  } catch (const YAML::Exception& e) {
    std::cerr << "mlpack: error: malformed YAML: " << printable(e.what()) << '\n';
    return static_cast<int>(mlpack::ExitCode::kUsage);
  } catch (const std::bad_alloc&) {
    std::cerr << "mlpack: error: out of memory\n";
    return static_cast<int>(mlpack::ExitCode::kRuntime);
  } catch (const std::exception& e) {
    std::cerr << "mlpack: error: " << printable(e.what()) << '\n';
    return static_cast<int>(mlpack::ExitCode::kRuntime);
  }
}
