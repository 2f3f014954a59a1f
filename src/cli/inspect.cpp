#include <iostream>

#include "common.hpp"

namespace mlpack::cli {
namespace {

void print_section(const char* title, const YAML::Node& node) {
  if (!node.IsDefined() || node.IsNull()) return;
  YAML::Emitter out;
  manifest::emit_node(out, node);
  std::string text = out.c_str();
  std::cout << title << ":\n";
  std::size_t pos = 0;
  while (pos <= text.size()) {
    std::size_t eol = text.find('\n', pos);
    std::cout << "  " << text.substr(pos, eol == std::string::npos ? eol : eol - pos) << '\n';
    if (eol == std::string::npos) break;
    pos = eol + 1;
  }
}

}  // namespace

void register_inspect(CLI::App& app, Context& ctx) {
  auto* cmd = add_command(app, "inspect", "Show an artifact's files and metadata",
                          "  mlpack inspect iris:v3\n  mlpack inspect iris-v3.mlpack --json");
  struct Options {
    std::string ref;
    bool json = false;
  };
  auto o = std::make_shared<Options>();
  cmd->add_option("REF", o->ref, "NAME:VERSION, NAME@STAGE, sha256:<hex> or an archive file")
      ->required();
  cmd->add_flag("--json", o->json, "Print the result as JSON");
  cmd->callback([&ctx, o] {
    Artifact a = resolve_artifact(ctx, o->ref);
    const manifest::Manifest& m = a.manifest;
    if (o->json) {
      json::Value out = json::Value::object();
      out.set("ref", o->ref);
      out.set("digest", "sha256:" + a.digest);
      out.set("source", a.archive_file ? "archive" : "store");
      out.set("manifest", manifest::manifest_to_json(m));
      print_json(out);
      return;
    }
    std::cout << "artifact:  " << a.label() << '\n'
              << "digest:    sha256:" << a.digest << '\n'
              << "created:   " << m.created << '\n'
              << "tool:      mlpack " << m.tool_version << '\n';
    if (!m.git_commit.empty()) std::cout << "git:       " << m.git_commit << '\n';
    if (!m.description.empty()) std::cout << "about:     " << m.description << '\n';
    std::cout << "size:      " << format_size(m.total_size()) << " in "
              << count_of(m.files.size(), "file") << "\n\nfiles:\n";
    Table table({"  ROLE", "FORMAT", "SIZE", "SHA256", "PATH"});
    for (const auto& f : m.files) {
      table.add({"  " + f.role, f.format, format_size(f.size), f.sha256.substr(0, 12), f.path});
    }
    table.print();
    std::cout << '\n';
    print_section("model", m.model);
    print_section("preprocessing", m.preprocessing);
    print_section("metadata", m.metadata);
    print_section("environment", m.environment);
    print_section("params", m.params);
    print_section("metrics", m.metrics);
    print_section("metric_goals", m.metric_goals);
  });
}

}  // namespace mlpack::cli
