#include "common.hpp"
#include <yaml-cpp/yaml.h>
#include "mlpack/crypto/keyring.hpp"
#include "mlpack/scan/scan.hpp"

#include <cstdio>
#include <iostream>

#include "mlpack/archive/archive.hpp"
#include "mlpack/manifest/names.hpp"
#include "mlpack/remote/config.hpp"
#include "mlpack/util/error.hpp"
#include "mlpack/util/log.hpp"

namespace mlpack::cli {

store::Repository Context::open_repository() const {
  if (global.dir) return store::Repository::open(std::filesystem::path(*global.dir));
  return store::Repository::open(std::nullopt);
}

std::string Artifact::label() const {
  return manifest.name + ":" + manifest.version;
}

Artifact resolve_artifact(const Context& ctx, const std::string& ref_text) {
  manifest::Ref ref = manifest::parse_ref(ref_text);
  if (ref.kind == manifest::Ref::Kind::kArchiveFile) {
    archive::ArchiveHead head = archive::read_archive_head(ref.file);
    return Artifact{head.digest, std::move(head.manifest),       std::filesystem::path(ref.file),
                    ref_text,    std::move(head.manifest_bytes), std::move(head.signature)};
  }
  store::Repository repo = ctx.open_repository();
  std::string digest = repo.resolve(ref);
  std::string bytes = repo.read_manifest_bytes(digest);
  manifest::Manifest m = manifest::read_manifest(bytes, "sha256:" + digest.substr(0, 12));
  std::optional<std::string> signature;
  if (auto entry = repo.signature_for(digest, m, &ref)) signature = std::move(entry->text);
  return Artifact{std::move(digest), std::move(m),     std::nullopt,
                  ref_text,          std::move(bytes), std::move(signature)};
}

namespace {

// `scan:` of one config file, if it has one.
std::optional<std::string> scan_setting(const std::filesystem::path& file) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(file, ec)) return std::nullopt;
  const YAML::Node doc = YAML::LoadFile(file.string());
  if (!doc.IsMap() || !doc["scan"]) return std::nullopt;
  const std::string value = doc["scan"].as<std::string>("");
  if (value != "refuse-dangerous" && value != "warn") {
    throw UsageError(file.string() + ": scan: '" + value +
                     "' is not a policy; use refuse-dangerous (the default) or warn");
  }
  return value;
}

}  // namespace

store::ContentCheck make_scan_check(const store::Repository* repo, bool allow_unsafe) {
  std::optional<std::string> policy;
  if (repo) policy = scan_setting(repo->root() / "config.yaml");
  if (!policy) policy = scan_setting(crypto::Keyring::for_user().dir() / "config.yaml");
  const bool refuse = policy.value_or("refuse-dangerous") == "refuse-dangerous" && !allow_unsafe;
  return [refuse, allow_unsafe](
             const manifest::Manifest& m,
             const std::function<std::filesystem::path(const std::string&)>& bytes_of) {
    std::string dangerous;
    for (const auto& f : m.files) {
      const scan::Report r = scan::scan_file(bytes_of(f.sha256), f.path);
      std::string found;
      for (const auto& finding : r.findings) {
        found += (found.empty() ? "" : ", ") + finding.detail;
        if (found.size() > 200) break;
      }
      if (r.verdict() == scan::Verdict::kDangerous) {
        dangerous += (dangerous.empty() ? "" : "; ") + f.path + " (" + found + ")";
      } else if (r.verdict() == scan::Verdict::kUnknown) {
        log::warn(m.name + ":" + m.version + ": " + f.path +
                  " imports code on neither the safe nor the dangerous list: " + found);
      }
    }
    if (dangerous.empty()) return;
    const std::string what = m.name + ":" + m.version + " could run code when loaded: " + dangerous;
    if (refuse) {
      throw IntegrityError("refusing " + what +
                           " (--allow-unsafe lets it in once; 'scan: warn' in .mlpack/config.yaml "
                           "always)");
    }
    log::warn("letting in " + what +
              (allow_unsafe ? " (--allow-unsafe)" : " (scan: warn in the config)"));
  };
}

void add_signing_options(CLI::App* cmd, SigningOptions& o) {
  cmd->add_option("--key", o.key,
                  "Secret key to sign with (default: MLPACK_SIGNING_KEY, "
                  "MLPACK_SIGNING_KEY_DATA, then your default key)")
      ->type_name("FILE");
  cmd->add_flag("--no-sign", o.no_sign, "Do not sign");
  cmd->add_flag("--password-stdin", o.password_stdin, "Read the key's password from stdin");
}

store::Signer make_signer(const SigningOptions& o) {
  if (o.no_sign) {
    if (!o.key.empty()) throw UsageError("--key and --no-sign contradict each other");
    log::warn("not signing (--no-sign): other machines will need --allow-unsigned to take it in");
    return nullptr;
  }
  crypto::Keyring keyring = crypto::Keyring::for_user();
  std::optional<std::filesystem::path> flag;
  if (!o.key.empty()) flag = std::filesystem::path(o.key);
  auto signing = std::make_shared<crypto::SigningKey>(
      crypto::resolve_signing_key(keyring, flag, crypto::PasswordSource{o.password_stdin}));
  if (signing->created_default) {
    log::note("created your signing key " + crypto::minisign::key_id_hex(signing->key.id()) +
              " at " + signing->origin + " and trusted it; share " + signing->origin +
              ".pub so others can verify what you pack");
  }
  log::debug("signing with key " + crypto::minisign::key_id_hex(signing->key.id()) + " from " +
             signing->origin);
  return [signing](std::string_view bytes, const std::string& digest, const std::string& name,
                   const std::string& version) {
    return crypto::sign_artifact(signing->key, bytes, name, version, digest);
  };
}

