#include "mlpack/manifest/spec.hpp"

#include <algorithm>
#include <cstdlib>
#include <ctime>
#include <map>

#include "mlpack/manifest/manifest.hpp"
#include "mlpack/manifest/names.hpp"
#include "mlpack/util/error.hpp"
#include "mlpack/util/fs.hpp"
#include "mlpack/util/log.hpp"

namespace mlpack::manifest {
namespace stdfs = std::filesystem;
namespace {

// Messages name the spec file and the 1-based line of the offending node.
struct SpecContext {
  std::string file;  // "mlpack.yaml" or "command line"

  UsageError error(const YAML::Node& node, const std::string& what) const {
    std::string where = file;
    if (node.IsDefined() && node.Mark().line >= 0 && !node.Mark().is_null()) {
      where += ":" + std::to_string(node.Mark().line + 1);
    }
    return UsageError(where + ": " + what);
  }

  std::string string_field(const YAML::Node& parent, const char* key,
                           const std::string& path) const {
    const YAML::Node n = parent[key];
    if (!n.IsDefined() || n.IsNull()) return "";
    if (!n.IsScalar()) throw error(n, path + " must be a string");
    return n.Scalar();
  }
};

YAML::Node load_yaml_file(const stdfs::path& path) {
  std::string text;
  try {
    text = fs::read_file(path);
  } catch (const NotFoundError&) {
    throw NotFoundError("file not found: " + path.string());
  }
  try {
    return YAML::Load(text);
  } catch (const YAML::ParserException& e) {
    throw UsageError(path.string() + ":" + std::to_string(e.mark.line + 1) + ":" +
                     std::to_string(e.mark.column + 1) + ": malformed YAML/JSON: " + e.msg);
  }
}

// Later values win; maps merge key by key.
YAML::Node merge(const YAML::Node& base, const YAML::Node& over) {
  if (!over.IsDefined() || over.IsNull()) return base;
  if (!base.IsDefined() || base.IsNull() || !base.IsMap() || !over.IsMap())
    return YAML::Clone(over);
  YAML::Node out = YAML::Clone(base);
  for (const auto& kv : over) {
    const std::string key = kv.first.Scalar();
    out[key] = merge(out[key], kv.second);
  }
  return out;
}

YAML::Node parse_scalar_value(const std::string& value) {
  try {
    YAML::Node n = YAML::Load(value);
    if (n.IsScalar() || n.IsNull()) return n.IsNull() && !value.empty() ? YAML::Node(value) : n;
    return n;  // inline lists and maps: --set model.tags=[a,b]
  } catch (const YAML::Exception&) {
    YAML::Node n(value);
    n.SetTag("!");
    return n;
  }
}

void apply_set(YAML::Node& doc, const std::string& assignment) {
  std::size_t eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0) {
    throw UsageError("--set '" + assignment +
                     "' is not KEY=VALUE (for example metrics.accuracy=0.97)");
  }
  std::string key = assignment.substr(0, eq);
  std::vector<std::string> parts;
  for (std::size_t start = 0;;) {
    std::size_t dot = key.find('.', start);
    parts.push_back(key.substr(start, dot == std::string::npos ? dot : dot - start));
    if (parts.back().empty()) throw UsageError("--set '" + assignment + "': empty key segment");
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  // yaml-cpp nodes are handles; walking with operator[] on copies edits doc in place.
  std::vector<YAML::Node> chain{doc};
  for (std::size_t i = 0; i + 1 < parts.size(); ++i) {
    YAML::Node next = chain.back()[parts[i]];
    if (!next.IsDefined() || next.IsNull() || !next.IsMap()) {
      chain.back()[parts[i]] = YAML::Node(YAML::NodeType::Map);
      next = chain.back()[parts[i]];
    }
    chain.push_back(next);
  }
  chain.back()[parts.back()] = parse_scalar_value(assignment.substr(eq + 1));
}

std::string artifact_path_for(const stdfs::path& base, const stdfs::path& source) {
  std::error_code ec;
  stdfs::path abs_base = stdfs::weakly_canonical(base, ec);
  stdfs::path abs_source = stdfs::weakly_canonical(source, ec);
  stdfs::path rel = abs_source.lexically_relative(abs_base);
  std::string s = rel.generic_string();
  if (rel.empty() || s == "." || s.starts_with("../") || s == "..") {
    return abs_source.filename().generic_string();
  }
  return s;
}

class FileCollector {
 public:
  FileCollector(stdfs::path base, const SpecContext& ctx) : base_(std::move(base)), ctx_(ctx) {}

