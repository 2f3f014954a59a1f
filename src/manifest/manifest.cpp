#include "mlpack/manifest/manifest.hpp"

#include <algorithm>
#include <array>

#include "mlpack/manifest/names.hpp"
#include "mlpack/util/error.hpp"
#include "mlpack/util/hex.hpp"

namespace mlpack::manifest {
namespace {

constexpr std::array<std::string_view, 8> kRoleList = {
    "model", "preprocessing", "metadata", "requirements", "code", "data", "docs", "other"};

bool is_present(const YAML::Node& n) {
  return n.IsDefined() && !n.IsNull();
}

std::string scalar_or_empty(const YAML::Node& n) {
  return n.IsDefined() && n.IsScalar() ? n.Scalar() : std::string();
}

void emit_string(YAML::Emitter& out, const std::string& s) {
  // Quote strings that a YAML reader would take for another type, so the
  // manifest reads back exactly (a version "1.0" stays a string).
  bool ambiguous = json::is_number(s) || s == "true" || s == "false" || s == "null" || s == "~" ||
                   s.empty() || s == "yes" || s == "no";
  if (ambiguous) out << YAML::DoubleQuoted;
  out << s;
}

}  // namespace

bool is_valid_role(std::string_view role) {
  return std::find(kRoleList.begin(), kRoleList.end(), role) != kRoleList.end();
}

std::uint64_t Manifest::total_size() const {
  std::uint64_t total = 0;
  for (const auto& f : files) total += f.size;
  return total;
}

bool is_safe_relative_path(std::string_view path) {
  if (path.empty() || path.size() > 4096 || path.front() == '/') return false;
  std::size_t start = 0;
  for (;;) {
    std::size_t slash = path.find('/', start);
    std::string_view part =
        path.substr(start, slash == std::string_view::npos ? slash : slash - start);
    if (part.empty() || part == "." || part == "..") return false;
    for (char c : part) {
      if (c == '\\' || c == '\0') return false;
    }
    if (slash == std::string_view::npos) return true;
    start = slash + 1;
  }
}

void emit_node(YAML::Emitter& out, const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Undefined:
    case YAML::NodeType::Null:
      out << YAML::Null;
      break;
    case YAML::NodeType::Scalar:
      if (node.Tag() == "!") {
        // Quoted in the source: keep it quoted so every YAML reader agrees it is a string.
        out << YAML::DoubleQuoted << node.Scalar();
      } else {
        out << node.Scalar();
      }
      break;
    case YAML::NodeType::Sequence:
      out << YAML::BeginSeq;
      for (const auto& item : node) emit_node(out, item);
      out << YAML::EndSeq;
      break;
    case YAML::NodeType::Map:
      out << YAML::BeginMap;
      for (const auto& kv : node) {
        out << YAML::Key;
        // Keys are names, not values: quote only when a reader would mistake them.
        if (kv.first.IsScalar()) {
          emit_string(out, kv.first.Scalar());
        } else {
          emit_node(out, kv.first);
        }
        out << YAML::Value;
        emit_node(out, kv.second);
      }
      out << YAML::EndMap;
      break;
  }
}

