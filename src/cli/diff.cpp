#include <unistd.h>

#include <cstdlib>
#include <iostream>

#include "common.hpp"
#include "mlpack/diff/diff.hpp"
#include "mlpack/diff/fail_on.hpp"
#include "mlpack/util/error.hpp"
#include "mlpack/util/text.hpp"

namespace mlpack::cli {
namespace {

using diff::Status;

// Colour is for people at a terminal; a pipe or a CI log gets plain text.
bool use_colour() {
  const char* no_colour = std::getenv("NO_COLOR");
  const char* term = std::getenv("TERM");
  return isatty(STDOUT_FILENO) && !(no_colour && *no_colour) &&
         !(term && std::string(term) == "dumb");
}

// Manifest values come from whoever packed the artifact.
std::string cell(const std::string& value) {
  return text::escape_control(value);
}

std::string leaf_text(const std::optional<diff::Leaf>& leaf) {
  return leaf ? cell(leaf->text) : "-";
}

// "2 changed, 1 added"; "none" when the section is empty on both sides.
template <typename Entries>
std::string headline(const Entries& entries) {
  const diff::Counts c = diff::Diff::counts(entries);
  std::vector<std::string> parts;
  if (c.added) parts.push_back(std::to_string(c.added) + " added");
  if (c.removed) parts.push_back(std::to_string(c.removed) + " removed");
  if (c.changed) parts.push_back(std::to_string(c.changed) + " changed");
  if (c.unchanged) parts.push_back(std::to_string(c.unchanged) + " unchanged");
  if (parts.empty()) return "none";
  std::string out;
  for (std::size_t i = 0; i < parts.size(); ++i) out += (i ? ", " : "") + parts[i];
  return out;
}

class Printer {
 public:
  explicit Printer(bool colour) : colour_(colour) {}

  // Verdicts and breaking changes are always the last column, which Table
  // does not pad, so escape codes never skew the alignment.
  std::string paint(const std::string& text, diff::Verdict verdict) const {
    if (!colour_ || verdict == diff::Verdict::kNone || verdict == diff::Verdict::kUnchanged)
      return text;
    const char* code = verdict == diff::Verdict::kBetter ? "\x1b[32m" : "\x1b[31m";
    return code + text + "\x1b[0m";
  }

  void header(const Artifact& a, const Artifact& b) const {
    Table t({"a", a.label(), short_digest(a.digest), cell(a.manifest.created),
             a.signature ? "signed" : "unsigned"});
    t.add({"b", b.label(), short_digest(b.digest), cell(b.manifest.created),
           b.signature ? "signed" : "unsigned"});
    t.print();
    if (a.digest == b.digest) std::cout << "identical: both refs name the same manifest\n";
  }

  void metrics(const diff::Diff& d) const {
    std::cout << "\nmetrics: " << headline(d.metrics) << '\n';
    if (d.metrics.empty()) return;
    Table t({"  METRIC", "OLD", "NEW", "CHANGE", "CHANGE%", "GOAL", "VERDICT"});
    for (const auto& m : d.metrics) {
      std::string pct = "-";
      if (m.rel_change_pct) {
        pct = diff::signed_percent(*m.rel_change_pct, 2);
      } else if (m.abs_change) {
        pct = "n/a";  // old value 0
      }
      const std::string change = m.abs_change ? diff::signed_text(m) : "-";
      const std::string verdict = m.verdict == diff::Verdict::kNone
                                      ? std::string(diff::status_name(m.status))
                                      : std::string(diff::verdict_name(m.verdict));
      t.add({"  " + cell(m.key), leaf_text(m.old_value), leaf_text(m.new_value), change, pct,
             m.goal.empty() ? "-" : m.goal, paint(verdict, m.verdict)});
    }
    t.print();
  }

  // Params, metadata and environment: only what differs.
  void values(const char* title, const std::vector<diff::ValueChange>& values) const {
    std::cout << '\n' << title << ": " << headline(values) << '\n';
    Table t({"  STATUS", "KEY", "OLD", "NEW"});
    for (const auto& v : values) {
      if (v.status == Status::kUnchanged) continue;
      t.add({"  " + std::string(diff::status_name(v.status)), cell(v.key), leaf_text(v.old_value),
             leaf_text(v.new_value)});
    }
    if (!t.empty()) t.print();
  }

  void schema(const diff::Diff& d) const {
    const diff::Counts c = diff::Diff::counts(d.schema);
    std::cout << "\ninput schema: ";
    if (d.schema.empty()) {
      std::cout << "none\n";
      return;
    }
    if (!c.any_change()) {
      std::cout << "unchanged (" << count_of(c.unchanged, "column") << ")\n";
      return;
    }
    const std::size_t breaking = c.added + c.removed + c.changed;
    std::cout << count_of(breaking, "breaking change");
    if (c.unchanged) std::cout << ", " << c.unchanged << " unchanged";
    std::cout << '\n';
    const auto type = [](const std::optional<std::string>& t) { return t ? cell(*t) : "-"; };
    const auto position = [](const std::optional<std::size_t>& i) {
      return i ? std::to_string(*i + 1) : "-";
    };
    Table t({"  STATUS", "COLUMN", "OLD TYPE", "NEW TYPE", "POSITION", "BREAKS"});
    for (const auto& col : d.schema) {
      if (col.status == Status::kUnchanged) continue;
      std::string what;
      switch (col.status) {
        case Status::kAdded:
          what = "new input";
          break;
        case Status::kRemoved:
          what = "input dropped";
          break;
        default:
          what = col.type_changed() ? "type changed" : "";
          if (col.moved) what += std::string(what.empty() ? "" : ", ") + "order changed";
      }
      const std::string pos = col.old_index && col.new_index && *col.old_index != *col.new_index
                                  ? position(col.old_index) + " -> " + position(col.new_index)
                                  : position(col.new_index ? col.new_index : col.old_index);
      t.add({"  " + std::string(diff::status_name(col.status)), cell(col.name), type(col.old_type),
             type(col.new_type), pos, paint(what, diff::Verdict::kWorse)});
    }
    t.print();
  }

