#include "mlpack/crypto/ed25519.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <memory>

#include "mlpack/util/error.hpp"

namespace mlpack::crypto::ed25519 {
namespace {

struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct MdCtxFree {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;
using MdCtx = std::unique_ptr<EVP_MD_CTX, MdCtxFree>;

Pkey private_key(const Seed& seed) {
  Pkey key(EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr, seed.data(), seed.size()));
  if (!key) throw RuntimeError("OpenSSL cannot load an Ed25519 key");
  return key;
}

}  // namespace

void random_bytes(std::span<std::uint8_t> out) {
  if (RAND_bytes(out.data(), static_cast<int>(out.size())) != 1) {
    throw RuntimeError("OpenSSL cannot produce random bytes");
  }
}

void wipe(std::span<std::uint8_t> bytes) {
  OPENSSL_cleanse(bytes.data(), bytes.size());
}

Seed random_seed() {
  Seed seed;
  random_bytes(seed);
  return seed;
}

PublicKey public_from_seed(const Seed& seed) {
  Pkey key = private_key(seed);
  PublicKey pk{};
  std::size_t len = pk.size();
  if (EVP_PKEY_get_raw_public_key(key.get(), pk.data(), &len) != 1 || len != pk.size()) {
    throw RuntimeError("OpenSSL cannot derive an Ed25519 public key");
  }
  return pk;
}

Signature sign(const Seed& seed, std::span<const std::uint8_t> message) {
  Pkey key = private_key(seed);
  MdCtx ctx(EVP_MD_CTX_new());
  Signature sig{};
  std::size_t len = sig.size();
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, key.get()) != 1 ||
      EVP_DigestSign(ctx.get(), sig.data(), &len, message.data(), message.size()) != 1 ||
      len != sig.size()) {
    throw RuntimeError("OpenSSL Ed25519 signing failed");
  }
  return sig;
}

bool verify(const PublicKey& key, std::span<const std::uint8_t> message, const Signature& sig) {
  Pkey pk(EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, key.data(), key.size()));
  if (!pk) return false;
  MdCtx ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, pk.get()) != 1) {
    return false;
  }
  return EVP_DigestVerify(ctx.get(), sig.data(), sig.size(), message.data(), message.size()) == 1;
}

}  // namespace mlpack::crypto::ed25519