std::string write_manifest(Manifest m) {
  std::sort(m.files.begin(), m.files.end(),
            [](const FileEntry& a, const FileEntry& b) { return a.path < b.path; });
  YAML::Emitter out;
  out << YAML::BeginMap;
  out << YAML::Key << "apiVersion" << YAML::Value << kApiVersion;
  out << YAML::Key << "kind" << YAML::Value << "Manifest";
  out << YAML::Key << "name" << YAML::Value;
  emit_string(out, m.name);
  out << YAML::Key << "version" << YAML::Value;
  emit_string(out, m.version);
  if (!m.description.empty()) {
    out << YAML::Key << "description" << YAML::Value;
    emit_string(out, m.description);
  }
  out << YAML::Key << "created" << YAML::Value;
  emit_string(out, m.created);
  out << YAML::Key << "tool" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "name" << YAML::Value << "mlpack";
  out << YAML::Key << "version" << YAML::Value;
  emit_string(out, m.tool_version);
  out << YAML::EndMap;
  if (!m.git_commit.empty()) {
    out << YAML::Key << "source" << YAML::Value << YAML::BeginMap;
    out << YAML::Key << "git_commit" << YAML::Value << m.git_commit;
    out << YAML::EndMap;
  }
  const std::pair<const char*, const YAML::Node*> sections[] = {{"model", &m.model},
                                                                {"preprocessing", &m.preprocessing},
                                                                {"metadata", &m.metadata},
                                                                {"environment", &m.environment},
                                                                {"params", &m.params},
                                                                {"metrics", &m.metrics},
                                                                {"metric_goals", &m.metric_goals}};
  for (const auto& [key, node] : sections) {
    if (!is_present(*node)) continue;
    out << YAML::Key << key << YAML::Value;
    emit_node(out, *node);
  }
  out << YAML::Key << "files" << YAML::Value << YAML::BeginSeq;
  for (const auto& f : m.files) {
    out << YAML::BeginMap;
    out << YAML::Key << "path" << YAML::Value;
    emit_string(out, f.path);
    out << YAML::Key << "role" << YAML::Value << f.role;
    out << YAML::Key << "size" << YAML::Value << f.size;
    out << YAML::Key << "sha256" << YAML::Value << f.sha256;
    out << YAML::Key << "format" << YAML::Value << f.format;
    if (f.scan) {
      out << YAML::Key << "scan" << YAML::Value << YAML::BeginMap;
      out << YAML::Key << "scanner" << YAML::Value;
      emit_string(out, f.scan->scanner);
      out << YAML::Key << "verdict" << YAML::Value << f.scan->verdict;
      out << YAML::Key << "findings" << YAML::Value << YAML::Flow << YAML::BeginSeq;
      for (const auto& finding : f.scan->findings) {
        out << YAML::BeginMap;
        out << YAML::Key << "severity" << YAML::Value << finding.severity;
        out << YAML::Key << "kind" << YAML::Value << finding.kind;
        out << YAML::Key << "detail" << YAML::Value;
        emit_string(out, finding.detail);
        if (!finding.member.empty()) {
          out << YAML::Key << "member" << YAML::Value;
          emit_string(out, finding.member);
        }
        out << YAML::EndMap;
      }
      out << YAML::EndSeq << YAML::EndMap;
    }
    out << YAML::EndMap;
  }
  out << YAML::EndSeq;
  out << YAML::EndMap;
  if (!out.good()) throw RuntimeError("cannot write manifest: " + out.GetLastError());
  return std::string(out.c_str()) + "\n";
}

Manifest read_manifest(std::string_view bytes, std::string_view origin) {
  const std::string where(origin);
  auto bad = [&](const std::string& what) -> IntegrityError {
    return IntegrityError("malformed manifest " + where + ": " + what);
  };
  YAML::Node doc;
  try {
    doc = YAML::Load(std::string(bytes));
  } catch (const YAML::Exception& e) {
    throw bad("line " + std::to_string(e.mark.line + 1) + ": " + e.msg);
  }
  if (!doc.IsMap()) throw bad("not a YAML mapping");
  if (scalar_or_empty(doc["apiVersion"]) != kApiVersion) {
    throw bad("apiVersion is not " + std::string(kApiVersion));
  }
  if (scalar_or_empty(doc["kind"]) != "Manifest") throw bad("kind is not Manifest");
  Manifest m;
  m.name = scalar_or_empty(doc["name"]);
  m.version = scalar_or_empty(doc["version"]);
  if (!is_valid_name(m.name)) throw bad("invalid name '" + m.name + "'");
  if (!is_valid_version(m.version)) throw bad("invalid version '" + m.version + "'");
  m.description = scalar_or_empty(doc["description"]);
  m.created = scalar_or_empty(doc["created"]);
  if (doc["tool"].IsMap()) m.tool_version = scalar_or_empty(doc["tool"]["version"]);
  if (doc["source"].IsMap()) m.git_commit = scalar_or_empty(doc["source"]["git_commit"]);
  m.model = doc["model"];
  m.preprocessing = doc["preprocessing"];
  m.metadata = doc["metadata"];
  m.environment = doc["environment"];
  m.params = doc["params"];
  m.metrics = doc["metrics"];
  m.metric_goals = doc["metric_goals"];
  const YAML::Node files = doc["files"];
  if (!files.IsSequence()) throw bad("files is not a list");
  std::string previous;
  for (const auto& f : files) {
    if (!f.IsMap()) throw bad("a files entry is not a mapping");
    FileEntry e;
    e.path = scalar_or_empty(f["path"]);
    e.role = scalar_or_empty(f["role"]);
    e.sha256 = scalar_or_empty(f["sha256"]);
    e.format = scalar_or_empty(f["format"]);
    if (const YAML::Node scan = f["scan"]; scan) {
      if (!scan.IsMap()) throw bad("the scan of " + e.path + " is not a mapping");
      ScanRecord record;
      record.scanner = scalar_or_empty(scan["scanner"]);
      record.verdict = scalar_or_empty(scan["verdict"]);
      if (record.verdict != "clean" && record.verdict != "unknown" &&
          record.verdict != "dangerous") {
        throw bad("unknown scan verdict '" + record.verdict + "' for " + e.path);
      }
      const YAML::Node findings = scan["findings"];
      if (findings && !findings.IsSequence()) throw bad("scan findings of " + e.path + " are not a list");
      for (const auto& item : findings) {
        if (!item.IsMap()) throw bad("a scan finding of " + e.path + " is not a mapping");
        record.findings.push_back({scalar_or_empty(item["severity"]), scalar_or_empty(item["kind"]),
                                   scalar_or_empty(item["detail"]), scalar_or_empty(item["member"])});
      }
      e.scan = std::move(record);
    }
    if (!is_safe_relative_path(e.path)) throw bad("unsafe file path '" + e.path + "'");
    if (!previous.empty() && e.path <= previous) throw bad("files are not sorted and unique");
    previous = e.path;
    if (!is_valid_role(e.role)) throw bad("unknown role '" + e.role + "' for " + e.path);
    if (e.sha256.size() != 64 || !hex::is_lower_hex(e.sha256)) {
      throw bad("bad sha256 for " + e.path);
    }
    try {
      e.size = f["size"].as<std::uint64_t>();
    } catch (const YAML::Exception&) {
      throw bad("bad size for " + e.path);
    }
    m.files.push_back(std::move(e));
  }
  return m;
}

