#include <iostream>

#include "common.hpp"

namespace mlpack::cli {

void register_init(CLI::App& app, Context& ctx) {
  auto* cmd = add_command(app, "init", "Create an empty .mlpack repository in the current folder",
                          "  mlpack init\n  mlpack -C /srv/models init");
  auto json = std::make_shared<bool>(false);
  cmd->add_flag("--json", *json, "Print the result as JSON");
  cmd->callback([&ctx, json] {
    std::filesystem::path where =
        ctx.global.dir ? std::filesystem::path(*ctx.global.dir) : std::filesystem::current_path();
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
