#include <iostream>
#include <map>

#include "common.hpp"
#include "mlpack/manifest/names.hpp"
#include "mlpack/util/log.hpp"

namespace mlpack::cli {

void register_list(CLI::App& app, Context& ctx) {
  auto* cmd = add_command(app, "list", "List versions in the repository, with their stages",
                          "  mlpack list\n  mlpack list iris --json");
  struct Options {
    std::string name;
    bool json = false;
  };
  auto o = std::make_shared<Options>();
  cmd->add_option("NAME", o->name, "Only this model");
  cmd->add_flag("--json", o->json, "Print the result as JSON");
  cmd->callback([&ctx, o] {
    if (!o->name.empty()) manifest::check_name(o->name);
    store::Repository repo = ctx.open_repository();
    std::map<std::pair<std::string, std::string>, std::vector<std::string>> stages;
    for (const auto& s : repo.list_stages(o->name)) stages[{s.name, s.digest}].push_back(s.stage);

    json::Value items = json::Value::array();
    Table table({"NAME", "VERSION", "DIGEST", "CREATED", "SIZE", "STAGES"});
    for (const auto& t : repo.list_tags(o->name)) {
      manifest::Manifest m = repo.read_manifest(t.digest);
      const auto& st = stages[{t.name, t.digest}];
      std::string stage_text;
      json::Value stage_json = json::Value::array();
      for (const auto& s : st) {
        stage_text += (stage_text.empty() ? "" : ",") + s;
        stage_json.push(s);
      }
      json::Value item = json::Value::object();
      item.set("name", t.name);
      item.set("version", t.version);
      item.set("digest", "sha256:" + t.digest);
      item.set("created", m.created);
      item.set("size", m.total_size());
      item.set("stages", std::move(stage_json));
      items.push(std::move(item));
      table.add({t.name, t.version, short_digest(t.digest), m.created,
                 text::format_size(m.total_size()), stage_text});
    }
    if (o->json) {
      json::Value out = json::Value::object();
      out.set("artifacts", std::move(items));
      print_json(out);
    } else if (table.empty()) {
      log::note(o->name.empty() ? "no artifacts yet: mlpack pack DIR -t NAME:VERSION"
                                : "no versions of " + o->name);
    } else {
      table.print();
    }
  });
}

}  // namespace mlpack::cli
