// Hex encoding for digests and key ids.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace mlpack::hex {

std::string encode(std::span<const std::uint8_t> bytes);
bool is_lower_hex(std::string_view s);

}  // namespace mlpack::hex
