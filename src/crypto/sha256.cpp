#include "mlpack/crypto/sha256.hpp"

#include <openssl/evp.h>

#include <vector>

#include "mlpack/util/error.hpp"
#include "mlpack/util/fs.hpp"
#include "mlpack/util/hex.hpp"

namespace mlpack::crypto {

struct Sha256::Ctx {
  struct Free {
    void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
  };
  std::unique_ptr<EVP_MD_CTX, Free> md{EVP_MD_CTX_new()};
};

Sha256::Sha256() : ctx_(std::make_unique<Ctx>()) {
  if (!ctx_->md || EVP_DigestInit_ex(ctx_->md.get(), EVP_sha256(), nullptr) != 1) {
    throw RuntimeError("OpenSSL could not start a SHA-256 digest");
  }
}
Sha256::~Sha256() = default;
Sha256::Sha256(Sha256&&) noexcept = default;
Sha256& Sha256::operator=(Sha256&&) noexcept = default;

void Sha256::update(std::span<const std::uint8_t> data) {
  if (EVP_DigestUpdate(ctx_->md.get(), data.data(), data.size()) != 1) {
    throw RuntimeError("OpenSSL SHA-256 update failed");
  }
}

void Sha256::update(std::string_view data) {
  update(std::span(reinterpret_cast<const std::uint8_t*>(data.data()), data.size()));
}

std::string Sha256::finish_hex() {
  std::array<std::uint8_t, 32> digest{};
  unsigned int len = 0;
  if (EVP_DigestFinal_ex(ctx_->md.get(), digest.data(), &len) != 1 || len != digest.size()) {
    throw RuntimeError("OpenSSL SHA-256 final failed");
  }
  return hex::encode(digest);
}

std::string sha256_hex(std::string_view data) {
  Sha256 h;
  h.update(data);
  return h.finish_hex();
}

std::string sha256_file_hex(const std::filesystem::path& path) {
  fs::UniqueFd fd = fs::open_read(path);
  std::vector<std::uint8_t> buffer(1 << 20);
  Sha256 h;
  for (;;) {
    std::size_t n = fs::read_some(fd.get(), buffer, path);
    if (n == 0) break;
    h.update(std::span(buffer.data(), n));
  }
  return h.finish_hex();
}

}  // namespace mlpack::crypto
