#include "mlpack/util/log.hpp"

#include <atomic>
#include <iostream>
#include <mutex>

namespace mlpack::log {
namespace {
std::atomic<Level> g_level{Level::kNormal};
std::atomic<bool> g_status_line{false};
std::mutex g_mutex;

// Erases the terminal line, so text written next starts at its beginning.
constexpr const char* kClearLine = "\r\x1b[K";

void emit(std::string_view prefix, std::string_view message) {
  std::lock_guard lock(g_mutex);
  if (g_status_line) std::cerr << kClearLine;
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

void set_status_line(bool active) {
  g_status_line = active;
}

void status_line(std::string_view text, bool last) {
  std::lock_guard lock(g_mutex);
  std::cerr << kClearLine << text << (last ? "\n" : "") << std::flush;
}

}  // namespace mlpack::log
