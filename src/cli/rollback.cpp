#include <iostream>

#include "common.hpp"
#include "mlpack/manifest/names.hpp"
#include "mlpack/util/error.hpp"
#include "stage_output.hpp"

namespace mlpack::cli {

void register_rollback(CLI::App& app, Context& ctx) {
  auto* cmd = add_command(app, "rollback", "Move a stage back to the version it had before",
                          "  mlpack rollback iris@production -m \"v4 mislabels setosa\"");
  struct Options {
    std::string ref;
    std::string reason;
    bool json = false;
  };
  auto o = std::make_shared<Options>();
  cmd->add_option("NAME@STAGE", o->ref, "The stage to move back")->required();
  cmd->add_option("-m,--message", o->reason, "Why, recorded in the history");
  cmd->add_flag("--json", o->json, "Print the result as JSON");
  cmd->callback([&ctx, o] {
    manifest::Ref ref = manifest::parse_ref(o->ref);
    if (ref.kind != manifest::Ref::Kind::kStage) {
      throw UsageError("rollback takes NAME@STAGE (for example iris@production), not '" + o->ref +
                       "'");
    }
    store::Repository repo = ctx.open_repository();
    store::StageMove move = store::rollback(repo, ref.name, ref.stage, o->reason);
    if (o->json) {
      print_json(stage_move_to_json(ref.name, ref.stage, move));
    } else {
      std::cout << ref.name << "@" << ref.stage
                << " rolled back: " << describe_version(move.from_version, move.from_digest)
                << " -> " << describe_version(move.to_version, move.to_digest) << '\n';
    }
  });
}

}  // namespace mlpack::cli
