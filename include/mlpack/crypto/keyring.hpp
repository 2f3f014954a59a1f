// The user's keys: the default signing key under
// $XDG_CONFIG_HOME/mlpack/keys/, the trusted public keys under
// $XDG_CONFIG_HOME/mlpack/trusted/<KEYID>.pub, and where a signing key and
// its password come from (--key, MLPACK_SIGNING_KEY, MLPACK_SIGNING_KEY_DATA,
// MLPACK_KEY_PASSWORD, --password-stdin, a prompt on a TTY).
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "mlpack/crypto/minisign.hpp"

namespace mlpack::crypto {

namespace stdfs = std::filesystem;

// Where a password may come from, in this order: MLPACK_KEY_PASSWORD, one
// line of stdin (when allowed), a prompt on the terminal.
struct PasswordSource {
  bool from_stdin = false;
  // Asks twice when typed at a prompt (for a new key).
  std::string get(const std::string& prompt, bool confirm) const;
};

struct TrustedKey {
  minisign::PublicKey key;
  stdfs::path file;
};

class Keyring {
 public:
  // $XDG_CONFIG_HOME/mlpack, else ~/.config/mlpack.
  static Keyring for_user();
  explicit Keyring(stdfs::path config_dir) : dir_(std::move(config_dir)) {}

  const stdfs::path& dir() const { return dir_; }
  stdfs::path default_secret_key() const { return dir_ / "keys" / "default.key"; }

  std::vector<TrustedKey> trusted() const;
  std::optional<minisign::PublicKey> find_trusted(const minisign::KeyId& id) const;
  // Returns false when the key was already trusted.
  bool trust(const minisign::PublicKey& key) const;
  // Returns false when no such key was trusted.
  bool untrust(const minisign::KeyId& id) const;

 private:
  stdfs::path dir_;
};

// Writes FILE (mode 0600) and FILE.pub; refuses to overwrite either.
void write_key_pair(const minisign::SecretKey& key, const stdfs::path& secret_file,
                    const std::optional<std::string>& password);

// Reads a secret key file, refusing one that group or others can read.
minisign::SecretKey load_secret_key_file(const stdfs::path& file, const PasswordSource& password);

struct SigningKey {
  minisign::SecretKey key;
  std::string origin;  // for messages: a path or an environment variable
  bool created_default = false;
};

// The key to sign with: `key_flag`, else MLPACK_SIGNING_KEY (a path), else
// MLPACK_SIGNING_KEY_DATA (the file's contents), else the default key, which
// is created (unencrypted) and trusted the first time.
SigningKey resolve_signing_key(const Keyring& keyring, const std::optional<stdfs::path>& key_flag,
                               const PasswordSource& password);

}  // namespace mlpack::crypto
