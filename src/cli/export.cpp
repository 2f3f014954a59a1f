#include <iostream>

#include "common.hpp"
#include "mlpack/archive/archive.hpp"
#include "mlpack/util/error.hpp"
#include "mlpack/util/log.hpp"

namespace mlpack::cli {

void register_export(CLI::App& app, Context& ctx) {
  auto* cmd =
      add_command(app, "export", "Write an artifact to one tar file that plain tar can read",
                  "  mlpack export iris:v3 -o iris-v3.mlpack\n"
                  "  mlpack export iris@production -o iris.mlpack.zst --zstd");
  struct Options {
    std::string ref;
    std::string output;
    bool zstd = false;
    bool json = false;
  };
  auto o = std::make_shared<Options>();
  cmd->add_option("REF", o->ref, "The artifact")->required();
  cmd->add_option("-o,--output", o->output, "The archive file to write")
      ->required()
      ->type_name("FILE");
  cmd->add_flag("--zstd", o->zstd, "Compress with zstd");
  cmd->add_flag("--json", o->json, "Print the result as JSON");
  cmd->callback([&ctx, o] {
    store::Repository repo = ctx.open_repository();
    manifest::Ref ref = manifest::parse_ref(o->ref);
    if (ref.kind == manifest::Ref::Kind::kArchiveFile) {
      throw UsageError("'" + o->ref + "' is already an archive file");
    }
    const std::string digest = repo.resolve(ref);
    std::optional<std::string> signature;
    if (auto entry = repo.signature_for(digest, repo.read_manifest(digest), &ref)) {
      signature = std::move(entry->text);
    } else {
      log::warn(o->ref + " is unsigned: importing the archive will need --allow-unsigned");
    }
    archive::export_artifact(repo, digest, o->output, o->zstd, signature);
    const auto size = std::filesystem::file_size(o->output);
    if (o->json) {
      json::Value out = json::Value::object();
      out.set("file", o->output);
      out.set("digest", "sha256:" + digest);
      out.set("size", static_cast<std::uint64_t>(size));
      out.set("compression", o->zstd ? "zstd" : "none");
      out.set("signed", signature.has_value());
      print_json(out);
    } else {
      std::cout << "exported " << o->ref << " (" << short_digest(digest) << ") to " << o->output
                << " (" << text::format_size(size) << ")\n";
    }
  });
}

}  // namespace mlpack::cli
