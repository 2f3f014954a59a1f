#include <filesystem>
#include <iostream>

#include "common.hpp"
#include "mlpack/scan/scan.hpp"
#include "mlpack/util/error.hpp"
#include "mlpack/util/fs.hpp"
#include "mlpack/util/log.hpp"

namespace mlpack::cli {

namespace {

namespace stdfs = std::filesystem;

struct ScannedFile {
  std::string label;  // what the user knows it by: a path, or REF:path
  scan::Report report;
};

json::Value finding_json(const scan::Finding& f) {
  json::Value out = json::Value::object();
  out.set("severity", std::string(scan::severity_name(f.severity)));
  out.set("kind", f.kind);
  out.set("detail", f.detail);
  out.set("member", f.member.empty() ? json::Value() : json::Value(f.member));
  return out;
}

json::Value file_json(const ScannedFile& s) {
  json::Value out = json::Value::object();
  out.set("path", s.label);
  out.set("format", s.report.format);
  out.set("scanned", s.report.scanned);
  out.set("verdict", std::string(scan::verdict_name(s.report.verdict())));
  json::Value findings = json::Value::array();
  for (const auto& f : s.report.findings) findings.push(finding_json(f));
  out.set("findings", std::move(findings));
  json::Value globals = json::Value::array();
  for (const auto& g : s.report.globals) globals.push(g);
  out.set("globals", std::move(globals));
  return out;
}

void print_human(const ScannedFile& s) {
  const scan::Report& r = s.report;
  std::cout << s.label << ": " << r.format << ", ";
  if (!r.scanned) {
    std::cout << "nothing to scan (cannot carry code)\n";
    return;
  }
  std::cout << scan::verdict_name(r.verdict());
  if (!r.globals.empty()) std::cout << " (" << count_of(r.globals.size(), "global") << ")";
  std::cout << '\n';
  for (const auto& f : r.findings) {
    std::cout << "  " << scan::severity_name(f.severity) << "  " << f.kind << "  "
              << text::escape_control(f.detail);
    if (!f.member.empty()) std::cout << "  in " << text::escape_control(f.member);
    std::cout << '\n';
  }
}

// The files of an artifact: straight from the store's objects, or unpacked
// (verified) from an exported archive into a temporary folder.
void scan_artifact(const Context& ctx, const std::string& ref_text, std::vector<ScannedFile>& out) {
  Artifact a = resolve_artifact(ctx, ref_text);
  const std::string label = a.label();
  if (a.archive_file) {
    fs::TempDir tmp(stdfs::temp_directory_path(), "mlpack-scan-");
    const stdfs::path dir = tmp.path() / "files";
    archive::unpack_from_archive(*a.archive_file, dir, {}, nullptr);
    for (const auto& f : a.manifest.files) {
      out.push_back({label + ":" + f.path, scan::scan_file(dir / f.path, f.path)});
    }
    return;
  }
  store::Repository repo = ctx.open_repository();
  for (const auto& f : a.manifest.files) {
    out.push_back({label + ":" + f.path, scan::scan_file(repo.object_path(f.sha256), f.path)});
  }
}

bool is_artifact_archive(const stdfs::path& file) {
  try {
    (void)archive::read_archive_head(file);
    return true;
  } catch (const Error&) {
    return false;
  }
}

}  // namespace

void register_scan(CLI::App& app, Context& ctx) {
  auto* cmd = add_command(
      app, "scan",
      "Check model files for code they would run when loaded (pickle globals, Lambda layers, ...)",
      "  mlpack scan model.joblib\n  mlpack scan iris:v3 --json\n  mlpack scan checkpoint.pt "
      "--strict");
  struct Options {
    std::vector<std::string> targets;
    bool json = false;
    bool strict = false;
  };
  auto o = std::make_shared<Options>();
  cmd->add_option("TARGET", o->targets,
                  "A model file, an exported archive, or any REF (repeatable)")
      ->required();
  cmd->add_flag("--strict", o->strict, "Treat globals on neither list as dangerous (exit 3)");
  cmd->add_flag("--json", o->json, "Print the result as JSON");
  cmd->callback([&ctx, o] {
    std::vector<ScannedFile> scanned;
    for (const auto& target : o->targets) {
      std::error_code ec;
      const stdfs::path path(target);
      if (stdfs::is_regular_file(path, ec) && !is_artifact_archive(path)) {
        scanned.push_back({target, scan::scan_file(path, path.filename().string())});
      } else if (stdfs::is_directory(path, ec)) {
        throw UsageError(target + " is a folder: scan its files, or pack it and scan the REF");
      } else {
        scan_artifact(ctx, target, scanned);
      }
    }

    std::size_t dangerous = 0;
    std::size_t unknown = 0;
    std::string first_dangerous;
    for (const auto& s : scanned) {
      const scan::Verdict v = s.report.verdict();
      if (v == scan::Verdict::kDangerous || (o->strict && v == scan::Verdict::kUnknown)) {
        ++dangerous;
        if (first_dangerous.empty()) {
          for (const auto& f : s.report.findings) {
            if (f.severity == scan::Severity::kDangerous || o->strict) {
              first_dangerous = s.label + " (" + f.detail + ")";
              break;
            }
          }
        }
      } else if (v == scan::Verdict::kUnknown) {
        ++unknown;
      }
    }
    if (o->json) {
      json::Value files = json::Value::array();
      for (const auto& s : scanned) files.push(file_json(s));
      json::Value out = json::Value::object();
      out.set("scanner_version", std::string(scan::kScannerVersion));
      out.set("strict", o->strict);
      out.set("verdict", dangerous ? "dangerous" : unknown ? "unknown" : "clean");
      out.set("files", std::move(files));
      print_json(out);
    } else {
      for (const auto& s : scanned) print_human(s);
    }
    if (dangerous) {
      throw IntegrityError(count_of(dangerous, "file") + " could run code when loaded, first " +
                           text::escape_control(first_dangerous) + ": do not load it");
    }
    if (unknown) {
      log::warn(count_of(unknown, "file") +
                " imports globals on neither list (see above); --strict refuses them");
    }
  });
}

}  // namespace mlpack::cli
