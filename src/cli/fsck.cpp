#include <iostream>

#include "common.hpp"
#include "mlpack/store/maintenance.hpp"
#include "mlpack/util/error.hpp"

namespace mlpack::cli {

void register_fsck(CLI::App& app, Context& ctx) {
  auto* cmd = add_command(app, "fsck", "Re-hash every object and check every ref",
                          "  mlpack fsck\n  mlpack fsck --json");
  struct Options {
    bool json = false;
  };
  auto o = std::make_shared<Options>();
  cmd->add_flag("--json", o->json, "Print the result as JSON");
  cmd->callback([&ctx, o] {
    store::Repository repo = ctx.open_repository();
    store::FsckReport r = store::check_repository(repo);
    if (o->json) {
      json::Value problems = json::Value::array();
      for (const auto& p : r.problems) {
        json::Value e = json::Value::object();
        e.set("kind", p.kind);
        e.set("object", p.object);
        e.set("detail", p.detail);
        problems.push(std::move(e));
      }
      json::Value out = json::Value::object();
      out.set("ok", r.problems.empty());
      out.set("objects_checked", r.objects_checked);
      out.set("refs_checked", r.refs_checked);
      out.set("problems", std::move(problems));
      print_json(out);
    } else {
      for (const auto& p : r.problems) {
        std::cout << p.kind << " " << (p.object.empty() ? "-" : short_digest(p.object)) << " "
                  << p.detail << '\n';
      }
      std::cout << "checked " << r.objects_checked << " objects and " << r.refs_checked << " refs: "
                << (r.problems.empty() ? "ok" : std::to_string(r.problems.size()) + " problems")
                << '\n';
    }
    if (!r.problems.empty()) {
      throw IntegrityError(
          "fsck found " + std::to_string(r.problems.size()) +
          " problems: restore the objects from a remote or an export, or remove the "
          "affected versions");
    }
  });
}

}  // namespace mlpack::cli
