// BLAKE2b (RFC 7693) with any output length from 1 to 64 bytes. minisign
// prehashes with BLAKE2b-512 and checksums secret keys with BLAKE2b-256;
// OpenSSL 3.0 only offers the 512-bit form, and BLAKE2b-256 is not a
// truncation of it (the length is part of the parameter block).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace mlpack::crypto {

class Blake2b {
 public:
  explicit Blake2b(std::size_t out_len = 64);
  void update(std::span<const std::uint8_t> data);
  void update(std::string_view data);
  std::vector<std::uint8_t> finish();

 private:
  void compress(bool last);
  std::array<std::uint64_t, 8> h_{};
  std::array<std::uint8_t, 128> buf_{};
  std::size_t buf_len_ = 0;
  std::uint64_t total_[2] = {0, 0};
  std::size_t out_len_;
};

std::vector<std::uint8_t> blake2b(std::span<const std::uint8_t> data, std::size_t out_len = 64);

}  // namespace mlpack::crypto
