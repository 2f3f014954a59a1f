#include <algorithm>
#include <iostream>

#include "common.hpp"
#include "mlpack/diff/diff.hpp"
#include "mlpack/manifest/names.hpp"
#include "mlpack/util/error.hpp"

namespace mlpack::cli {

void register_log(CLI::App& app, Context& ctx) {
  auto* cmd =
      add_command(app, "log", "Show the versions of a model, newest first, with key metrics",
                  "  mlpack log iris\n  mlpack log iris --json | jq '.versions[0]'");
  struct Options {
    std::string name;
    bool json = false;
  };
  auto o = std::make_shared<Options>();
  cmd->add_option("NAME", o->name, "The model name")->required();
  cmd->add_flag("--json", o->json, "Print the result as JSON");
  cmd->callback([&ctx, o] {
    manifest::check_name(o->name);
    store::Repository repo = ctx.open_repository();
    struct Row {
      store::TagEntry tag;
      manifest::Manifest manifest;
      std::vector<std::string> stages;
    };
    std::vector<Row> rows;
    const auto stages = repo.list_stages(o->name);
    for (const auto& t : repo.list_tags(o->name)) {
      Row r{t, repo.read_manifest(t.digest), {}};
      for (const auto& s : stages) {
        if (s.digest == t.digest) r.stages.push_back(s.stage);
      }
      rows.push_back(std::move(r));
    }
    if (rows.empty()) throw NotFoundError("no versions of " + o->name + " in this repository");
    // Sort pointers, not rows: assigning a YAML::Node rebinds the node it
    // shares with other copies, so swapping rows would mix up their metrics.
    std::vector<const Row*> order;
    for (const auto& r : rows) order.push_back(&r);
    std::stable_sort(order.begin(), order.end(), [](const Row* a, const Row* b) {
      return a->manifest.created != b->manifest.created ? a->manifest.created > b->manifest.created
                                                        : a->tag.version > b->tag.version;
    });
    if (o->json) {
      json::Value versions = json::Value::array();
      for (const Row* row : order) {
        const Row& r = *row;
        json::Value v = json::Value::object();
        v.set("version", r.tag.version);
        v.set("digest", "sha256:" + r.tag.digest);
        v.set("created", r.manifest.created);
        v.set("description", r.manifest.description);
        v.set("metrics", manifest::yaml_to_json(r.manifest.metrics));
        json::Value st = json::Value::array();
        for (const auto& s : r.stages) st.push(s);
        v.set("stages", std::move(st));
        versions.push(std::move(v));
      }
      json::Value out = json::Value::object();
      out.set("name", o->name);
      out.set("versions", std::move(versions));
      print_json(out);
      return;
    }
    for (const Row* row : order) {
      const Row& r = *row;
      std::string line =
          r.tag.version + "  " + short_digest(r.tag.digest) + "  " + r.manifest.created;
      // Key metrics: the ones with goals first, else the first few.
      const diff::Leaves metrics = diff::flatten(r.manifest.metrics);
      std::vector<const std::pair<std::string, diff::Leaf>*> shown;
      for (const auto& kv : metrics) {
        if (r.manifest.metric_goals.IsMap() && r.manifest.metric_goals[kv.first]) {
          shown.push_back(&kv);
        }
      }
      if (shown.empty()) {
        for (std::size_t i = 0; i < std::min<std::size_t>(4, metrics.size()); ++i) {
          shown.push_back(&metrics[i]);
        }
      }
      for (const auto* kv : shown) line += "  " + kv->first + "=" + kv->second.text;
      if (!r.stages.empty()) {
        line += "  (";
        for (std::size_t i = 0; i < r.stages.size(); ++i)
          line += (i ? ", " : "") + ("@" + r.stages[i]);
        line += ")";
      }
      std::cout << line << '\n';
    }
  });
}

}  // namespace mlpack::cli
