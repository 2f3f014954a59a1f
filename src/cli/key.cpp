#include <sys/stat.h>

#include <iostream>

#include "common.hpp"
#include "mlpack/crypto/keyring.hpp"
#include "mlpack/util/error.hpp"
#include "mlpack/util/fs.hpp"
#include "mlpack/util/log.hpp"

namespace mlpack::cli {
namespace {

namespace minisign = crypto::minisign;

void register_generate(CLI::App& key) {
  auto* cmd = add_command(key, "generate", "Create a signing key pair in minisign's format",
                          "  mlpack key generate                       # your default key\n"
                          "  mlpack key generate --output ci.key --no-password");
  struct Options {
    std::string output;
    bool password_stdin = false;
    bool no_password = false;
    bool json = false;
  };
  auto o = std::make_shared<Options>();
  cmd->add_option("-o,--output", o->output,
                  "Secret key file; FILE.pub gets the public key (default: your default key)")
      ->type_name("FILE");
  auto* stdin_flag =
      cmd->add_flag("--password-stdin", o->password_stdin, "Read the password from stdin");
  cmd->add_flag("--no-password", o->no_password, "Leave the secret key unencrypted")
      ->excludes(stdin_flag);
  cmd->add_flag("--json", o->json, "Print the result as JSON");
  cmd->callback([o] {
    crypto::Keyring keyring = crypto::Keyring::for_user();
    const bool is_default = o->output.empty();
    const std::filesystem::path file =
        is_default ? keyring.default_secret_key() : std::filesystem::path(o->output);
    std::optional<std::string> password;
    if (!o->no_password) {
      password = crypto::PasswordSource{o->password_stdin}.get("Password for the new key: ", true);
      if (password->empty()) throw UsageError("empty password: use --no-password for no password");
    }
    auto key = minisign::SecretKey::generate();
    if (is_default) {
      // As when pack makes it: only this user may list the keys folder.
      std::error_code ec;
      std::filesystem::create_directories(file.parent_path(), ec);
      ::chmod(file.parent_path().c_str(), 0700);
    }
    crypto::write_key_pair(key, file, password);
    // The default key signs everything you pack, so your store trusts it.
    if (is_default) keyring.trust(key.public_key());
    const std::string id = minisign::key_id_hex(key.id());
    if (o->json) {
      json::Value out = json::Value::object();
      out.set("key_id", id);
      out.set("secret_key", file.string());
      out.set("public_key", file.string() + ".pub");
      out.set("encrypted", password.has_value());
      out.set("trusted", is_default);
      print_json(out);
    } else {
      std::cout << "created key " << id << ": secret key " << file.string() << ", public key "
                << file.string() << ".pub" << (is_default ? " (trusted)" : "") << '\n';
    }
  });
}

void register_list(CLI::App& key) {
  auto* cmd = add_command(key, "list", "List trusted keys and your default key",
                          "  mlpack key list --json");
  auto json = std::make_shared<bool>(false);
  cmd->add_flag("--json", *json, "Print the result as JSON");
  cmd->callback([json] {
    crypto::Keyring keyring = crypto::Keyring::for_user();
    std::optional<minisign::PublicKey> default_key;
    std::filesystem::path default_pub = keyring.default_secret_key();
    default_pub += ".pub";
    std::error_code ec;
    if (std::filesystem::exists(default_pub, ec)) {
      default_key =
          minisign::PublicKey::parse(fs::read_file(default_pub, 4096), default_pub.string());
    }
    json::Value keys = json::Value::array();
    Table table({"KEY ID", "TRUSTED", "DEFAULT", "FILE"});
    bool default_listed = false;
    for (const auto& t : keyring.trusted()) {
      const bool is_default = default_key && default_key->id == t.key.id;
      default_listed |= is_default;
      json::Value k = json::Value::object();
      k.set("key_id", minisign::key_id_hex(t.key.id));
      k.set("public_key", t.key.base64());
      k.set("trusted", true);
      k.set("default", is_default);
      k.set("file", t.file.string());
      keys.push(std::move(k));
      table.add({minisign::key_id_hex(t.key.id), "yes", is_default ? "yes" : "", t.file.string()});
    }
    if (default_key && !default_listed) {
      json::Value k = json::Value::object();
      k.set("key_id", minisign::key_id_hex(default_key->id));
      k.set("public_key", default_key->base64());
      k.set("trusted", false);
      k.set("default", true);
      k.set("file", default_pub.string());
      keys.push(std::move(k));
      table.add({minisign::key_id_hex(default_key->id), "no", "yes", default_pub.string()});
    }
    if (*json) {
      json::Value out = json::Value::object();
      out.set("keys", std::move(keys));
      print_json(out);
    } else if (table.empty()) {
      log::note("no keys yet: 'mlpack key generate', or 'mlpack key trust KEY.pub'");
    } else {
      table.print();
    }
  });
}

void register_trust(CLI::App& key) {
  auto* cmd = add_command(key, "trust", "Trust a public key: artifacts it signed are let in",
                          "  mlpack key trust team-release.pub");
  auto file = std::make_shared<std::string>();
  cmd->add_option("FILE.pub", *file, "A minisign public key file")->required();
  cmd->callback([file] {
    auto pub = minisign::PublicKey::parse(fs::read_file(*file, 4096), *file);
    bool added = crypto::Keyring::for_user().trust(pub);
    std::cout << (added ? "trusted key " : "already trusted: key ") << minisign::key_id_hex(pub.id)
              << '\n';
  });
}

void register_untrust(CLI::App& key) {
  auto* cmd =
      add_command(key, "untrust", "Stop trusting a key", "  mlpack key untrust B260D11E9968968E");
  auto id_text = std::make_shared<std::string>();
  cmd->add_option("KEYID", *id_text, "The key id, as key list shows it")->required();
  cmd->callback([id_text] {
    auto id = minisign::parse_key_id(*id_text);
    if (!id)
      throw UsageError("'" + *id_text + "' is not a key id (16 hex digits, as key list shows)");
    if (!crypto::Keyring::for_user().untrust(*id)) {
      throw NotFoundError("key " + minisign::key_id_hex(*id) + " is not trusted");
    }
    std::cout << "no longer trusting key " << minisign::key_id_hex(*id) << '\n';
  });
}

}  // namespace

void register_key(CLI::App& app, Context&) {
  auto* key = add_command(app, "key", "Manage signing keys and trusted keys",
                          "  mlpack key generate && mlpack key list");
  key->require_subcommand(1);
  register_generate(*key);
  register_list(*key);
  register_trust(*key);
  register_untrust(*key);
}

}  // namespace mlpack::cli
