#include <iostream>

#include "common.hpp"
#include "mlpack/archive/archive.hpp"
#include "mlpack/util/error.hpp"

namespace mlpack::cli {

void register_unpack(CLI::App& app, Context& ctx) {
  auto* cmd =
      add_command(app, "unpack", "Write an artifact's files into a folder, verified",
                  "  mlpack unpack iris:v3 -d /srv/model\n"
                  "  mlpack unpack iris-v3.mlpack -d out --role model --role preprocessing");
  struct Options {
    std::string ref;
    std::string dir;
    std::vector<std::string> roles;
    bool json = false;
    bool allow_unsigned = false;
    bool allow_unsafe = false;
  };
  auto o = std::make_shared<Options>();
  cmd->add_option("REF", o->ref, "The artifact or an archive file")->required();
  cmd->add_option("-d,--dir", o->dir, "Target folder (created if missing)")
      ->required()
      ->type_name("DIR");
  cmd->add_option("--role", o->roles, "Only files with this role (repeatable)")->type_name("ROLE");
  cmd->add_flag("--allow-unsigned", o->allow_unsigned,
                "From an archive: accept it unsigned or signed by a key you do not trust");
  cmd->add_flag("--allow-unsafe", o->allow_unsafe,
                "Write files the scan finds dangerous (they could run code when loaded)");
  cmd->add_flag("--json", o->json, "Print the result as JSON");
  cmd->callback([&ctx, o] {
    archive::RoleSet roles;
    for (const auto& r : o->roles) {
      if (!manifest::is_valid_role(r)) {
        throw UsageError("unknown role '" + r + "'; roles are " + manifest::kRoles);
      }
      roles.insert(r);
    }
    Artifact a = resolve_artifact(ctx, o->ref);
    if (a.archive_file) {
      // An archive needs no repository; the scan policy then comes from the
      // user's config alone.
      std::optional<store::Repository> repo;
      try {
        repo.emplace(ctx.open_repository());
      } catch (const NotFoundError&) {
      }
      archive::unpack_from_archive(*a.archive_file, o->dir, roles,
                                   make_head_check(o->allow_unsigned),
                                   make_scan_check(repo ? &*repo : nullptr, o->allow_unsafe));
    } else {
      const store::Repository repo = ctx.open_repository();
      archive::unpack_from_store(repo, a.manifest, o->dir, roles,
                                 make_scan_check(&repo, o->allow_unsafe));
    }
    json::Value files = json::Value::array();
    std::size_t count = 0;
    std::uint64_t bytes = 0;
    for (const auto& f : a.manifest.files) {
      if (!archive::wants(roles, f)) continue;
      files.push(f.path);
      ++count;
      bytes += f.size;
    }
    if (o->json) {
      json::Value out = json::Value::object();
      out.set("ref", o->ref);
      out.set("digest", "sha256:" + a.digest);
      out.set("dir", o->dir);
      out.set("files", std::move(files));
      print_json(out);
    } else {
      std::cout << "unpacked " << a.label() << " (" << count_of(count, "file") << ", "
                << text::format_size(bytes) << ") to " << o->dir << '\n';
    }
  });
}

}  // namespace mlpack::cli
