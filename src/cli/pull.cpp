#include <iostream>

#include "common.hpp"
#include "mlpack/remote/sync.hpp"
#include "mlpack/store/stages.hpp"

namespace mlpack::cli {

void register_pull(CLI::App& app, Context& ctx) {
  auto* cmd = add_command(app, "pull", "Fetch versions from a remote, verified before use",
                          "  mlpack pull iris:v3\n  mlpack pull -r backup iris@production");
  struct Options {
    RemoteOptions remote;
    std::vector<std::string> refs;
    bool allow_unsigned = false;
    bool allow_unsafe = false;
    bool json = false;
  };
  auto o = std::make_shared<Options>();
  add_remote_options(cmd, o->remote, true);
  cmd->add_option("REF", o->refs, "NAME:VERSION, NAME@STAGE or sha256:<hex> (repeatable)")
      ->required();
  cmd->add_flag("--allow-unsigned", o->allow_unsigned,
                "Accept artifacts that are unsigned or signed by a key you do not trust");
  cmd->add_flag("--allow-unsafe", o->allow_unsafe,
                "Let in files the scan finds dangerous (they could run code when loaded)");
  cmd->add_flag("--json", o->json, "Print the result as JSON");
  cmd->callback([&ctx, o] {
    store::Repository repo = ctx.open_repository();
    std::vector<manifest::Ref> refs;
    for (const auto& text : o->refs) refs.push_back(manifest::parse_ref(text));
    const remote::TransferSettings settings = transfer_settings(ctx, o->remote);
    OpenRemote source = open_remote(repo, o->remote);
    json::Value results = json::Value::array();
    for (const auto& ref : refs) {
      remote::PullResult r =
          remote::pull(repo, *source.backend, ref, make_head_check(o->allow_unsigned), settings,
                       make_scan_check(&repo, o->allow_unsafe));
      // A pulled stage points here too, recorded like any other move.
      std::optional<std::string> stage;
      if (ref.kind == manifest::Ref::Kind::kStage) {
        store::promote(repo, ref.name, ref.stage, r.digest, r.version.version,
                       "pulled from " + source.remote.name);
        stage = ref.stage;
      }
      json::Value item = json::Value::object();
      item.set("ref", ref.text);
      item.set("name", r.version.name);
      item.set("version", r.version.version);
      item.set("digest", "sha256:" + r.digest);
      item.set("new", r.tag_created);
      item.set("blobs_fetched", r.blobs_fetched);
      item.set("bytes_fetched", r.bytes_fetched);
      item.set("stage", stage ? json::Value(*stage) : json::Value());
      results.push(std::move(item));
      if (!o->json) {
        std::cout << (r.tag_created ? "pulled " : "up to date: ") << r.version.str() << " "
                  << short_digest(r.digest) << " from " << source.remote.name << " ("
                  << count_of(r.blobs_fetched, "blob") << ", " << text::format_size(r.bytes_fetched)
                  << " fetched)";
        if (stage) std::cout << "; " << ref.name << "@" << *stage << " points at it";
        std::cout << '\n';
      }
    }
    if (o->json) print_json(source.result("pulled", std::move(results)));
  });
}

}  // namespace mlpack::cli
