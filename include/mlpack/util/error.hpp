// Errors and exit codes. Every failure that reaches the user is one of these
// typed exceptions; main() is the one place that turns them into a message
// and the exit code promised in DESIGN.md §4.
#pragma once

#include <stdexcept>
#include <string>

namespace mlpack {

enum class ExitCode : int {
  kOk = 0,
  kRuntime = 1,    // I/O, network, server
  kUsage = 2,      // bad flags, malformed ref or spec
  kIntegrity = 3,  // digest mismatch, bad signature, unsafe archive
  kNotFound = 4,   // ref, remote object, key
  kConflict = 5,   // version exists with other content, stage moved
  kGate = 6,       // a diff --fail-on condition held
};

class Error : public std::runtime_error {
 public:
  Error(ExitCode code, const std::string& message) : std::runtime_error(message), code_(code) {}
  ExitCode code() const noexcept { return code_; }

 private:
  ExitCode code_;
};

struct RuntimeError : Error {
  explicit RuntimeError(const std::string& m) : Error(ExitCode::kRuntime, m) {}
};
struct UsageError : Error {
  explicit UsageError(const std::string& m) : Error(ExitCode::kUsage, m) {}
};
struct IntegrityError : Error {
  explicit IntegrityError(const std::string& m) : Error(ExitCode::kIntegrity, m) {}
};
struct NotFoundError : Error {
  explicit NotFoundError(const std::string& m) : Error(ExitCode::kNotFound, m) {}
};
struct ConflictError : Error {
  explicit ConflictError(const std::string& m) : Error(ExitCode::kConflict, m) {}
};

// "what: strerror(errno)" as a RuntimeError, for failed system calls.
[[noreturn]] void throw_system_error(const std::string& what, int err);

}  // namespace mlpack
