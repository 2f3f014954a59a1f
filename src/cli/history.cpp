#include <iostream>

#include "common.hpp"
#include "mlpack/util/error.hpp"
#include "mlpack/util/text.hpp"
#include "stage_output.hpp"

namespace mlpack::cli {

void register_history(CLI::App& app, Context& ctx) {
  auto* cmd = add_command(app, "history", "Show every move of a stage, newest first",
                          "  mlpack history iris@production\n"
                          "  mlpack history iris@production --json | jq '.moves[0].to.version'");
  struct Options {
    std::string ref;
    bool json = false;
  };
  auto o = std::make_shared<Options>();
  cmd->add_option("NAME@STAGE", o->ref, "The stage")->required();
  cmd->add_flag("--json", o->json, "Print the result as JSON");
  cmd->callback([&ctx, o] {
    manifest::Ref ref = manifest::parse_ref(o->ref);
    if (ref.kind != manifest::Ref::Kind::kStage) {
      throw UsageError("history takes NAME@STAGE (for example iris@production), not '" + o->ref +
                       "'");
    }
    store::Repository repo = ctx.open_repository();
    auto moves = store::stage_history(repo, ref.name, ref.stage);
    if (moves.empty() && !repo.read_stage(ref.name, ref.stage)) {
      throw NotFoundError("stage " + o->ref + " not found: promote a version to it first");
    }
    if (o->json) {
      json::Value list = json::Value::array();
      for (auto it = moves.rbegin(); it != moves.rend(); ++it) {
        list.push(stage_move_to_json(ref.name, ref.stage, *it));
      }
      json::Value out = json::Value::object();
      out.set("name", ref.name);
      out.set("stage", ref.stage);
      auto current = repo.read_stage(ref.name, ref.stage);
      out.set("current", current ? json::Value("sha256:" + *current) : json::Value());
      out.set("moves", std::move(list));
      print_json(out);
      return;
    }
    Table table({"TIME", "ACTION", "FROM", "TO", "USER", "REASON"});
    for (auto it = moves.rbegin(); it != moves.rend(); ++it) {
      table.add({it->time, it->action, describe_version(it->from_version, it->from_digest),
                 describe_version(it->to_version, it->to_digest), it->user,
                 text::escape_control(it->reason)});
    }
    table.print();
  });
}

}  // namespace mlpack::cli
