#include <iostream>

#include "common.hpp"
#include "mlpack/remote/sync.hpp"

namespace mlpack::cli {

void register_push(CLI::App& app, Context& ctx) {
  auto* cmd = add_command(app, "push", "Send versions (and stages) to a remote",
                          "  mlpack push iris:v3\n  mlpack push -r backup iris:v3 iris@production");
  struct Options {
    RemoteOptions remote;
    std::vector<std::string> refs;
    bool json = false;
  };
  auto o = std::make_shared<Options>();
  add_remote_options(cmd, o->remote, true);
  cmd->add_option("REF", o->refs, "NAME:VERSION or NAME@STAGE (repeatable)")->required();
  cmd->add_flag("--json", o->json, "Print the result as JSON");
  cmd->callback([&ctx, o] {
    store::Repository repo = ctx.open_repository();
    // Every ref must exist here before anything is sent: a typo in the last
    // of several refs must not leave the others half-shipped.
    std::vector<manifest::Ref> refs;
    for (const auto& text : o->refs) {
      refs.push_back(manifest::parse_ref(text));
      if (refs.back().kind == manifest::Ref::Kind::kVersion ||
          refs.back().kind == manifest::Ref::Kind::kStage) {
        (void)repo.resolve(refs.back());
      }
    }
    const remote::TransferSettings settings = transfer_settings(ctx, o->remote);
    OpenRemote target = open_remote(repo, o->remote);
    json::Value results = json::Value::array();
    for (const auto& ref : refs) {
      remote::PushResult r = remote::push(repo, *target.backend, ref, settings);
      json::Value item = json::Value::object();
      item.set("ref", ref.text);
      item.set("name", r.version.name);
      item.set("version", r.version.version);
      item.set("digest", "sha256:" + r.digest);
      item.set("new", r.tag_created);
      item.set("blobs_uploaded", r.blobs_uploaded);
      item.set("bytes_uploaded", r.bytes_uploaded);
      item.set("blobs_present", r.blobs_present);
      item.set("stage", r.stage ? json::Value(*r.stage) : json::Value());
      results.push(std::move(item));
      if (!o->json) {
        std::cout << (r.tag_created ? "pushed " : "up to date: ") << r.version.str() << " "
                  << short_digest(r.digest) << " to " << target.remote.name;
        if (r.tag_created) {
          std::cout << " (" << count_of(r.blobs_uploaded, "blob") << ", "
                    << text::format_size(r.bytes_uploaded) << " sent; " << r.blobs_present
                    << " already there)";
        }
        if (r.stage) std::cout << "; " << ref.name << "@" << *r.stage << " moved";
        std::cout << '\n';
      }
    }
    if (o->json) print_json(target.result("pushed", std::move(results)));
  });
}

}  // namespace mlpack::cli
