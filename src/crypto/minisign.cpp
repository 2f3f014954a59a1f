#include "mlpack/crypto/minisign.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "mlpack/crypto/blake2b.hpp"
#include "mlpack/util/base64.hpp"
#include "mlpack/util/error.hpp"

namespace mlpack::crypto::minisign {
namespace {

constexpr char kCommentPrefix[] = "untrusted comment: ";
constexpr char kTrustedPrefix[] = "trusted comment: ";
constexpr std::size_t kSecretKeyBytes = 2 + 2 + 2 + 32 + 8 + 8 + 8 + 64 + 32;  // 158
constexpr std::size_t kKeynumSkBytes = 8 + 64 + 32;
// minisign 0.11's scrypt cost (libsodium opslimit/memlimit), so keys mlpack
// encrypts are as hard to brute-force as minisign's own.
constexpr std::uint64_t kOpsLimit = 33554432;
constexpr std::uint64_t kMemLimit = 1073741824;

std::vector<std::string_view> split_lines(std::string_view text) {
  std::vector<std::string_view> lines;
  while (!text.empty()) {
    std::size_t eol = text.find('\n');
    std::string_view line = text.substr(0, eol);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    lines.push_back(line);
    if (eol == std::string_view::npos) break;
    text.remove_prefix(eol + 1);
  }
  return lines;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  return s;
}

std::uint64_t load_le64(const std::uint8_t* p) {
  std::uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

void store_le64(std::uint8_t* p, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<std::uint8_t>(v >> (8 * i));
}

// libsodium's crypto_pwhash_scryptsalsa208sha256 turns (opslimit, memlimit)
// into scrypt's N, r, p this way; minisign stores the limits, not N/r/p.
void pick_scrypt_params(std::uint64_t opslimit, std::uint64_t memlimit, std::uint64_t& n,
                        std::uint64_t& r, std::uint64_t& p) {
  if (opslimit < 32768) opslimit = 32768;
  r = 8;
  unsigned n_log2 = 1;
  if (opslimit < memlimit / 32) {
    p = 1;
    std::uint64_t max_n = opslimit / (r * 4);
    for (n_log2 = 1; n_log2 < 63; ++n_log2) {
      if ((std::uint64_t{1} << n_log2) > max_n / 2) break;
    }
  } else {
    std::uint64_t max_n = memlimit / (r * 128);
    for (n_log2 = 1; n_log2 < 63; ++n_log2) {
      if ((std::uint64_t{1} << n_log2) > max_n / 2) break;
    }
    std::uint64_t max_rp = (opslimit / 4) / (std::uint64_t{1} << n_log2);
    if (max_rp > 0x3fffffff) max_rp = 0x3fffffff;
    p = max_rp / r;
  }
  n = std::uint64_t{1} << n_log2;
}

std::vector<std::uint8_t> scrypt_stream(const std::string& password, const std::uint8_t* salt,
                                        std::uint64_t opslimit, std::uint64_t memlimit) {
  std::uint64_t n = 0, r = 0, p = 0;
  pick_scrypt_params(opslimit, memlimit, n, r, p);
  // Refuse absurd costs from a hostile key file before allocating for them.
  if (n > (std::uint64_t{1} << 22) || p == 0 || p > 16) {
    throw UsageError("secret key asks for unsupported scrypt parameters");
  }
  std::vector<std::uint8_t> stream(kKeynumSkBytes);
  const std::uint64_t maxmem = 128 * r * (n + p + 2) + (1u << 20);
  if (EVP_PBE_scrypt(password.data(), password.size(), salt, 32, n, r, p, maxmem, stream.data(),
                     stream.size()) != 1) {
    throw RuntimeError("scrypt key derivation failed (out of memory?)");
  }
  return stream;
}

std::array<std::uint8_t, 32> key_checksum(const KeyId& id, const ed25519::Seed& seed,
                                          const ed25519::PublicKey& pk) {
  Blake2b h(32);
  h.update("Ed");
  h.update(id);
  h.update(seed);
  h.update(pk);
  auto out = h.finish();
  std::array<std::uint8_t, 32> chk{};
  std::memcpy(chk.data(), out.data(), chk.size());
  return chk;
}

std::vector<std::uint8_t> decode_line(std::string_view line, std::size_t expected,
                                      std::string_view origin, const char* what) {
  auto bytes = base64::decode(trim(line));
  if (!bytes || bytes->size() != expected) {
    throw UsageError(std::string(origin) + " is not a minisign " + what);
  }
  return std::move(*bytes);
}

std::span<const std::uint8_t> as_bytes(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

}  // namespace

std::string key_id_hex(const KeyId& id) {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  std::string out;
  for (int i = 7; i >= 0; --i) {
    out += kDigits[id[i] >> 4];
    out += kDigits[id[i] & 0xf];
  }
  return out;
}

std::optional<KeyId> parse_key_id(std::string_view given) {
  // minisign's .pub comments drop leading zeros; accept those ids too.
  if (given.empty() || given.size() > 16) return std::nullopt;
  const std::string hex = std::string(16 - given.size(), '0') + std::string(given);
  KeyId id{};
  for (std::size_t i = 0; i < 16; ++i) {
    char c = hex[i];
    int v = (c >= '0' && c <= '9')   ? c - '0'
            : (c >= 'A' && c <= 'F') ? c - 'A' + 10
            : (c >= 'a' && c <= 'f') ? c - 'a' + 10
                                     : -1;
    if (v < 0) return std::nullopt;
    std::size_t byte = 7 - i / 2;
    id[byte] = static_cast<std::uint8_t>(i % 2 == 0 ? v << 4 : id[byte] | v);
  }
  return id;
}

PublicKey PublicKey::parse(std::string_view text, std::string_view origin) {
  auto lines = split_lines(text);
  std::string_view b64;
  if (lines.size() == 1) {
    b64 = lines[0];
  } else if (lines.size() >= 2 && lines[0].starts_with(kCommentPrefix)) {
    b64 = lines[1];
  } else {
    throw UsageError(std::string(origin) + " is not a minisign public key");
  }
  auto bytes = decode_line(b64, 42, origin, "public key");
  if (bytes[0] != 'E' || bytes[1] != 'd') {
    throw UsageError(std::string(origin) + ": unsupported public key algorithm");
  }
  PublicKey pk;
  std::memcpy(pk.id.data(), bytes.data() + 2, 8);
  std::memcpy(pk.key.data(), bytes.data() + 10, 32);
  return pk;
}

std::string PublicKey::base64() const {
  std::vector<std::uint8_t> bytes{'E', 'd'};
  bytes.insert(bytes.end(), id.begin(), id.end());
  bytes.insert(bytes.end(), key.begin(), key.end());
  return base64::encode(bytes);
}

std::string PublicKey::to_file() const {
  return std::string(kCommentPrefix) + "minisign public key " + key_id_hex(id) + "\n" + base64() +
         "\n";
}

SecretKey::SecretKey(KeyId id, const ed25519::Seed& seed)
    : id_(id), seed_(seed), public_(ed25519::public_from_seed(seed)) {}

SecretKey::~SecretKey() {
  ed25519::wipe(seed_);
}

SecretKey SecretKey::generate() {
  KeyId id;
  ed25519::random_bytes(id);
  ed25519::Seed seed = ed25519::random_seed();
  SecretKey key(id, seed);
  ed25519::wipe(seed);
  return key;
}

std::string SecretKey::to_file(const std::optional<std::string>& password) const {
  std::vector<std::uint8_t> b(kSecretKeyBytes, 0);
  b[0] = 'E';
  b[1] = 'd';
  b[4] = 'B';
  b[5] = '2';
  std::uint8_t* salt = b.data() + 6;
  std::uint8_t* keynum_sk = b.data() + 6 + 32 + 16;
  std::memcpy(keynum_sk, id_.data(), 8);
  std::memcpy(keynum_sk + 8, seed_.data(), 32);
  std::memcpy(keynum_sk + 40, public_.data(), 32);
  auto chk = key_checksum(id_, seed_, public_);
  std::memcpy(keynum_sk + 72, chk.data(), 32);
  std::string comment = "minisign unencrypted secret key";
  if (password) {
    b[2] = 'S';
    b[3] = 'c';
    ed25519::random_bytes(std::span(salt, 32));
    store_le64(b.data() + 38, kOpsLimit);
    store_le64(b.data() + 46, kMemLimit);
    auto stream = scrypt_stream(*password, salt, kOpsLimit, kMemLimit);
    for (std::size_t i = 0; i < kKeynumSkBytes; ++i) keynum_sk[i] ^= stream[i];
    ed25519::wipe(stream);
    comment = "minisign encrypted secret key";
  }
  std::string out = std::string(kCommentPrefix) + comment + "\n" + base64::encode(b) + "\n";
  ed25519::wipe(b);
  return out;
}

bool secret_key_is_encrypted(std::string_view text, std::string_view origin) {
  auto lines = split_lines(text);
  if (lines.size() < 2) throw UsageError(std::string(origin) + " is not a minisign secret key");
  auto b = decode_line(lines[1], kSecretKeyBytes, origin, "secret key");
  bool encrypted = b[2] == 'S' && b[3] == 'c';
  ed25519::wipe(b);
  return encrypted;
}

SecretKey parse_secret_key(std::string_view text, std::string_view origin,
                           const std::function<std::string()>& password) {
  const std::string where(origin);
  auto lines = split_lines(text);
  if (lines.size() < 2 || !lines[0].starts_with(kCommentPrefix)) {
    throw UsageError(where + " is not a minisign secret key");
  }
  auto b = decode_line(lines[1], kSecretKeyBytes, origin, "secret key");
  struct Wiper {
    std::vector<std::uint8_t>& bytes;
    ~Wiper() { ed25519::wipe(bytes); }
  } wiper{b};
  if (b[0] != 'E' || b[1] != 'd') throw UsageError(where + ": unsupported signature algorithm");
  if (b[4] != 'B' || b[5] != '2') throw UsageError(where + ": unsupported checksum algorithm");
  const bool encrypted = b[2] == 'S' && b[3] == 'c';
  if (!encrypted && !(b[2] == 0 && b[3] == 0)) {
    throw UsageError(where + ": unsupported key derivation function");
  }
  std::uint8_t* keynum_sk = b.data() + 54;
  if (encrypted) {
    std::string pw = password();
    auto stream =
        scrypt_stream(pw, b.data() + 6, load_le64(b.data() + 38), load_le64(b.data() + 46));
    ed25519::wipe(std::span(reinterpret_cast<std::uint8_t*>(pw.data()), pw.size()));
    for (std::size_t i = 0; i < kKeynumSkBytes; ++i) keynum_sk[i] ^= stream[i];
    ed25519::wipe(stream);
  }
  KeyId id;
  ed25519::Seed seed;
  ed25519::PublicKey pk;
  std::memcpy(id.data(), keynum_sk, 8);
  std::memcpy(seed.data(), keynum_sk + 8, 32);
  std::memcpy(pk.data(), keynum_sk + 40, 32);
  std::array<std::uint8_t, 32> stored_chk;
  std::memcpy(stored_chk.data(), keynum_sk + 72, 32);
  const bool zero_chk =
      std::all_of(stored_chk.begin(), stored_chk.end(), [](auto v) { return v == 0; });
  // minisign writes unencrypted keys with an all-zero checksum.
  if ((encrypted || !zero_chk) && key_checksum(id, seed, pk) != stored_chk) {
    ed25519::wipe(seed);
    throw UsageError(encrypted ? "wrong password for secret key " + where
                               : where + " is damaged (checksum mismatch)");
  }
  SecretKey key(id, seed);
  ed25519::wipe(seed);
  if (key.public_key().key != pk) throw UsageError(where + " is damaged (public half mismatch)");
  return key;
}

Signature Signature::parse(std::string_view text, std::string_view origin) {
  const std::string where(origin);
  auto lines = split_lines(text);
  if (lines.size() < 4 || !lines[0].starts_with(kCommentPrefix) ||
      !lines[2].starts_with(kTrustedPrefix)) {
    throw IntegrityError(where + " is not a minisign signature (truncated or malformed)");
  }
  Signature sig;
  sig.untrusted_comment = std::string(lines[0].substr(sizeof kCommentPrefix - 1));
  auto main = base64::decode(trim(lines[1]));
  if (!main || main->size() != 74) throw IntegrityError(where + ": malformed signature line");
  if ((*main)[0] != 'E' || (*main)[1] != 'D') {
    throw IntegrityError(where + ": not a prehashed (ED) minisign signature");
  }
  std::memcpy(sig.key_id.data(), main->data() + 2, 8);
  std::memcpy(sig.signature.data(), main->data() + 10, 64);
  // Exactly as minisign reads it (only the line end goes): the global
  // signature covers every byte, spaces included.
  sig.trusted_comment = std::string(lines[2].substr(sizeof kTrustedPrefix - 1));
  auto global = base64::decode(trim(lines[3]));
  if (!global || global->size() != 64) {
    throw IntegrityError(where + ": malformed trusted comment signature");
  }
  std::memcpy(sig.global_signature.data(), global->data(), 64);
  return sig;
}

std::string Signature::to_file() const {
  std::vector<std::uint8_t> main{'E', 'D'};
  main.insert(main.end(), key_id.begin(), key_id.end());
  main.insert(main.end(), signature.begin(), signature.end());
  return std::string(kCommentPrefix) + untrusted_comment + "\n" + base64::encode(main) + "\n" +
         kTrustedPrefix + trusted_comment + "\n" + base64::encode(global_signature) + "\n";
}

Signature sign(const SecretKey& key, std::string_view message, std::string trusted_comment,
               std::string untrusted_comment) {
  for (char c : trusted_comment + untrusted_comment) {
    if (c == '\n' || c == '\r') throw UsageError("signature comments must be one line");
  }
  Signature sig;
  sig.untrusted_comment = std::move(untrusted_comment);
  sig.trusted_comment = std::move(trusted_comment);
  sig.key_id = key.id();
  auto prehash = blake2b(as_bytes(message), 64);
  sig.signature = ed25519::sign(key.seed(), prehash);
  std::vector<std::uint8_t> global(sig.signature.begin(), sig.signature.end());
  global.insert(global.end(), sig.trusted_comment.begin(), sig.trusted_comment.end());
  sig.global_signature = ed25519::sign(key.seed(), global);
  return sig;
}

void verify(const PublicKey& key, std::string_view message, const Signature& sig) {
  if (sig.key_id != key.id) {
    throw IntegrityError("signature is by key " + key_id_hex(sig.key_id) + ", not " +
                         key_id_hex(key.id));
  }
  auto prehash = blake2b(as_bytes(message), 64);
  if (!ed25519::verify(key.key, prehash, sig.signature)) {
    throw IntegrityError(
        "signature verification failed: the manifest was modified or the "
        "signature belongs to other content");
  }
  std::vector<std::uint8_t> global(sig.signature.begin(), sig.signature.end());
  global.insert(global.end(), sig.trusted_comment.begin(), sig.trusted_comment.end());
  if (!ed25519::verify(key.key, global, sig.global_signature)) {
    throw IntegrityError(
        "trusted comment signature verification failed: the trusted comment was "
        "edited");
  }
}

}  // namespace mlpack::crypto::minisign
