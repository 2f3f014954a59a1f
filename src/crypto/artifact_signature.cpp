#include "mlpack/crypto/artifact_signature.hpp"

#include <cstdlib>
#include <ctime>

#include "mlpack/util/error.hpp"

namespace mlpack::crypto {

std::string trusted_comment_for(const SignedBinding& b) {
  return "timestamp:" + std::to_string(b.timestamp) + "\tartifact:" + b.name + ":" + b.version +
         "\tdigest:sha256:" + b.digest;
}

std::optional<SignedBinding> parse_trusted_comment(std::string_view comment) {
  SignedBinding b;
  bool has_artifact = false;
  bool has_digest = false;
  while (!comment.empty()) {
    std::size_t tab = comment.find('\t');
    std::string_view field = comment.substr(0, tab);
    std::size_t colon = field.find(':');
    if (colon != std::string_view::npos) {
      std::string_view key = field.substr(0, colon);
      std::string_view value = field.substr(colon + 1);
      if (key == "timestamp") {
        b.timestamp = std::strtoll(std::string(value).c_str(), nullptr, 10);
      } else if (key == "artifact") {
        std::size_t sep = value.rfind(':');
        if (sep == std::string_view::npos) return std::nullopt;
        b.name = std::string(value.substr(0, sep));
        b.version = std::string(value.substr(sep + 1));
        has_artifact = true;
      } else if (key == "digest") {
        if (!value.starts_with("sha256:")) return std::nullopt;
        b.digest = std::string(value.substr(7));
        has_digest = true;
      }
    }
    if (tab == std::string_view::npos) break;
    comment.remove_prefix(tab + 1);
  }
  if (!has_artifact || !has_digest) return std::nullopt;
  return b;
}

std::string sign_artifact(const minisign::SecretKey& key, std::string_view manifest_bytes,
                          const std::string& name, const std::string& version,
                          const std::string& digest) {
  std::int64_t now = static_cast<std::int64_t>(std::time(nullptr));
  if (const char* sde = std::getenv("SOURCE_DATE_EPOCH"); sde && *sde) {
    now = std::strtoll(sde, nullptr, 10);
  }
  SignedBinding binding{name, version, digest, now};
  auto sig = minisign::sign(key, manifest_bytes, trusted_comment_for(binding),
                            "signature from mlpack secret key " + minisign::key_id_hex(key.id()));
  return sig.to_file();
}

VerifiedSignature verify_artifact(const Keyring& keyring, std::string_view manifest_bytes,
                                  std::string_view signature_text, const std::string& digest,
                                  std::string_view origin) {
  auto sig = minisign::Signature::parse(signature_text, origin);
  const std::string key_id = minisign::key_id_hex(sig.key_id);
  auto key = keyring.find_trusted(sig.key_id);
  if (!key) {
    throw IntegrityError(std::string(origin) + " is signed by key " + key_id +
                         ", which you do not trust: check where it came from, then run 'mlpack "
                         "key trust KEY.pub'");
  }
  try {
    minisign::verify(*key, manifest_bytes, sig);
  } catch (const IntegrityError& e) {
    throw IntegrityError(std::string(origin) + ": " + e.what());
  }
  VerifiedSignature out{key_id, sig.trusted_comment, parse_trusted_comment(sig.trusted_comment)};
  if (out.binding && out.binding->digest != digest) {
    throw IntegrityError(std::string(origin) + ": the signature names sha256:" +
                         out.binding->digest.substr(0, 12) + ", not this manifest");
  }
  return out;
}

}  // namespace mlpack::crypto
