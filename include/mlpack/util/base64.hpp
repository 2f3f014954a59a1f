// Standard base64 (RFC 4648, with padding), as minisign's files use it.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace mlpack::base64 {

std::string encode(std::span<const std::uint8_t> bytes);
// The URL-safe alphabet without padding (RFC 4648 §5), as JWTs use it.
std::string encode_url(std::span<const std::uint8_t> bytes);
std::string encode_url(std::string_view text);
// nullopt for anything that is not canonical padded base64.
std::optional<std::vector<std::uint8_t>> decode(std::string_view text);

}  // namespace mlpack::base64