  // Adds a file, or every regular file under a folder; returns the artifact path.
  std::string add(const std::string& given, const std::string& role, const std::string& format,
                  const YAML::Node& where) {
    stdfs::path source = stdfs::path(given).is_absolute() ? stdfs::path(given) : base_ / given;
    std::error_code ec;
    auto st = stdfs::status(source, ec);
    if (ec || !stdfs::exists(st)) {
      // Nodes set from flags carry no mark: blame the command line, not the spec.
      const bool from_spec = where.IsDefined() && !where.Mark().is_null();
      throw NotFoundError(
          (from_spec ? ctx_.file + ":" + std::to_string(where.Mark().line + 1) : "command line") +
          ": " + role + " file not found: " + source.string());
    }
    std::string top = artifact_path_for(base_, source);
    if (stdfs::is_regular_file(st)) {
      add_one(source, top, role, format);
    } else if (stdfs::is_directory(st)) {
      std::vector<stdfs::path> found;
      for (auto it = stdfs::recursive_directory_iterator(source);
           it != stdfs::recursive_directory_iterator(); ++it) {
        const auto name = it->path().filename().string();
        if (it->is_directory() && (name == ".git" || name == ".mlpack" || name == "__pycache__")) {
          it.disable_recursion_pending();
          continue;
        }
        if (it->is_symlink() && it->is_directory()) {
          log::warn("skipping symlinked folder " + it->path().string());
          it.disable_recursion_pending();
          continue;
        }
        if (it->is_regular_file()) {
          found.push_back(it->path());
        } else if (!it->is_directory()) {
          throw ctx_.error(where, "cannot pack special file " + it->path().string() +
                                      ": only regular files and folders");
        }
      }
      std::sort(found.begin(), found.end());
      for (const auto& f : found) {
        add_one(f, top + "/" + f.lexically_relative(source).generic_string(), role, format);
      }
    } else {
      throw ctx_.error(where, source.string() + " is neither a regular file nor a folder");
    }
    return top;
  }

  std::vector<SourceFile> take() { return std::move(files_); }

 private:
  void add_one(const stdfs::path& source, const std::string& path, const std::string& role,
               const std::string& format) {
    if (!is_safe_relative_path(path)) {
      throw UsageError("cannot pack " + source.string() + ": unsafe artifact path '" + path + "'");
    }
    auto it = index_.find(path);
    if (it != index_.end()) {
      SourceFile& existing = files_[it->second];
      if (existing.role != role) {
        throw UsageError(path + " is listed twice, as " + existing.role + " and as " + role);
      }
      return;
    }
    index_[path] = files_.size();
    files_.push_back({source, path, role, format});
  }

