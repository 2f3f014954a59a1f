#include "mlpack/store/stages.hpp"

#include <fcntl.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <ctime>
#include <set>

#include <yaml-cpp/yaml.h>

#include "mlpack/manifest/names.hpp"
#include "mlpack/manifest/spec.hpp"
#include "mlpack/util/error.hpp"
#include "mlpack/util/fs.hpp"
#include "mlpack/util/hex.hpp"
#include "mlpack/util/json.hpp"

namespace mlpack::store {
namespace {

stdfs::path log_path(const Repository& repo, const std::string& name, const std::string& stage) {
  return repo.root() / "logs" / "stages" / name / stage;
}

std::string now_rfc3339() {
  return manifest::format_utc(std::time(nullptr));
}

std::string to_line(const StageMove& m) {
  json::Value v = json::Value::object();
  v.set("time", m.time);
  v.set("user", m.user);
  v.set("action", m.action);
  v.set("from_version", m.from_version);
  v.set("from_digest", m.from_digest);
  v.set("to_version", m.to_version);
  v.set("to_digest", m.to_digest);
  v.set("reason", m.reason);
  std::string line = v.dump(0);  // ends in '\n'
  return line;
}

std::optional<StageMove> from_line(const std::string& line) {
  try {
    YAML::Node n = YAML::Load(line);
    if (!n.IsMap()) return std::nullopt;
    auto field = [&](const char* key) {
      return n[key] && n[key].IsScalar() ? n[key].Scalar() : std::string();
    };
    StageMove m{field("time"),         field("user"),        field("action"),
                field("from_version"), field("from_digest"), field("to_version"),
                field("to_digest"),    field("reason")};
    if (m.to_digest.size() != 64 || !hex::is_lower_hex(m.to_digest)) return std::nullopt;
    return m;
  } catch (const YAML::Exception&) {
    return std::nullopt;
  }
}

// The versions in effect, bottom to top: promote pushes, rollback pops.
std::vector<const StageMove*> effective_stack(const std::vector<StageMove>& history) {
  std::vector<const StageMove*> stack;
  for (const auto& m : history) {
    if (m.action == "rollback") {
      if (!stack.empty()) stack.pop_back();
    } else {
      stack.push_back(&m);
    }
  }
  return stack;
}

std::string trim_line(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

// Appends one whole line; first cuts off a torn tail a crash may have left,
// so the new entry never fuses with it.
void append_line(const stdfs::path& file, const std::string& line) {
  std::error_code ec;
  stdfs::create_directories(file.parent_path(), ec);
  if (ec) throw RuntimeError("cannot create " + file.parent_path().string() + ": " + ec.message());
  fs::UniqueFd fd(::open(file.c_str(), O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0644));
  if (!fd) throw_system_error("cannot open " + file.string(), errno);
  struct stat st {};
  ::fstat(fd.get(), &st);
  if (st.st_size > 0) {
    std::string text = fs::read_file(file, 256u << 20);
    std::size_t keep = text.rfind('\n');
    keep = keep == std::string::npos ? 0 : keep + 1;
    if (keep != text.size() && ::ftruncate(fd.get(), static_cast<off_t>(keep)) != 0) {
      throw_system_error("cannot repair " + file.string(), errno);
    }
  }
  fs::write_all(fd.get(),
                std::span(reinterpret_cast<const std::uint8_t*>(line.data()), line.size()), file);
  if (::fsync(fd.get()) != 0) throw_system_error("cannot flush " + file.string(), errno);
  fs::fsync_dir(file.parent_path());
}

void write_stage_ref(Repository& repo, const std::string& name, const std::string& stage,
                     const std::string& digest) {
  const stdfs::path dir = repo.root() / "refs" / "stages" / name;
  std::error_code ec;
  stdfs::create_directories(dir, ec);
  if (ec) throw ConflictError("cannot create stage " + name + "@" + stage + ": " + ec.message());
  fs::write_file_atomic(dir / stage, "sha256:" + digest + "\n");
}

// Brings the ref in line with the log after a crash between the two writes.
void repair_ref(Repository& repo, const std::string& name, const std::string& stage,
                const std::vector<StageMove>& history) {
  auto stack = effective_stack(history);
  if (stack.empty()) return;
  const std::string& expected = stack.back()->to_digest;
  if (repo.read_stage(name, stage) != expected) write_stage_ref(repo, name, stage, expected);
}

std::string version_of(const Repository& repo, const std::string& name, const std::string& digest) {
  for (const auto& t : repo.list_tags(name)) {
    if (t.digest == digest) return t.version;
  }
  return "";
}

std::string read_git_user(const stdfs::path& config) {
  std::error_code ec;
  if (!stdfs::is_regular_file(config, ec)) return "";
  std::string text;
  try {
    text = fs::read_file(config, 1 << 20);
  } catch (const Error&) {
    return "";
  }
  std::string section, name, email;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t eol = text.find('\n', pos);
    std::string line = text.substr(pos, eol == std::string::npos ? std::string::npos : eol - pos);
    pos = eol == std::string::npos ? text.size() : eol + 1;
    std::size_t start = line.find_first_not_of(" \t");
    if (start == std::string::npos) continue;
    line = trim_line(line.substr(start));
    if (line.front() == '[') {
      section = line;
      continue;
    }
    if (section != "[user]") continue;
    std::size_t eq = line.find('=');
    if (eq == std::string::npos) continue;
    std::string key = trim_line(line.substr(0, eq));
    std::string value = line.substr(eq + 1);
    value = value.substr(std::min(value.size(), value.find_first_not_of(" \t")));
    if (key == "name") name = value;
    if (key == "email") email = value;
  }
  if (name.empty()) return "";
  return email.empty() ? name : name + " <" + email + ">";
}

// Everything a stage move needs first: valid names, the locks, and the
// history with the ref repaired to match it. The shared repository lock
// keeps gc from sweeping what is being pointed at.
struct StageLock {
  StageLock(Repository& repo, const std::string& name, const std::string& stage)
      : checked((manifest::check_name(name), manifest::check_stage(stage), true)),
        repo_lock(repo.lock_path(), fs::FileLock::Mode::kShared),
        stage_lock(repo.root() / "stages.lock", fs::FileLock::Mode::kExclusive),
        history(stage_history(repo, name, stage)) {
    repair_ref(repo, name, stage, history);
  }
  bool checked;
  fs::FileLock repo_lock;
  fs::FileLock stage_lock;
  std::vector<StageMove> history;
};

}  // namespace

std::string current_user() {
  if (const char* n = std::getenv("GIT_AUTHOR_NAME"); n && *n) {
    const char* e = std::getenv("GIT_AUTHOR_EMAIL");
    return e && *e ? std::string(n) + " <" + e + ">" : std::string(n);
  }
  const char* home = std::getenv("HOME");
  const char* xdg = std::getenv("XDG_CONFIG_HOME");
  std::vector<stdfs::path> configs;
  if (home && *home) configs.push_back(stdfs::path(home) / ".gitconfig");
  if (xdg && *xdg) {
    configs.push_back(stdfs::path(xdg) / "git" / "config");
  } else if (home && *home) {
    configs.push_back(stdfs::path(home) / ".config" / "git" / "config");
  }
  for (const auto& c : configs) {
    if (std::string user = read_git_user(c); !user.empty()) return user;
  }
  for (const char* var : {"USER", "LOGNAME"}) {
    if (const char* u = std::getenv(var); u && *u) return u;
  }
  if (const passwd* pw = ::getpwuid(::getuid()); pw && pw->pw_name) return pw->pw_name;
  return "unknown";
}

std::vector<StageMove> stage_history(const Repository& repo, const std::string& name,
                                     const std::string& stage) {
  const stdfs::path file = log_path(repo, name, stage);
  std::error_code ec;
  if (!stdfs::is_regular_file(file, ec)) return {};
  const std::string text = fs::read_file(file, 256u << 20);
  std::vector<StageMove> out;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t eol = text.find('\n', pos);
    if (eol == std::string::npos) break;  // torn tail
    if (auto m = from_line(text.substr(pos, eol - pos))) out.push_back(std::move(*m));
    pos = eol + 1;
  }
  return out;
}

