#include <iostream>

#include "common.hpp"
#include "mlpack/manifest/names.hpp"
#include "mlpack/remote/config.hpp"
#include "mlpack/remote/sync.hpp"

namespace mlpack::cli {

void register_ls_remote(CLI::App& app, Context& ctx) {
  auto* cmd = add_command(app, "ls-remote", "List the versions and stages on a remote",
                          "  mlpack ls-remote\n  mlpack ls-remote -r backup iris --json");
  struct Options {
    std::string remote;
    std::string name;
    bool json = false;
  };
  auto o = std::make_shared<Options>();
  cmd->add_option("-r,--remote", o->remote, "The remote (default: origin, or the only one)");
  cmd->add_option("NAME", o->name, "Only this model");
  cmd->add_flag("--json", o->json, "Print the result as JSON");
  cmd->callback([&ctx, o] {
    if (!o->name.empty()) manifest::check_name(o->name);
    store::Repository repo = ctx.open_repository();
    remote::RemoteConfig config(repo);
    const remote::Remote& source =
        config.select(o->remote.empty() ? std::nullopt : std::optional(o->remote));
    auto backend = remote::open_backend(source);
    remote::RemoteListing listing = remote::list_remote(*backend, o->name);
    if (o->json) {
      json::Value versions = json::Value::array();
      for (const auto& t : listing.versions) {
        json::Value v = json::Value::object();
        v.set("name", t.name);
        v.set("version", t.version);
        v.set("digest", "sha256:" + t.digest);
        versions.push(std::move(v));
      }
      json::Value stages = json::Value::array();
      for (const auto& s : listing.stages) {
        json::Value v = json::Value::object();
        v.set("name", s.name);
        v.set("stage", s.stage);
        v.set("digest", "sha256:" + s.digest);
        stages.push(std::move(v));
      }
      json::Value out = json::Value::object();
      out.set("remote", source.name);
      out.set("url", source.url.text);
      out.set("versions", std::move(versions));
      out.set("stages", std::move(stages));
      print_json(out);
      return;
    }
    Table table({"NAME", "REF", "DIGEST"});
    for (const auto& t : listing.versions) table.add({t.name, t.version, short_digest(t.digest)});
    for (const auto& s : listing.stages) table.add({s.name, "@" + s.stage, short_digest(s.digest)});
    if (table.empty()) {
      std::cerr << "nothing on " << source.name << " yet\n";
    } else {
      table.print();
    }
  });
}

}  // namespace mlpack::cli
