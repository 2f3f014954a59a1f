#include <iostream>

#include "common.hpp"
#include "mlpack/manifest/names.hpp"
#include "mlpack/remote/sync.hpp"
#include "mlpack/util/log.hpp"

namespace mlpack::cli {

void register_ls_remote(CLI::App& app, Context& ctx) {
  auto* cmd = add_command(app, "ls-remote", "List the versions and stages on a remote",
                          "  mlpack ls-remote\n  mlpack ls-remote -r backup iris --json");
  struct Options {
    RemoteOptions remote;
    std::string name;
    bool json = false;
  };
  auto o = std::make_shared<Options>();
  add_remote_options(cmd, o->remote, false);
  cmd->add_option("NAME", o->name, "Only this model");
  cmd->add_flag("--json", o->json, "Print the result as JSON");
  cmd->callback([&ctx, o] {
    if (!o->name.empty()) manifest::check_name(o->name);
    store::Repository repo = ctx.open_repository();
    OpenRemote source = open_remote(repo, o->remote);
    remote::RemoteListing listing = remote::list_remote(*source.backend, o->name);
    if (o->json) {
      // Versions and stages share one shape: name, label key, digest.
      auto entries = [](const auto& list, const char* label_key, auto label) {
        json::Value arr = json::Value::array();
        for (const auto& e : list) {
          json::Value v = json::Value::object();
          v.set("name", e.name);
          v.set(label_key, label(e));
          v.set("digest", "sha256:" + e.digest);
          arr.push(std::move(v));
        }
        return arr;
      };
      json::Value out = source.result(
          "versions",
          entries(listing.versions, "version", [](const store::TagEntry& t) { return t.version; }));
      out.set("stages",
              entries(listing.stages, "stage", [](const store::StageEntry& s) { return s.stage; }));
      print_json(out);
      return;
    }
    Table table({"NAME", "REF", "DIGEST"});
    for (const auto& t : listing.versions) table.add({t.name, t.version, short_digest(t.digest)});
    for (const auto& s : listing.stages) table.add({s.name, "@" + s.stage, short_digest(s.digest)});
    if (table.empty()) {
      log::note("nothing on " + source.remote.name + " yet");
    } else {
      table.print();
    }
  });
}

}  // namespace mlpack::cli