std::optional<StageMove> promote(Repository& repo, const std::string& name,
                                 const std::string& stage, const std::string& digest,
                                 const std::string& version, const std::string& reason) {
  StageLock lock(repo, name, stage);
  const auto& history = lock.history;
  const auto current = repo.read_stage(name, stage);
  if (current == digest) return std::nullopt;
  StageMove move;
  move.time = now_rfc3339();
  move.user = current_user();
  move.action = "promote";
  if (current) {
    move.from_digest = *current;
    auto stack = effective_stack(history);
    move.from_version = !stack.empty() && stack.back()->to_digest == *current
                            ? stack.back()->to_version
                            : version_of(repo, name, *current);
  }
  move.to_version = version;
  move.to_digest = digest;
  move.reason = reason;
  append_line(log_path(repo, name, stage), to_line(move));
  write_stage_ref(repo, name, stage, digest);
  return move;
}

StageMove rollback(Repository& repo, const std::string& name, const std::string& stage,
                   const std::string& reason) {
  StageLock lock(repo, name, stage);
  const auto& history = lock.history;
  auto stack = effective_stack(history);
  if (stack.size() < 2) {
    if (stack.empty() && !repo.read_stage(name, stage)) {
      throw NotFoundError("stage " + name + "@" + stage + " not found");
    }
    throw NotFoundError("no previous version of " + name + "@" + stage + " to roll back to");
  }
  const StageMove& current = *stack.back();
  const StageMove& previous = *stack[stack.size() - 2];
  StageMove move;
  move.time = now_rfc3339();
  move.user = current_user();
  move.action = "rollback";
  move.from_version = current.to_version;
  move.from_digest = current.to_digest;
  move.to_version = previous.to_version;
  move.to_digest = previous.to_digest;
  move.reason = reason;
  append_line(log_path(repo, name, stage), to_line(move));
  write_stage_ref(repo, name, stage, previous.to_digest);
  return move;
}

std::vector<std::string> digests_in_stage_logs(const Repository& repo) {
  std::set<std::string> out;
  const stdfs::path base = repo.root() / "logs" / "stages";
  std::error_code ec;
  for (auto it = stdfs::recursive_directory_iterator(base, ec);
       !ec && it != stdfs::recursive_directory_iterator(); it.increment(ec)) {
    if (!it->is_regular_file()) continue;
    const std::string stage = it->path().filename().string();
    const std::string name = it->path().parent_path().lexically_relative(base).generic_string();
    if (!manifest::is_valid_name(name) || !manifest::is_valid_version(stage)) continue;
    for (const auto& m : stage_history(repo, name, stage)) {
      out.insert(m.to_digest);
      if (!m.from_digest.empty()) out.insert(m.from_digest);
    }
  }
  return {out.begin(), out.end()};
}

}  // namespace mlpack::store
