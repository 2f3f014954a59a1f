#include "mlpack/util/error.hpp"

#include <cstring>

namespace mlpack {

void throw_system_error(const std::string& what, int err) {
  if (err == ENOENT) throw NotFoundError(what + ": " + std::strerror(err));
  throw RuntimeError(what + ": " + std::strerror(err));
}

}  // namespace mlpack