  void files(const diff::Diff& d) const {
    std::cout << "\nfiles: " << headline(d.files) << '\n';
    if (d.files.empty()) return;
    Table t({"  STATUS", "PATH", "ROLE", "SIZE", "DELTA", "SHA256"});
    for (const auto& f : d.files) {
      const manifest::FileEntry& shown = f.new_file ? *f.new_file : *f.old_file;
      std::string role = shown.role;
      std::string digest = shown.sha256.substr(0, 12);
      if (f.old_file && f.new_file) {
        if (f.old_file->role != f.new_file->role) role = f.old_file->role + " -> " + role;
        if (f.old_file->sha256 != f.new_file->sha256) {
          digest = f.old_file->sha256.substr(0, 12) + " -> " + digest;
        }
      }
      const std::int64_t delta = f.size_delta();
      std::string delta_text =
          text::format_size(static_cast<std::uint64_t>(delta < 0 ? -delta : delta));
      if (delta != 0) delta_text = (delta < 0 ? "-" : "+") + delta_text;
      t.add({"  " + std::string(diff::status_name(f.status)), cell(f.path), role,
             text::format_size(shown.size), delta_text, digest});
    }
    t.print();
  }

  void gates(const std::vector<diff::GateResult>& results) const {
    if (results.empty()) return;
    std::size_t held = 0;
    for (const auto& r : results) held += r.held;
    std::cout << "\nfail-on: " << held << " of " << results.size() << " held\n";
    Table t({"  RESULT", "EXPR", "DETAIL"});
    for (const auto& r : results) {
      t.add({r.held ? "  HELD" : "  passed", cell(r.expr),
             paint(cell(r.detail), r.held ? diff::Verdict::kWorse : diff::Verdict::kNone)});
    }
    t.print();
  }

 private:
  bool colour_;
};

diff::SideInfo side_info(const Artifact& a) {
  return diff::SideInfo{a.ref_text,
                        a.digest,
                        a.manifest.created,
                        a.manifest.name,
                        a.manifest.version,
                        a.archive_file ? "archive" : "store",
                        a.signature.has_value()};
}

}  // namespace

void register_diff(CLI::App& app, Context& ctx) {
  auto* cmd = add_command(
      app, "diff", "Compare two artifacts: metrics, params, input schema, metadata, files",
      "  mlpack diff iris:v3 iris:v4\n"
      "  mlpack diff iris@production iris-v4.mlpack --json\n"
      "  mlpack diff iris@production iris:v4 --fail-on any-metric-regression \\\n"
      "      --fail-on schema-change --fail-on 'accuracy<-0.01'   # exit 6 when one holds");
  struct Options {
    std::string ref_a;
    std::string ref_b;
    std::vector<std::string> fail_on;
    bool json = false;
  };
  auto o = std::make_shared<Options>();
  cmd->add_option("REF_A", o->ref_a, "The baseline: any REF or an archive file")->required();
  cmd->add_option("REF_B", o->ref_b, "The candidate: any REF or an archive file")->required();
  cmd->add_option("--fail-on", o->fail_on,
                  "Exit 6 when EXPR holds (repeatable): METRIC<-N, METRIC<-N%, METRIC>+N, "
                  "METRIC>+N%, also <= and >=, schema-change, any-metric-regression")
      ->type_name("EXPR")
      ->allow_extra_args(false);
  cmd->add_flag("--json", o->json, "Print the result as JSON");
  cmd->callback([&ctx, o] {
    // Every expression is checked before any ref is resolved: a typo in a CI
    // gate fails fast, before a download or a repository lookup.
    std::vector<diff::FailOn> gates;
    for (const auto& text : o->fail_on) gates.push_back(diff::parse_fail_on(text));

    // Only reads: an unsigned or untrusted archive can be compared (the JSON
    // says which sides are signed); import and verify are where trust is enforced.
    const Artifact a = resolve_artifact(ctx, o->ref_a);
    const Artifact b = resolve_artifact(ctx, o->ref_b);
    const diff::Diff d = diff::compare(a.manifest, b.manifest);

    std::vector<diff::GateResult> results;
    for (const auto& g : gates) results.push_back(diff::evaluate(g, d));

    if (o->json) {
      json::Value out = diff::to_json(d, side_info(a), side_info(b));
      out.set("fail_on", diff::gates_to_json(results));
      print_json(out);
    } else {
      const Printer p(use_colour());
      p.header(a, b);
      p.metrics(d);
      p.values("params", d.params);
      p.schema(d);
      p.values("metadata", d.metadata);
      p.values("environment", d.environment);
      p.files(d);
      p.gates(results);
      std::cout << std::flush;
    }

    std::vector<std::string> held;
    for (const auto& r : results) {
      if (r.held) held.push_back(r.expr + " (" + r.detail + ")");
    }
    if (!held.empty()) {
      std::string message = "--fail-on: " + std::to_string(held.size()) + " of " +
                            std::to_string(results.size()) + " held: ";
      for (std::size_t i = 0; i < held.size(); ++i) message += (i ? "; " : "") + held[i];
      throw Error(ExitCode::kGate, message);
    }
  });
}

}  // namespace mlpack::cli
