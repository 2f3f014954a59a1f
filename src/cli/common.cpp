#include "common.hpp"

#include <cstdio>
#include <iostream>

#include "mlpack/archive/archive.hpp"
#include "mlpack/manifest/names.hpp"
#include "mlpack/util/error.hpp"

namespace mlpack::cli {

store::Repository Context::open_repository() const {
  if (global.dir) return store::Repository::open(std::filesystem::path(*global.dir));
  return store::Repository::open(std::nullopt);
}

std::string Artifact::label() const {
  return manifest.name + ":" + manifest.version;
}

Artifact resolve_artifact(const Context& ctx, const std::string& ref_text) {
  manifest::Ref ref = manifest::parse_ref(ref_text);
  if (ref.kind == manifest::Ref::Kind::kArchiveFile) {
    archive::ArchiveHead head = archive::read_archive_head(ref.file);
    return Artifact{head.digest, std::move(head.manifest), std::filesystem::path(ref.file),
                    ref_text};
  }
  store::Repository repo = ctx.open_repository();
  std::string digest = repo.resolve(ref);
  manifest::Manifest m = repo.read_manifest(digest);
  return Artifact{std::move(digest), std::move(m), std::nullopt, ref_text};
}

CLI::App* add_command(CLI::App& app, const std::string& name, const std::string& description,
                      const std::string& example) {
  CLI::App* cmd = app.add_subcommand(name, description);
  cmd->footer("\nExample:\n" + example);
  return cmd;
}

void print_json(const json::Value& value) {
  std::cout << value.dump(2) << std::flush;
}

std::string format_size(std::uint64_t bytes) {
  static const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(bytes);
  int unit = 0;
  while (v >= 1024 && unit < 4) {
    v /= 1024;
    ++unit;
  }
  char buf[32];
  if (unit == 0) {
    std::snprintf(buf, sizeof buf, "%llu B", static_cast<unsigned long long>(bytes));
  } else {
    std::snprintf(buf, sizeof buf, "%.1f %s", v, kUnits[unit]);
  }
  return buf;
}

std::string short_digest(const std::string& hex) {
  return "sha256:" + hex.substr(0, 12);
}

std::string count_of(std::size_t n, const std::string& noun) {
  return std::to_string(n) + " " + noun + (n == 1 ? "" : "s");
}

void Table::print() const {
  std::vector<std::size_t> widths;
  for (const auto& row : rows_) {
    if (widths.size() < row.size()) widths.resize(row.size(), 0);
    for (std::size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
  }
  for (const auto& row : rows_) {
    std::string line;
    for (std::size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line.append(widths[i] - row[i].size() + 2, ' ');
    }
    std::cout << line << '\n';
  }
}

std::vector<std::pair<std::string, std::string>> flatten_scalars(const YAML::Node& node) {
  std::vector<std::pair<std::string, std::string>> out;
  std::function<void(const YAML::Node&, const std::string&)> walk = [&](const YAML::Node& n,
                                                                        const std::string& prefix) {
    if (!n.IsMap()) return;
    for (const auto& kv : n) {
      const std::string key = prefix.empty() ? kv.first.Scalar() : prefix + "." + kv.first.Scalar();
      if (kv.second.IsScalar()) {
        out.emplace_back(key, kv.second.Scalar());
      } else if (kv.second.IsMap()) {
        walk(kv.second, key);
      }
    }
  };
  walk(node, "");
  return out;
}

}  // namespace mlpack::cli
