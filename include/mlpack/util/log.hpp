// Messages for people, on stderr: warnings, notes and verbose detail. Data
// for scripts goes to stdout through the CLI's formatters, never through here.
#pragma once

#include <string_view>

namespace mlpack::log {

enum class Level { kQuiet = 0, kNormal = 1, kVerbose = 2 };

void set_level(Level level);
Level level();

void warn(std::string_view message);   // shown unless -q
void note(std::string_view message);   // shown unless -q
void debug(std::string_view message);  // shown with -v

// A line redrawn in place on a terminal (a progress bar). While one is up,
// messages clear it first, so they never end up glued to a half-drawn bar.
void set_status_line(bool active);
void status_line(std::string_view text, bool last);

}  // namespace mlpack::log
