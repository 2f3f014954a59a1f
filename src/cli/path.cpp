#include <iostream>

#include "common.hpp"
#include "mlpack/archive/archive.hpp"
#include "mlpack/manifest/manifest.hpp"
#include "mlpack/util/error.hpp"

namespace mlpack::cli {

void register_path(CLI::App& app, Context& ctx) {
  auto* cmd = add_command(
      app, "path", "Print the local path of an artifact's files, for scripts and services",
      "  python serve.py --model \"$(mlpack path iris@production --role model)\"\n"
      "  mlpack path iris:v3            # the folder holding every file");
  struct Options {
    std::string ref;
    std::string role;
    bool json = false;
    bool allow_unsigned = false;
    bool allow_unsafe = false;
  };
  auto o = std::make_shared<Options>();
  cmd->add_option("REF", o->ref, "The artifact")->required();
  cmd->add_option("--role", o->role, "Print the path of the file(s) with this role")
      ->type_name("ROLE");
  cmd->add_flag("--allow-unsigned", o->allow_unsigned,
                "From an archive: accept it unsigned or signed by a key you do not trust");
  cmd->add_flag("--allow-unsafe", o->allow_unsafe,
                "From an archive: accept files the scan finds dangerous");
  cmd->add_flag("--json", o->json, "Print the result as JSON");
  cmd->callback([&ctx, o] {
    if (!o->role.empty() && !manifest::is_valid_role(o->role)) {
      throw UsageError("unknown role '" + o->role + "'; roles are " + manifest::kRoles);
    }
    Artifact a = resolve_artifact(ctx, o->ref);
    store::Repository repo = ctx.open_repository();
    // Content from an archive has not been scanned on the way in: it is here.
    const std::filesystem::path root = archive::materialize(
        repo, a.digest, a.manifest, a.archive_file, make_head_check(o->allow_unsigned),
        a.archive_file ? make_scan_check(&repo, o->allow_unsafe) : store::ContentCheck{});
    std::filesystem::path result = root;
    if (!o->role.empty()) {
      std::vector<std::string> paths;
      for (const auto& f : a.manifest.files) {
        if (f.role == o->role) paths.push_back(f.path);
      }
      if (paths.empty()) throw NotFoundError(a.label() + " has no file with role " + o->role);
      // One file: its path. Several (a model folder): the folder they share.
      std::string common = paths.size() == 1 ? paths[0] : "";
      if (paths.size() > 1) {
        common =
            paths[0].substr(0, paths[0].rfind('/') == std::string::npos ? 0 : paths[0].rfind('/'));
        for (const auto& p : paths) {
          while (!common.empty() && !(p.starts_with(common + "/"))) {
            std::size_t slash = common.rfind('/');
            common = slash == std::string::npos ? "" : common.substr(0, slash);
          }
        }
      }
      result = common.empty() ? root : root / common;
    }
    if (o->json) {
      json::Value out = json::Value::object();
      out.set("ref", o->ref);
      out.set("digest", "sha256:" + a.digest);
      out.set("path", result.string());
      print_json(out);
    } else {
      std::cout << result.string() << '\n';
    }
  });
}

}  // namespace mlpack::cli
