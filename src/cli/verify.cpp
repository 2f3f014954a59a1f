#include <iostream>

#include "common.hpp"
#include "mlpack/archive/archive.hpp"
#include "mlpack/store/objects.hpp"

namespace mlpack::cli {

void register_verify(CLI::App& app, Context& ctx) {
  auto* cmd = add_command(app, "verify", "Check an artifact's signature and every file's digest",
                          "  mlpack verify iris:v3\n  mlpack verify iris-v3.mlpack --json");
  struct Options {
    std::string ref;
    bool allow_unsigned = false;
    bool json = false;
  };
  auto o = std::make_shared<Options>();
  cmd->add_option("REF", o->ref, "The artifact or an archive file")->required();
  cmd->add_flag("--allow-unsigned", o->allow_unsigned,
                "Check the digests of an unsigned or untrusted artifact anyway");
  cmd->add_flag("--json", o->json, "Print the result as JSON");
  cmd->callback([&ctx, o] {
    Artifact a = resolve_artifact(ctx, o->ref);
    // The signature first: nothing else about untrusted content matters.
    auto verified =
        check_signature(a.manifest_bytes, a.signature, a.digest, a.label(), o->allow_unsigned);
    if (a.archive_file) {
      archive::ArchiveVisitor every_file;  // no outputs: each entry is only hashed
      archive::walk_archive(*a.archive_file, every_file);
    } else {
      store::Repository repo = ctx.open_repository();
      for (const auto& f : a.manifest.files) {
        store::copy_verified_object(repo, f.sha256, f.size, -1, f.path);
      }
    }
    if (o->json) {
      json::Value out = json::Value::object();
      out.set("ref", o->ref);
      out.set("digest", "sha256:" + a.digest);
      out.set("verified", true);
      out.set("signed", verified.has_value());
      out.set("key_id", verified ? json::Value(verified->key_id) : json::Value());
      out.set("trusted_comment", verified ? json::Value(verified->trusted_comment) : json::Value());
      out.set("files", static_cast<std::uint64_t>(a.manifest.files.size()));
      print_json(out);
      return;
    }
    std::cout << "verified " << a.label() << " " << short_digest(a.digest) << " ("
              << count_of(a.manifest.files.size(), "file") << ", "
              << text::format_size(a.manifest.total_size()) << ")\n";
    if (verified) {
      std::cout << "signed by key " << verified->key_id << " (trusted)\n"
                << "trusted comment: " << verified->trusted_comment << '\n';
    } else {
      std::cout << "not signed by a trusted key (accepted with --allow-unsigned)\n";
    }
  });
}

}  // namespace mlpack::cli
