#include <iostream>

#include "common.hpp"
#include "mlpack/manifest/names.hpp"
#include "mlpack/util/error.hpp"
#include "stage_output.hpp"

namespace mlpack::cli {

void register_promote(CLI::App& app, Context& ctx) {
  auto* cmd = add_command(app, "promote", "Point a stage (staging, production, ...) at a version",
                          "  mlpack promote iris:v4 production -m \"beats v3 on accuracy\"\n"
                          "  mlpack promote iris@staging production");
  struct Options {
    std::string ref;
    std::string stage;
    std::string reason;
    bool json = false;
  };
  auto o = std::make_shared<Options>();
  cmd->add_option("REF", o->ref, "The version to promote")->required();
  cmd->add_option("STAGE", o->stage, "The stage to move")->required();
  cmd->add_option("-m,--message", o->reason, "Why, recorded in the history");
  cmd->add_flag("--json", o->json, "Print the result as JSON");
  cmd->callback([&ctx, o] {
    manifest::check_stage(o->stage);
    manifest::Ref ref = manifest::parse_ref(o->ref);
    if (ref.kind == manifest::Ref::Kind::kArchiveFile) {
      throw UsageError("promote works on the repository: 'mlpack import " + o->ref + "' first");
    }
    store::Repository repo = ctx.open_repository();
    const std::string digest = repo.resolve(ref);
    // The stage belongs to the model the ref names, or the manifest's own.
    std::string name = ref.name;
    if (name.empty()) name = repo.read_manifest(digest).name;
    std::string version = ref.kind == manifest::Ref::Kind::kVersion ? ref.version : "";
    if (version.empty()) {
      for (const auto& t : repo.list_tags(name)) {
        if (t.digest == digest) {
          version = t.version;
          break;
        }
      }
    }
    auto move = store::promote(repo, name, o->stage, digest, version, o->reason);
    if (!move) {
      if (o->json) {
        json::Value out = json::Value::object();
        out.set("name", name);
        out.set("stage", o->stage);
        out.set("moved", false);
        out.set("digest", "sha256:" + digest);
        print_json(out);
      } else {
        std::cout << name << "@" << o->stage << " already points at "
                  << describe_version(version, digest) << '\n';
      }
      return;
    }
    if (o->json) {
      json::Value out = stage_move_to_json(name, o->stage, *move);
      out.set("moved", true);
      print_json(out);
    } else {
      std::cout << name << "@" << o->stage << ": "
                << describe_version(move->from_version, move->from_digest) << " -> "
                << describe_version(move->to_version, move->to_digest) << '\n';
    }
  });
}

}  // namespace mlpack::cli