std::optional<crypto::VerifiedSignature> check_signature(
    const std::string& manifest_bytes, const std::optional<std::string>& signature,
    const std::string& digest, const std::string& label, bool allow_unsigned) {
  if (!signature) {
    if (allow_unsigned) {
      log::warn(label + " is unsigned; accepting it because of --allow-unsigned");
      return std::nullopt;
    }
    throw IntegrityError(label +
                         " is unsigned: refusing it (ask for a signed copy, or pass "
                         "--allow-unsigned if you know where it came from)");
  }
  crypto::Keyring keyring = crypto::Keyring::for_user();
  auto parsed = crypto::minisign::Signature::parse(*signature, "the signature of " + label);
  if (!keyring.find_trusted(parsed.key_id)) {
    const std::string id = crypto::minisign::key_id_hex(parsed.key_id);
    if (allow_unsigned) {
      log::warn(label + " is signed by key " + id +
                ", which you do not trust; accepting it because of --allow-unsigned");
      return std::nullopt;
    }
    throw IntegrityError(label + " is signed by key " + id +
                         ", which you do not trust: check where the key came from, then run "
                         "'mlpack key trust KEY.pub'");
  }
  return crypto::verify_artifact(keyring, manifest_bytes, *signature, digest,
                                 "the signature of " + label);
}

archive::HeadCheck make_head_check(bool allow_unsigned) {
  return [allow_unsigned](const archive::ArchiveHead& h) {
    manifest::NameVersion binding{h.manifest.name, h.manifest.version};
    auto verified =
        check_signature(h.manifest_bytes, h.signature, h.digest, binding.str(), allow_unsigned);
    if (verified && verified->binding) {
      const auto& b = *verified->binding;
      if (!manifest::is_valid_name(b.name) || !manifest::is_valid_version(b.version)) {
        throw IntegrityError("the signature of " + binding.str() + " names an invalid version '" +
                             b.name + ":" + b.version + "'");
      }
      binding = {b.name, b.version};
    }
    return binding;
  };
}

void add_remote_options(CLI::App* cmd, RemoteOptions& o, bool transfers) {
  cmd->add_option("-r,--remote", o.remote,
                  "The remote: a name (default: origin, or the only one) or a URL")
      ->type_name("REMOTE");
  cmd->add_option("--ca-file", o.ca_file, "Trust the CA certificates in this PEM file (HTTPS)")
      ->type_name("FILE");
  if (transfers) {
    cmd->add_option("-j,--jobs", o.jobs, "Transfers at once (default: up to 8, sized to the work)")
        ->check(CLI::Range(1u, 64u));
  }
}

remote::TransferSettings transfer_settings(const Context& ctx, const RemoteOptions& o) {
  return remote::TransferSettings{o.jobs, net::parse_progress_style(ctx.global.progress)};
}

OpenRemote open_remote(const store::Repository& repo, const RemoteOptions& o) {
  remote::RemoteConfig config(repo);
  remote::Remote chosen = config.select(o.remote.empty() ? std::nullopt : std::optional(o.remote));
  // The flag, else the remote's own setting, else MLPACK_CA_FILE.
  net::TransferOptions transfer = net::TransferOptions::from_environment();
  if (!chosen.ca_file.empty()) transfer.ca_file = chosen.ca_file;
  if (!o.ca_file.empty()) transfer.ca_file = o.ca_file;
  auto backend = remote::open_backend(chosen, transfer);
  return OpenRemote{std::move(chosen), std::move(backend)};
}

json::Value OpenRemote::result(const char* key, json::Value items) const {
  json::Value out = json::Value::object();
  out.set("remote", remote.name);
  out.set("url", remote.url.text);
  out.set(key, std::move(items));
  return out;
}

CLI::App* add_command(CLI::App& app, const std::string& name, const std::string& description,
                      const std::string& example) {
  CLI::App* cmd = app.add_subcommand(name, description);
  cmd->footer("\nExample:\n" + example);
  return cmd;
}

void print_json(const json::Value& value) {
  std::cout << value.dump(2) << std::flush;
}

std::string short_digest(const std::string& hex) {
  return "sha256:" + hex.substr(0, 12);
}

std::string count_of(std::size_t n, const std::string& noun) {
  return std::to_string(n) + " " + noun + (n == 1 ? "" : "s");
}

void Table::print() const {
  std::vector<std::size_t> widths;
  for (const auto& row : rows_) {
    if (widths.size() < row.size()) widths.resize(row.size(), 0);
    for (std::size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
  }
  for (const auto& row : rows_) {
    std::string line;
    for (std::size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line.append(widths[i] - row[i].size() + 2, ' ');
    }
    std::cout << line << '\n';
  }
}

}  // namespace mlpack::cli
