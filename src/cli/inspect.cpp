#include <iostream>

#include "common.hpp"
#include "mlpack/util/error.hpp"

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
    // inspect only reports on the signature; verify and every way in enforce it.
    json::Value signature = nullptr;
    std::string signature_line = "none (unsigned)";
    if (a.signature) {
      signature = json::Value::object();
      try {
        auto v = check_signature(a.manifest_bytes, a.signature, a.digest, a.label(), false);
        signature.set("valid", true);
        signature.set("key_id", v->key_id);
        signature.set("trusted_comment", v->trusted_comment);
        signature_line = "valid, by trusted key " + v->key_id;
      } catch (const IntegrityError& e) {
        signature.set("valid", false);
        signature.set("error", e.what());
        signature_line = std::string("NOT VERIFIED: ") + e.what();
      }
    }
    if (o->json) {
      json::Value out = json::Value::object();
      out.set("ref", o->ref);
      out.set("digest", "sha256:" + a.digest);
      out.set("source", a.archive_file ? "archive" : "store");
      out.set("signature", std::move(signature));
      out.set("manifest", manifest::manifest_to_json(m));
      print_json(out);
      return;
    }
    std::cout << "artifact:  " << a.label() << '\n'
              << "digest:    sha256:" << a.digest << '\n'
              << "created:   " << m.created << '\n'
              << "tool:      mlpack " << m.tool_version << '\n';
    if (!m.git_commit.empty()) std::cout << "git:       " << m.git_commit << '\n';
    std::cout << "signature: " << signature_line << '\n';
    if (!m.description.empty()) std::cout << "about:     " << m.description << '\n';
    std::cout << "size:      " << text::format_size(m.total_size()) << " in "
              << count_of(m.files.size(), "file") << "\n\nfiles:\n";
    Table table({"  ROLE", "FORMAT", "SIZE", "SHA256", "PATH"});
    for (const auto& f : m.files) {
      table.add(
          {"  " + f.role, f.format, text::format_size(f.size), f.sha256.substr(0, 12), f.path});
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