bool same_content(const Manifest& a, const Manifest& b) {
  Manifest x = a;
  Manifest y = b;
  x.created.clear();
  y.created.clear();
  x.tool_version.clear();
  y.tool_version.clear();
  // Derived from the bytes by whichever scanner ran: same files, same content.
  for (auto& f : x.files) f.scan.reset();
  for (auto& f : y.files) f.scan.reset();
  return write_manifest(std::move(x)) == write_manifest(std::move(y));
}

json::Value yaml_to_json(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Undefined:
    case YAML::NodeType::Null:
      return nullptr;
    case YAML::NodeType::Scalar: {
      const std::string& s = node.Scalar();
      if (node.Tag() == "!") return s;
      if (s == "true" || s == "True" || s == "TRUE") return true;
      if (s == "false" || s == "False" || s == "FALSE") return false;
      if (s == "null" || s == "Null" || s == "NULL" || s == "~") return nullptr;
      if (json::is_number(s)) return json::Number{s};
      return s;
    }
    case YAML::NodeType::Sequence: {
      json::Value arr = json::Value::array();
      for (const auto& item : node) arr.push(yaml_to_json(item));
      return arr;
    }
    case YAML::NodeType::Map: {
      json::Value obj = json::Value::object();
      for (const auto& kv : node) obj.set(kv.first.Scalar(), yaml_to_json(kv.second));
      return obj;
    }
  }
  return nullptr;
}

json::Value manifest_to_json(const Manifest& m) {
  json::Value j = json::Value::object();
  j.set("name", m.name);
  j.set("version", m.version);
  j.set("description", m.description);
  j.set("created", m.created);
  j.set("tool_version", m.tool_version);
  j.set("git_commit", m.git_commit.empty() ? json::Value() : json::Value(m.git_commit));
  j.set("model", yaml_to_json(m.model));
  j.set("preprocessing", yaml_to_json(m.preprocessing));
  j.set("metadata", yaml_to_json(m.metadata));
  j.set("environment", yaml_to_json(m.environment));
  j.set("params", yaml_to_json(m.params));
  j.set("metrics", yaml_to_json(m.metrics));
  j.set("metric_goals", yaml_to_json(m.metric_goals));
  j.set("files", files_to_json(m.files));
  j.set("size", m.total_size());
  return j;
}

json::Value files_to_json(const std::vector<FileEntry>& entries) {
  json::Value files = json::Value::array();
  for (const auto& f : entries) {
    json::Value e = json::Value::object();
    e.set("path", f.path);
    e.set("role", f.role);
    e.set("size", f.size);
    e.set("sha256", f.sha256);
    e.set("format", f.format);
    if (f.scan) {
      json::Value scan = json::Value::object();
      scan.set("scanner", f.scan->scanner);
      scan.set("verdict", f.scan->verdict);
      json::Value findings = json::Value::array();
      for (const auto& finding : f.scan->findings) {
        json::Value item = json::Value::object();
        item.set("severity", finding.severity);
        item.set("kind", finding.kind);
        item.set("detail", finding.detail);
        item.set("member", finding.member.empty() ? json::Value() : json::Value(finding.member));
        findings.push(std::move(item));
      }
      scan.set("findings", std::move(findings));
      e.set("scan", std::move(scan));
    } else {
      e.set("scan", json::Value());
    }
    files.push(std::move(e));
  }
  return files;
}

}  // namespace mlpack::manifest
