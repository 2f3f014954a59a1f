// minisign's file formats: public keys, secret keys (unencrypted, or
// encrypted with scrypt exactly as minisign does) and signatures, in the
// prehashed "ED" form (Ed25519 over BLAKE2b-512 of the message). Keys and
// signatures move freely between mlpack and the minisign tool.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "mlpack/crypto/ed25519.hpp"

namespace mlpack::crypto::minisign {

using KeyId = std::array<std::uint8_t, 8>;

// As minisign prints it: the 8 bytes read as a little-endian number, in hex.
std::string key_id_hex(const KeyId& id);
std::optional<KeyId> parse_key_id(std::string_view hex);

struct PublicKey {
  KeyId id{};
  ed25519::PublicKey key{};

  // The file text, or just its base64 line (minisign -P form).
  static PublicKey parse(std::string_view text, std::string_view origin);
  std::string base64() const;
  std::string to_file() const;
};

class SecretKey {
 public:
  static SecretKey generate();
  SecretKey(KeyId id, const ed25519::Seed& seed);
  SecretKey(const SecretKey&) = delete;
  SecretKey& operator=(const SecretKey&) = delete;
  SecretKey(SecretKey&&) = default;
  ~SecretKey();

  const KeyId& id() const { return id_; }
  PublicKey public_key() const { return {id_, public_}; }
  const ed25519::Seed& seed() const { return seed_; }

  // minisign's secret key file; encrypted with scrypt when a password is given.
  std::string to_file(const std::optional<std::string>& password) const;

 private:
  KeyId id_;
  ed25519::Seed seed_;
  ed25519::PublicKey public_;
};

bool secret_key_is_encrypted(std::string_view text, std::string_view origin);
// `password` is called only for an encrypted key. A wrong password or a
// damaged file throws UsageError; the message never contains key material.
SecretKey parse_secret_key(std::string_view text, std::string_view origin,
                           const std::function<std::string()>& password);

struct Signature {
  std::string untrusted_comment;
  KeyId key_id{};
  ed25519::Signature signature{};
  std::string trusted_comment;
  ed25519::Signature global_signature{};

  // Throws IntegrityError for anything that is not a prehashed minisign signature.
  static Signature parse(std::string_view text, std::string_view origin);
  std::string to_file() const;
};

Signature sign(const SecretKey& key, std::string_view message, std::string trusted_comment,
               std::string untrusted_comment);
// Checks both the signature over the message and the one over the trusted
// comment; the key ids must match. Throws IntegrityError.
void verify(const PublicKey& key, std::string_view message, const Signature& sig);

}  // namespace mlpack::crypto::minisign