  stdfs::path base_;
  const SpecContext& ctx_;
  std::vector<SourceFile> files_;
  std::map<std::string, std::size_t> index_;
};

const char* kKnownKeys[] = {"name",    "version",      "description", "model",  "preprocessing",
                            "files",   "metadata",     "environment", "params", "params_file",
                            "metrics", "metrics_file", "metric_goals"};

}  // namespace

std::string guess_role(const stdfs::path& path) {
  const std::string name = path.filename().string();
  const std::string ext = path.extension().string();
  if (name.starts_with("requirements") && ext == ".txt") return "requirements";
  if (name == "pyproject.toml" || name == "environment.yml" || name == "conda.yaml")
    return "requirements";
  if (ext == ".py" || ext == ".sh" || ext == ".R" || ext == ".ipynb") return "code";
  if (ext == ".md" || ext == ".rst" || ext == ".txt" || ext == ".html") return "docs";
  if (ext == ".csv" || ext == ".parquet" || ext == ".tsv" || ext == ".jsonl") return "data";
  return "other";
}

Spec load_spec(const PackRequest& req) {
  Spec spec;
  spec.base_dir = req.dir;
  SpecContext ctx{"command line"};

  std::error_code ec;
  if (!stdfs::is_directory(req.dir, ec)) {
    throw NotFoundError("pack folder not found: " + req.dir.string());
  }
  std::optional<stdfs::path> spec_file = req.spec_file;
  if (spec_file && spec_file->is_relative() && !stdfs::exists(*spec_file)) {
    spec_file = req.dir / *spec_file;
  }
  if (!spec_file && stdfs::exists(req.dir / "mlpack.yaml")) spec_file = req.dir / "mlpack.yaml";

  YAML::Node doc(YAML::NodeType::Map);
  if (spec_file) {
    ctx.file = spec_file->string();
    if (!stdfs::exists(*spec_file)) throw NotFoundError("spec file not found: " + ctx.file);
    doc = load_yaml_file(*spec_file);
    if (doc.IsNull()) doc = YAML::Node(YAML::NodeType::Map);
    if (!doc.IsMap()) throw ctx.error(doc, "the spec must be a YAML mapping");
    for (const auto& kv : doc) {
      const std::string key = kv.first.Scalar();
      if (std::find(std::begin(kKnownKeys), std::end(kKnownKeys), key) == std::end(kKnownKeys)) {
        throw ctx.error(kv.first, "unknown key '" + key + "'");
      }
    }
    // Spec-relative paths resolve against the spec's own folder.
    spec.base_dir = spec_file->parent_path().empty() ? stdfs::path(".") : spec_file->parent_path();
    if (req.dir != stdfs::path(".")) spec.base_dir = req.dir;
  }

  // Flags override the file.
  auto set_path = [&](const char* section, const std::string& value) {
    if (!doc[section].IsMap()) doc[section] = YAML::Node(YAML::NodeType::Map);
    doc[section]["path"] = value;
  };
  if (req.model) set_path("model", *req.model);
  if (req.preprocessing) set_path("preprocessing", *req.preprocessing);
  if (req.metrics_file) doc["metrics_file"] = *req.metrics_file;
  if (req.params_file) doc["params_file"] = *req.params_file;
  if (req.tag) {
    NameVersion nv = parse_name_version(*req.tag, true);
    doc["name"] = nv.name;
    if (!nv.version.empty()) doc["version"] = nv.version;
  }
  for (const auto& s : req.sets) {
    apply_set(doc, s);
    // Same rule as for the file: a typo must not vanish silently.
    const std::string top = s.substr(0, std::min(s.find('='), s.find('.')));
    if (std::find(std::begin(kKnownKeys), std::end(kKnownKeys), top) == std::end(kKnownKeys)) {
      throw UsageError("--set '" + s + "': unknown key '" + top + "'");
    }
  }

  spec.name = ctx.string_field(doc, "name", "name");
  spec.version = ctx.string_field(doc, "version", "version");
  spec.description = ctx.string_field(doc, "description", "description");
  if (spec.name.empty()) {
    throw UsageError("no name: give -t NAME:VERSION or set name in mlpack.yaml");
  }
  if (!is_valid_name(spec.name)) {
    try {
      check_name(spec.name);
    } catch (const UsageError& e) {
      throw ctx.error(doc["name"], e.what());
    }
  }
  if (spec.version.empty()) {
    throw UsageError("no version: give -t " + spec.name + ":VERSION or set version in mlpack.yaml");
  }
  if (!is_valid_version(spec.version)) {
    try {
      check_version(spec.version);
    } catch (const UsageError& e) {
      throw ctx.error(doc["version"], e.what());
    }
  }

  FileCollector files(spec.base_dir, ctx);

  const YAML::Node model = doc["model"];
  if (!model.IsDefined() || model.IsNull()) {
    throw UsageError("no model: give --model PATH or set model.path in " +
                     (spec_file ? ctx.file : std::string("mlpack.yaml")));
  }
  if (!model.IsMap()) throw ctx.error(model, "model must be a mapping with a path");
  const std::string model_path = ctx.string_field(model, "path", "model.path");
  if (model_path.empty()) throw ctx.error(model, "model.path is missing");
  const std::string model_format = ctx.string_field(model, "format", "model.format");
  spec.model = YAML::Node(YAML::NodeType::Map);
  for (const auto& kv : model) {
    const std::string key = kv.first.Scalar();
    if (key != "path" && key != "format") spec.model[key] = kv.second;
  }
  spec.model["path"] =
      files.add(model_path, "model", model_format, req.model ? YAML::Node() : model["path"]);

  const YAML::Node pre = doc["preprocessing"];
  if (pre.IsDefined() && !pre.IsNull()) {
    if (!pre.IsMap()) throw ctx.error(pre, "preprocessing must be a mapping");
    spec.preprocessing = YAML::Node(YAML::NodeType::Map);
    for (const auto& kv : pre) {
      const std::string key = kv.first.Scalar();
      if (key != "path") spec.preprocessing[key] = kv.second;
    }
    const std::string pre_path = ctx.string_field(pre, "path", "preprocessing.path");
    if (!pre_path.empty()) {
      spec.preprocessing["path"] =
          files.add(pre_path, "preprocessing", "", req.preprocessing ? YAML::Node() : pre["path"]);
      spec.has_preprocessing = true;
    }
    const YAML::Node schema = pre["input_schema"];
    if (schema.IsDefined() && !schema.IsNull()) {
      if (!schema.IsSequence())
        throw ctx.error(schema, "preprocessing.input_schema must be a list");
      for (const auto& col : schema) {
        if (!col.IsMap() || !col["name"].IsScalar()) {
          throw ctx.error(col, "each input_schema entry needs a name (and a type)");
        }
      }
      spec.has_preprocessing = true;
    }
  }

  const YAML::Node extra = doc["files"];
  if (extra.IsDefined() && !extra.IsNull()) {
    if (!extra.IsSequence()) throw ctx.error(extra, "files must be a list");
    for (const auto& f : extra) {
      std::string path;
      std::string role;
      std::string format;
      if (f.IsScalar()) {
        path = f.Scalar();
      } else if (f.IsMap()) {
        path = ctx.string_field(f, "path", "files[].path");
        role = ctx.string_field(f, "role", "files[].role");
        format = ctx.string_field(f, "format", "files[].format");
      } else {
        throw ctx.error(f, "a files entry must be a path or {path, role}");
      }
      if (path.empty()) throw ctx.error(f, "a files entry has no path");
      if (role.empty()) role = guess_role(path);
      if (!is_valid_role(role)) {
        throw ctx.error(f, "unknown role '" + role + "'; roles are " + kRoles);
      }
      files.add(path, role, format, f);
    }
  }
  for (const auto& arg : req.files) {
    std::string path = arg;
    std::string role;
    std::size_t colon = arg.rfind(':');
    if (colon != std::string::npos && is_valid_role(arg.substr(colon + 1))) {
      path = arg.substr(0, colon);
      role = arg.substr(colon + 1);
    }
    if (role.empty()) role = guess_role(path);
    files.add(path, role, "", YAML::Node());
  }

  const YAML::Node env = doc["environment"];
  if (env.IsDefined() && !env.IsNull()) {
    if (!env.IsMap()) throw ctx.error(env, "environment must be a mapping");
    spec.environment = YAML::Clone(env);
    const std::string req_file = ctx.string_field(env, "requirements", "environment.requirements");
    if (!req_file.empty()) {
      spec.environment["requirements"] =
          files.add(req_file, "requirements", "", env["requirements"]);
    }
  }

  auto load_values = [&](const char* inline_key, const char* file_key) {
    YAML::Node values;
    const std::string file = ctx.string_field(doc, file_key, file_key);
    if (!file.empty()) {
      stdfs::path p = stdfs::path(file).is_absolute() ? stdfs::path(file) : spec.base_dir / file;
      if (!stdfs::exists(p))
        throw NotFoundError(ctx.file + ": " + file_key + " not found: " + p.string());
      YAML::Node loaded = load_yaml_file(p);
      if (!loaded.IsMap()) {
        throw UsageError(p.string() + ": " + inline_key + " must be a mapping of names to values");
      }
      values = loaded;
      const bool from_flag = std::string(file_key) == "metrics_file" ? req.metrics_file.has_value()
                                                                     : req.params_file.has_value();
      files.add(file, "metadata", "", from_flag ? YAML::Node() : doc[file_key]);
    }
    const YAML::Node inline_values = doc[inline_key];
    if (inline_values.IsDefined() && !inline_values.IsNull()) {
      if (!inline_values.IsMap())
        throw ctx.error(inline_values, std::string(inline_key) + " must be a mapping");
      values = merge(values, inline_values);
    }
    return values;
  };
  spec.params = load_values("params", "params_file");
  spec.metrics = load_values("metrics", "metrics_file");

  const YAML::Node metadata = doc["metadata"];
  if (metadata.IsDefined() && !metadata.IsNull()) {
    if (!metadata.IsMap()) throw ctx.error(metadata, "metadata must be a mapping");
    spec.metadata = YAML::Clone(metadata);
  }
  const YAML::Node goals = doc["metric_goals"];
  if (goals.IsDefined() && !goals.IsNull()) {
    if (!goals.IsMap()) throw ctx.error(goals, "metric_goals must be a mapping of metric: max|min");
    for (const auto& kv : goals) {
      const std::string g = kv.second.IsScalar() ? kv.second.Scalar() : "";
      if (g != "max" && g != "min") {
        throw ctx.error(kv.second, "metric_goals." + kv.first.Scalar() + " must be max or min");
      }
    }
    spec.metric_goals = YAML::Clone(goals);
  }

  spec.files = files.take();
  return spec;
}

std::string find_git_commit(const stdfs::path& start) {
  std::error_code ec;
  stdfs::path dir = stdfs::weakly_canonical(stdfs::absolute(start, ec), ec);
  for (; !dir.empty(); dir = dir.parent_path()) {
    stdfs::path git = dir / ".git";
    if (stdfs::exists(git, ec)) {
      if (stdfs::is_regular_file(git, ec)) {
        // Worktrees and submodules: ".git" is a file "gitdir: PATH".
        std::string text = fs::read_file(git, 4096);
        if (!text.starts_with("gitdir: ")) return "";
        std::string target = text.substr(8);
        while (!target.empty() && (target.back() == '\n' || target.back() == '\r'))
          target.pop_back();
        git = stdfs::path(target).is_absolute() ? stdfs::path(target) : dir / target;
      }
      try {
        std::string head = fs::read_file(git / "HEAD", 4096);
        while (!head.empty() && (head.back() == '\n' || head.back() == '\r')) head.pop_back();
        if (!head.starts_with("ref: ")) return head;
        const std::string ref = head.substr(5);
        stdfs::path common = git;
        if (stdfs::exists(git / "commondir")) {
          std::string c = fs::read_file(git / "commondir", 4096);
          while (!c.empty() && (c.back() == '\n' || c.back() == '\r')) c.pop_back();
          common = stdfs::path(c).is_absolute() ? stdfs::path(c) : git / c;
        }
        for (const auto& base : {git, common}) {
          if (stdfs::exists(base / ref)) {
            std::string id = fs::read_file(base / ref, 4096);
            while (!id.empty() && (id.back() == '\n' || id.back() == '\r')) id.pop_back();
            return id;
          }
        }
        if (stdfs::exists(common / "packed-refs")) {
          std::string packed = fs::read_file(common / "packed-refs");
          std::size_t pos = 0;
          while (pos < packed.size()) {
            std::size_t eol = packed.find('\n', pos);
            std::string line = packed.substr(pos, eol == std::string::npos ? eol : eol - pos);
            if (line.size() > 41 && line.substr(41) == ref) return line.substr(0, 40);
            if (eol == std::string::npos) break;
            pos = eol + 1;
          }
        }
      } catch (const Error&) {
      }
      return "";  // a repository with no commit yet
    }
    if (dir == dir.root_path()) break;
  }
  return "";
}

std::string creation_time() {
  std::time_t t = std::time(nullptr);
  if (const char* sde = std::getenv("SOURCE_DATE_EPOCH"); sde && *sde) {
    char* end = nullptr;
    long long v = std::strtoll(sde, &end, 10);
    // Up to 9999-12-31T23:59:59Z: the manifest's time has four-digit years.
    if (*end != '\0' || v < 0 || v > 253402300799LL || !(*sde >= '0' && *sde <= '9')) {
      throw UsageError("SOURCE_DATE_EPOCH must be a number of seconds since 1970 (at most " +
                       std::string("253402300799, the end of year 9999), got '") + sde + "'");
    }
    t = static_cast<std::time_t>(v);
  }
  return format_utc(t);
}

std::string format_utc(std::time_t t) {
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace mlpack::manifest
