#include <iostream>

#include "common.hpp"
#include "mlpack/manifest/names.hpp"
#include "mlpack/store/pack.hpp"
#include "mlpack/util/error.hpp"

namespace mlpack::cli {

void register_tag(CLI::App& app, Context& ctx) {
  auto* cmd = add_command(app, "tag", "Give an existing artifact another NAME:VERSION",
                          "  mlpack tag iris:v3 iris:2025-01-release\n"
                          "  mlpack tag sha256:3f2a9c81d0e4 team/iris:v1");
  struct Options {
    std::string ref;
    std::string target;
    bool json = false;
    SigningOptions signing;
  };
  auto o = std::make_shared<Options>();
  cmd->add_option("REF", o->ref, "The artifact")->required();
  cmd->add_option("NAME:VERSION", o->target, "The new version name")->required();
  add_signing_options(cmd, o->signing);
  cmd->add_flag("--json", o->json, "Print the result as JSON");
  cmd->callback([&ctx, o] {
    manifest::NameVersion nv = manifest::parse_name_version(o->target);
    store::Repository repo = ctx.open_repository();
    manifest::Ref ref = manifest::parse_ref(o->ref);
    if (ref.kind == manifest::Ref::Kind::kArchiveFile) {
      throw UsageError("tag works on artifacts in the repository: 'mlpack import " + o->ref +
                       "' first");
    }
    const std::string digest = repo.resolve(ref);
    bool created = false;
    const auto existing = repo.read_tag(nv.name, nv.version);
    if (existing && *existing != digest) {
      // Refused before signing, so no signature of a binding that never was.
      created = store::tag_artifact(repo, nv.name, nv.version, digest);
    } else if (!existing) {
      // The new binding gets its own signature, written before the tag.
      if (store::Signer signer = make_signer(o->signing)) {
        const std::string bytes = repo.read_manifest_bytes(digest);
        repo.write_signature(digest, nv.name, nv.version,
                             signer(bytes, digest, nv.name, nv.version));
      }
      created = store::tag_artifact(repo, nv.name, nv.version, digest);
    }
    if (o->json) {
      json::Value out = json::Value::object();
      out.set("name", nv.name);
      out.set("version", nv.version);
      out.set("digest", "sha256:" + digest);
      out.set("new", created);
      print_json(out);
    } else {
      std::cout << (created ? "tagged " : "already tagged ") << nv.str() << " -> "
                << short_digest(digest) << '\n';
    }
  });
}

}  // namespace mlpack::cli
