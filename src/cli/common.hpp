// What every command shares: global options, opening the repository,
// resolving any REF form to an artifact, and output helpers.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "mlpack/archive/archive.hpp"
#include "mlpack/crypto/artifact_signature.hpp"
#include "mlpack/manifest/manifest.hpp"
#include "mlpack/remote/backend.hpp"
#include "mlpack/remote/sync.hpp"
#include "mlpack/store/pack.hpp"
#include "mlpack/store/repository.hpp"
#include "mlpack/util/json.hpp"
#include "mlpack/util/text.hpp"

namespace mlpack::cli {

struct GlobalOptions {
  std::optional<std::string> dir;  // -C
  std::string progress = "auto";   // --progress
};

struct Context {
  GlobalOptions global;
  store::Repository open_repository() const;
};

// An artifact named by any REF form: in the store, or an exported archive file.
struct Artifact {
  std::string digest;  // manifest hex
  manifest::Manifest manifest;
  std::optional<std::filesystem::path> archive_file;
  std::string ref_text;
  std::string manifest_bytes;
  std::optional<std::string> signature;  // minisign text, when signed
  std::string label() const;             // NAME:VERSION
};

// Archive refs need no repository; everything else opens one.
Artifact resolve_artifact(const Context& ctx, const std::string& ref_text);

// --key, --no-sign and --password-stdin, for commands that sign.
struct SigningOptions {
  std::string key;
  bool no_sign = false;
  bool password_stdin = false;
};
void add_signing_options(CLI::App* cmd, SigningOptions& o);
// Resolves the signing key up front (so a password prompt comes before any
// long work) and returns the signer, or nullptr with --no-sign.
store::Signer make_signer(const SigningOptions& o);

// The signature policy of every way in (DESIGN.md section 5): a signature by
// a trusted key over these exact bytes, or --allow-unsigned, which lets an
// unsigned or untrusted artifact through with a warning. A signature that
// does not verify is always refused. Returns what was verified, if anything.
std::optional<crypto::VerifiedSignature> check_signature(
    const std::string& manifest_bytes, const std::optional<std::string>& signature,
    const std::string& digest, const std::string& label, bool allow_unsigned);
// The same policy for archives; returns the NAME:VERSION to file it under.
archive::HeadCheck make_head_check(bool allow_unsigned);

// The scan policy of the ways in (import, pull): every file of an incoming
// artifact is scanned before it becomes visible. `scan:` in .mlpack/config.yaml
// (else the user's config.yaml) is refuse-dangerous (the default: exit 3) or
// warn; --allow-unsafe lets a dangerous artifact in once, with a warning.
// `repo` may be null (an archive unpacked outside any repository): then only
// the user's config counts.
store::ContentCheck make_scan_check(const store::Repository* repo, bool allow_unsafe);

// What push, pull and ls-remote share: which remote, which CA, how many
// transfers at once.
struct RemoteOptions {
  std::string remote;
  std::string ca_file;
  unsigned jobs = 0;
};
void add_remote_options(CLI::App* cmd, RemoteOptions& o, bool transfers);
remote::TransferSettings transfer_settings(const Context& ctx, const RemoteOptions& o);

// The remote a push, pull or ls-remote talks to: -r NAME (or URL), else
// origin, else the only one; and its backend.
struct OpenRemote {
  remote::Remote remote;
  std::unique_ptr<remote::Backend> backend;
  // The JSON document these commands print: {remote, url, KEY: items}.
  json::Value result(const char* key, json::Value items) const;
};
OpenRemote open_remote(const store::Repository& repo, const RemoteOptions& o);

// Registers a subcommand with a description and an example for --help.
CLI::App* add_command(CLI::App& app, const std::string& name, const std::string& description,
                      const std::string& example);

void print_json(const json::Value& value);
std::string short_digest(const std::string& hex);
std::string count_of(std::size_t n,
                     const std::string& noun);  // "1 file", "2 files"  // sha256:<first 12>

// A table for human output: columns padded to the widest cell.
class Table {
 public:
  explicit Table(std::vector<std::string> header) : rows_{std::move(header)} {}
  void add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  void print() const;
  bool empty() const { return rows_.size() <= 1; }

 private:
  std::vector<std::vector<std::string>> rows_;
};

// Each command file provides one of these.
void register_init(CLI::App& app, Context& ctx);
void register_pack(CLI::App& app, Context& ctx);
void register_tag(CLI::App& app, Context& ctx);
void register_list(CLI::App& app, Context& ctx);
void register_log(CLI::App& app, Context& ctx);
void register_inspect(CLI::App& app, Context& ctx);
void register_path(CLI::App& app, Context& ctx);
void register_export(CLI::App& app, Context& ctx);
void register_import(CLI::App& app, Context& ctx);
void register_unpack(CLI::App& app, Context& ctx);
void register_gc(CLI::App& app, Context& ctx);
void register_fsck(CLI::App& app, Context& ctx);
void register_key(CLI::App& app, Context& ctx);
void register_verify(CLI::App& app, Context& ctx);
void register_diff(CLI::App& app, Context& ctx);
void register_promote(CLI::App& app, Context& ctx);
void register_rollback(CLI::App& app, Context& ctx);
void register_history(CLI::App& app, Context& ctx);
void register_remote(CLI::App& app, Context& ctx);
void register_push(CLI::App& app, Context& ctx);
void register_pull(CLI::App& app, Context& ctx);
void register_ls_remote(CLI::App& app, Context& ctx);
void register_scan(CLI::App& app, Context& ctx);
void register_complete(CLI::App& app, Context& ctx);

}  // namespace mlpack::cli
