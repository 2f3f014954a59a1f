// Signatures of artifacts: a minisign signature over the manifest's exact
// bytes whose trusted comment binds it to NAME:VERSION and the manifest
// digest. Signatures made by plain `minisign -S` verify too; they carry no
// binding, so the manifest's own name and version apply.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "mlpack/crypto/keyring.hpp"

namespace mlpack::crypto {

struct SignedBinding {
  std::string name;
  std::string version;
  std::string digest;  // manifest hex
  std::int64_t timestamp = 0;
};

std::string trusted_comment_for(const SignedBinding& binding);
// nullopt when the comment is not mlpack's (for example minisign's default).
std::optional<SignedBinding> parse_trusted_comment(std::string_view comment);

// Signs NAME:VERSION -> digest; the timestamp honours SOURCE_DATE_EPOCH.
std::string sign_artifact(const minisign::SecretKey& key, std::string_view manifest_bytes,
                          const std::string& name, const std::string& version,
                          const std::string& digest);

struct VerifiedSignature {
  std::string key_id;
  std::string trusted_comment;
  std::optional<SignedBinding> binding;
};

// Throws IntegrityError (exit 3) unless the signature is valid, by a trusted
// key, over exactly these bytes, and any binding names this digest.
VerifiedSignature verify_artifact(const Keyring& keyring, std::string_view manifest_bytes,
                                  std::string_view signature_text, const std::string& digest,
                                  std::string_view origin);

}  // namespace mlpack::crypto
