#include <cstdlib>
#include <iostream>

#include "common.hpp"

namespace mlpack::cli {

void register_init(CLI::App& app, Context& ctx) {
  auto* cmd = add_command(app, "init", "Create an empty .mlpack repository in the current folder",
                          "  mlpack init\n  mlpack -C /srv/models init");
  auto json = std::make_shared<bool>(false);
  cmd->add_flag("--json", *json, "Print the result as JSON");
  cmd->callback([&ctx, json] {
    // Like every other command, init honours -C, then MLPACK_DIR (which may
    // name the work folder or the .mlpack folder itself).
    std::filesystem::path where = std::filesystem::current_path();
    if (ctx.global.dir) {
      where = *ctx.global.dir;
    } else if (const char* env = std::getenv("MLPACK_DIR"); env && *env) {
      where = env;
      if (where.filename() == ".mlpack") where = where.parent_path();
    }
    auto [repo, created] = store::Repository::init(where);
    if (*json) {
      json::Value out = json::Value::object();
      out.set("path", repo.root().string());
      out.set("new", created);
      print_json(out);
    } else {
      std::cout << (created ? "Initialised empty mlpack repository in "
                            : "Reinitialised existing mlpack repository in ")
                << repo.root().string() << '\n';
    }
  });
}

}  // namespace mlpack::cli
