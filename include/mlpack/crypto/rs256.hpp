// RSASSA-PKCS1-v1_5 with SHA-256 (JWT's RS256), for the signed assertion a
// Google service account exchanges for an access token. OpenSSL does the
// work; the key is parsed from the PEM in the account's JSON file.
#pragma once

#include <string>
#include <string_view>

namespace mlpack::crypto {

// The raw signature of `data`. Throws UsageError when `pem_private_key` is
// not an RSA private key in PEM; the message never quotes the key.
std::string rs256_sign(const std::string& pem_private_key, std::string_view data);

}  // namespace mlpack::crypto
