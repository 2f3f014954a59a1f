#include "mlpack/crypto/keyring.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>

#include "mlpack/util/base64.hpp"
#include "mlpack/util/error.hpp"
#include "mlpack/util/fs.hpp"

namespace mlpack::crypto {
namespace {

std::string read_line_from_fd(int fd) {
  std::string line;
  char c;
  for (;;) {
    ssize_t n = ::read(fd, &c, 1);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0 || c == '\n') break;
    line += c;
  }
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

std::string prompt_tty(const std::string& prompt) {
  fs::UniqueFd tty(::open("/dev/tty", O_RDWR | O_CLOEXEC));
  if (!tty) return {};
  termios old{};
  bool restore = ::tcgetattr(tty.get(), &old) == 0;
  if (restore) {
    termios quiet = old;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    ::tcsetattr(tty.get(), TCSAFLUSH, &quiet);
  }
  (void)!::write(tty.get(), prompt.data(), prompt.size());
  std::string line = read_line_from_fd(tty.get());
  if (restore) ::tcsetattr(tty.get(), TCSAFLUSH, &old);
  (void)!::write(tty.get(), "\n", 1);
  return line;
}

// A key file's contents given where a path belongs (MLPACK_SIGNING_KEY set to
// what MLPACK_SIGNING_KEY_DATA should hold, a common CI slip): the "path"
// must not be echoed, it is the secret key.
bool looks_like_key_contents(const std::string& path) {
  if (path.find('\n') != std::string::npos || path.starts_with("untrusted comment:")) return true;
  auto bytes = base64::decode(path);
  return bytes && bytes->size() >= 42;
}

void check_private_mode(const stdfs::path& file) {
  struct stat st {};
  if (::stat(file.c_str(), &st) != 0) {
    if (looks_like_key_contents(file.string())) {
      throw UsageError("the secret key path given holds the contents of a key (not shown): give "
                       "a file path, or put the contents in MLPACK_SIGNING_KEY_DATA");
    }
    throw NotFoundError("secret key not found: " + file.string());
  }
  if ((st.st_mode & 077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", st.st_mode & 07777);
    throw UsageError("secret key " + file.string() + " is accessible by group or others (mode " +
                     mode + "); anyone on this machine could sign as you. Run: chmod 600 " +
                     file.string());
  }
}

}  // namespace

std::string PasswordSource::get(const std::string& prompt, bool confirm) const {
  if (const char* env = std::getenv("MLPACK_KEY_PASSWORD"); env && *env) return env;
  if (from_stdin) return read_line_from_fd(STDIN_FILENO);
  if (::isatty(STDIN_FILENO) || ::isatty(STDERR_FILENO)) {
    std::string first = prompt_tty(prompt);
    if (confirm) {
      if (prompt_tty("Repeat the password: ") != first) throw UsageError("the passwords differ");
    }
    if (!first.empty()) return first;
  }
  throw UsageError(
      "a password is needed and there is no terminal to ask on: set MLPACK_KEY_PASSWORD or use "
      "--password-stdin");
}

Keyring Keyring::for_user() {
  if (const char* xdg = std::getenv("XDG_CONFIG_HOME"); xdg && *xdg) {
    return Keyring(stdfs::path(xdg) / "mlpack");
  }
  if (const char* home = std::getenv("HOME"); home && *home) {
    return Keyring(stdfs::path(home) / ".config" / "mlpack");
  }
  throw UsageError("neither XDG_CONFIG_HOME nor HOME is set: cannot find your keys");
}

std::vector<TrustedKey> Keyring::trusted() const {
  std::vector<TrustedKey> out;
  std::error_code ec;
  for (auto it = stdfs::directory_iterator(dir_ / "trusted", ec);
       !ec && it != stdfs::directory_iterator(); it.increment(ec)) {
    if (it->path().extension() != ".pub") continue;
    try {
      out.push_back(
          {minisign::PublicKey::parse(fs::read_file(it->path(), 4096), it->path().string()),
           it->path()});
    } catch (const Error&) {
      // A stray unreadable file must not lock the user out of every key.
    }
  }
  std::sort(out.begin(), out.end(),
            [](const TrustedKey& a, const TrustedKey& b) { return a.file < b.file; });
  return out;
}

std::optional<minisign::PublicKey> Keyring::find_trusted(const minisign::KeyId& id) const {
  for (auto& t : trusted()) {
    if (t.key.id == id) return t.key;
  }
  return std::nullopt;
}

bool Keyring::trust(const minisign::PublicKey& key) const {
  if (auto existing = find_trusted(key.id)) {
    if (existing->key != key.key) {
      throw ConflictError("another key with id " + minisign::key_id_hex(key.id) +
                          " is already trusted: untrust it first");
    }
    return false;
  }
  std::error_code ec;
  stdfs::create_directories(dir_ / "trusted", ec);
  if (ec) throw RuntimeError("cannot create " + (dir_ / "trusted").string() + ": " + ec.message());
  fs::write_file_atomic(dir_ / "trusted" / (minisign::key_id_hex(key.id) + ".pub"), key.to_file());
  return true;
}

bool Keyring::untrust(const minisign::KeyId& id) const {
  bool removed = false;
  for (auto& t : trusted()) {
    if (t.key.id == id) {
      std::error_code ec;
      removed |= stdfs::remove(t.file, ec);
    }
  }
  return removed;
}

void write_key_pair(const minisign::SecretKey& key, const stdfs::path& secret_file,
                    const std::optional<std::string>& password) {
  stdfs::path public_file = secret_file;
  public_file += ".pub";
  std::error_code ec;
  if (stdfs::exists(secret_file, ec) || stdfs::exists(public_file, ec)) {
    throw ConflictError("refusing to overwrite the existing key " + secret_file.string() +
                        " (remove it first if you really mean to replace it)");
  }
  stdfs::path dir =
      secret_file.parent_path().empty() ? stdfs::path(".") : secret_file.parent_path();
  stdfs::create_directories(dir, ec);
  if (ec) throw RuntimeError("cannot create " + dir.string() + ": " + ec.message());
  // The temp file is created 0644; narrow it before any secret is written.
  fs::TempFile secret(dir);
  if (::fchmod(secret.fd(), 0600) != 0)
    throw_system_error("cannot protect " + secret_file.string(), errno);
  secret.write(key.to_file(password));
  secret.close();
  fs::TempFile pub(dir);
  pub.write(key.public_key().to_file());
  pub.close();
  if (!secret.commit_exclusive(secret_file)) {
    throw ConflictError("refusing to overwrite the existing key " + secret_file.string());
  }
  if (!pub.commit_exclusive(public_file)) {
    throw ConflictError("refusing to overwrite the existing public key " + public_file.string());
  }
  fs::fsync_dir(dir);
}

minisign::SecretKey load_secret_key_file(const stdfs::path& file, const PasswordSource& password) {
  check_private_mode(file);
  std::string text = fs::read_file(file, 4096);
  auto key = minisign::parse_secret_key(text, file.string(), [&] {
    return password.get("Password for " + file.string() + ": ", false);
  });
  ed25519::wipe(std::span(reinterpret_cast<std::uint8_t*>(text.data()), text.size()));
  return key;
}

SigningKey resolve_signing_key(const Keyring& keyring, const std::optional<stdfs::path>& key_flag,
                               const PasswordSource& password) {
  if (key_flag) return {load_secret_key_file(*key_flag, password), key_flag->string(), false};
  if (const char* path = std::getenv("MLPACK_SIGNING_KEY"); path && *path) {
    return {load_secret_key_file(path, password), path, false};
  }
  if (const char* data = std::getenv("MLPACK_SIGNING_KEY_DATA"); data && *data) {
    auto key = minisign::parse_secret_key(data, "MLPACK_SIGNING_KEY_DATA", [&] {
      return password.get("Password for the key in MLPACK_SIGNING_KEY_DATA: ", false);
    });
    return {std::move(key), "MLPACK_SIGNING_KEY_DATA", false};
  }
  const stdfs::path default_key = keyring.default_secret_key();
  std::error_code ec;
  if (stdfs::exists(default_key, ec)) {
    return {load_secret_key_file(default_key, password), default_key.string(), false};
  }
  // Only this user may list the folder that holds the unencrypted default key.
  stdfs::create_directories(default_key.parent_path(), ec);
  ::chmod(default_key.parent_path().c_str(), 0700);
  auto key = minisign::SecretKey::generate();
  write_key_pair(key, default_key, std::nullopt);
  keyring.trust(key.public_key());
  return {std::move(key), default_key.string(), true};
}

}  // namespace mlpack::crypto
