// Text from outside (archive entry names, manifest values, spec keys) shown
// to a person: control characters escaped so they cannot drive the terminal
// or break a line or a table row.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace mlpack::text {

// Each byte below 0x20 and 0x7f becomes \xNN; everything else is kept.
std::string escape_control(std::string_view text);

// "830 B", "1.5 GiB": a size for people, in binary units.
std::string format_size(std::uint64_t bytes);

// Appends code point `cp` (at most 0x10FFFF) encoded as UTF-8.
void append_utf8(std::string& out, std::uint32_t cp);

// The character a one-letter Python escape (\n, \t, \\, \', ...) stands
// for, or 0 when `c` does not start one (\x, octal and \u take operands).
char python_simple_escape(char c);

}  // namespace mlpack::text
