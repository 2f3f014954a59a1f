// Ed25519 (RFC 8032) through OpenSSL: the signature scheme of minisign.
#pragma once

#include <array>
#include <cstdint>
#include <span>

namespace mlpack::crypto::ed25519 {

using Seed = std::array<std::uint8_t, 32>;
using PublicKey = std::array<std::uint8_t, 32>;
using Signature = std::array<std::uint8_t, 64>;

Seed random_seed();
PublicKey public_from_seed(const Seed& seed);
Signature sign(const Seed& seed, std::span<const std::uint8_t> message);
bool verify(const PublicKey& key, std::span<const std::uint8_t> message, const Signature& sig);

// Random bytes from OpenSSL's CSPRNG.
void random_bytes(std::span<std::uint8_t> out);
// Wipes secrets so they do not linger in freed memory.
void wipe(std::span<std::uint8_t> bytes);

}  // namespace mlpack::crypto::ed25519
