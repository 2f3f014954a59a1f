#include <iostream>

#include "common.hpp"
#include "mlpack/store/maintenance.hpp"

namespace mlpack::cli {

void register_gc(CLI::App& app, Context& ctx) {
  auto* cmd = add_command(app, "gc", "Delete blobs and manifests that no version or stage reaches",
                          "  mlpack gc --dry-run\n  mlpack gc");
  struct Options {
    bool dry_run = false;
    bool json = false;
  };
  auto o = std::make_shared<Options>();
  cmd->add_flag("-n,--dry-run", o->dry_run, "Only report what would be removed");
  cmd->add_flag("--json", o->json, "Print the result as JSON");
  cmd->callback([&ctx, o] {
    store::Repository repo = ctx.open_repository();
    store::GcReport r = store::collect_garbage(repo, o->dry_run);
    if (o->json) {
      json::Value out = json::Value::object();
      out.set("dry_run", o->dry_run);
      out.set("objects_removed", r.objects_removed);
      out.set("bytes_removed", r.bytes_removed);
      out.set("objects_kept", r.objects_kept);
      out.set("temp_files_removed", r.temp_files_removed);
      print_json(out);
    } else {
      std::cout << (o->dry_run ? "would remove " : "removed ") << r.objects_removed << " objects ("
                << text::format_size(r.bytes_removed) << ") and " << r.temp_files_removed
                << " temp files; kept " << r.objects_kept << " objects\n";
    }
  });
}

}  // namespace mlpack::cli
