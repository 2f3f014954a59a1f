#include <iostream>

#include "common.hpp"
#include "mlpack/archive/archive.hpp"

namespace mlpack::cli {

void register_import(CLI::App& app, Context& ctx) {
  auto* cmd = add_command(app, "import", "Verify an exported archive and add it to the repository",
                          "  mlpack import iris-v3.mlpack");
  struct Options {
    std::string file;
    bool json = false;
    bool allow_unsigned = false;
    bool allow_unsafe = false;
  };
  auto o = std::make_shared<Options>();
  cmd->add_option("FILE", o->file, "The archive file")->required();
  cmd->add_flag("--allow-unsigned", o->allow_unsigned,
                "Accept an unsigned archive, or one signed by a key you do not trust");
  cmd->add_flag("--allow-unsafe", o->allow_unsafe,
                "Let in files the scan finds dangerous (they could run code when loaded)");
  cmd->add_flag("--json", o->json, "Print the result as JSON");
  cmd->callback([&ctx, o] {
    store::Repository repo = ctx.open_repository();
    archive::ImportResult r = archive::import_archive(
        repo, o->file, make_head_check(o->allow_unsigned), make_scan_check(&repo, o->allow_unsafe));
    const auto& m = r.head.manifest;
    if (o->json) {
      json::Value out = json::Value::object();
      out.set("name", r.binding.name);
      out.set("version", r.binding.version);
      out.set("signed", r.head.signature.has_value());
      out.set("digest", "sha256:" + r.head.digest);
      out.set("new", r.created);
      out.set("size", m.total_size());
      print_json(out);
    } else {
      std::cout << (r.created ? "imported " : "already present: ") << r.binding.str() << " "
                << short_digest(r.head.digest) << " (" << count_of(m.files.size(), "file") << ", "
                << text::format_size(m.total_size()) << ")\n";
    }
  });
}

}  // namespace mlpack::cli
