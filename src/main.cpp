// The thin executable: everything lives in the library. This is the one
// place where errors become a message and an exit code (DESIGN.md §4).
// Messages can quote hostile bytes, so control characters are escaped.
#include <exception>
#include <iostream>
#include <new>
#include <string>

#include <yaml-cpp/exceptions.h>

#include "mlpack/cli/app.hpp"
#include "mlpack/util/error.hpp"
#include "mlpack/util/text.hpp"

int main(int argc, char** argv) {
  try {
    return mlpack::cli::run(argc, argv);
  } catch (const mlpack::Error& e) {
    std::cerr << "mlpack: error: " << mlpack::text::escape_control(e.what()) << '\n';
    return static_cast<int>(e.code());
  } catch (const YAML::Exception& e) {
    std::cerr << "mlpack: error: malformed YAML: " << mlpack::text::escape_control(e.what())
              << '\n';
    return static_cast<int>(mlpack::ExitCode::kUsage);
  } catch (const std::bad_alloc&) {
    std::cerr << "mlpack: error: out of memory\n";
    return static_cast<int>(mlpack::ExitCode::kRuntime);
  } catch (const std::exception& e) {
    std::cerr << "mlpack: error: " << mlpack::text::escape_control(e.what()) << '\n';
    return static_cast<int>(mlpack::ExitCode::kRuntime);
  }
}
