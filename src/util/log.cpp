#include "mlpack/util/log.hpp"

#include <atomic>
#include <iostream>
#include <mutex>

namespace mlpack::log {
namespace {
std::atomic<Level> g_level{Level::kNormal};
std::mutex g_mutex;

void emit(std::string_view prefix, std::string_view message) {
  std::lock_guard lock(g_mutex);
  std::cerr << "mlpack: " << prefix << message << '\n';
}
}  // namespace

void set_level(Level l) {
  g_level = l;
}
Level level() {
  return g_level;
}

void warn(std::string_view message) {
  if (g_level >= Level::kNormal) emit("warning: ", message);
}
void note(std::string_view message) {
  if (g_level >= Level::kNormal) emit("", message);
}
void debug(std::string_view message) {
  if (g_level >= Level::kVerbose) emit("debug: ", message);
}

}  // namespace mlpack::log
