// The hidden `mlpack __complete WORD...` behind the bash, zsh and fish
// completions. It walks the same CLI11 tree the commands are parsed with, so
// a completion script never offers a stale command or flag, and it reads refs,
// stages, remotes and keys from where the commands themselves read them.
#include <algorithm>
#include <iostream>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common.hpp"
#include "mlpack/crypto/keyring.hpp"
#include "mlpack/crypto/minisign.hpp"
#include "mlpack/remote/config.hpp"

namespace mlpack::cli {

namespace {

// What a positional argument or an option's value is.
enum class ValueKind {
  kNothing,  // free text (a new NAME:VERSION, a message)
  kFiles,
  kDirs,
  kRefs,         // NAME:VERSION and NAME@STAGE, or an archive file
  kRefsOrFiles,  // scan: a REF or any file
  kNames,        // model names
  kStageRefs,    // NAME@STAGE
  kStages,       // stage names
  kRemotes,
  kKeyIds,
  kRemoteKeys,
  kRoles,
  kProgress,
  kFailOn,
};

struct Candidate {
  std::string value;
  std::string description;
};

bool is_positional(const CLI::Option* opt) {
  return !opt->nonpositional();
}
bool takes_value(const CLI::Option* opt) {
  return opt->get_type_size_max() > 0;
}
bool is_visible(const CLI::App* sub) {
  return !sub->get_group().empty();
}

// Positionals are named after what they hold (REF, NAME@STAGE, FILE, ...),
// which is what the help shows too; a remote's NAME is the one exception.
ValueKind positional_kind(const CLI::App& cmd, const CLI::Option& opt) {
  const std::string& name = opt.get_name();
  const CLI::App* parent = cmd.get_parent();
  if (parent && parent->get_name() == "remote") {
    if (name == "NAME") return cmd.get_name() == "add" ? ValueKind::kNothing : ValueKind::kRemotes;
    if (name == "KEY") return ValueKind::kRemoteKeys;
    if (name == "URL") return ValueKind::kDirs;
    return ValueKind::kNothing;
  }
  if (name == "REF" || name == "REF_A" || name == "REF_B") return ValueKind::kRefs;
  if (name == "TARGET") return ValueKind::kRefsOrFiles;
  if (name == "NAME") return ValueKind::kNames;
  if (name == "NAME@STAGE") return ValueKind::kStageRefs;
  if (name == "STAGE") return ValueKind::kStages;
  if (name == "KEYID") return ValueKind::kKeyIds;
  if (name == "DIR") return ValueKind::kDirs;
  if (name.starts_with("FILE")) return ValueKind::kFiles;
  return ValueKind::kNothing;
}

// "--remote" for -r,--remote; "-C" for an option with only a short name.
std::string main_name(const CLI::Option& opt) {
  if (!opt.get_lnames().empty()) return "--" + opt.get_lnames().front();
  if (!opt.get_snames().empty()) return "-" + opt.get_snames().front();
  return opt.get_name();
}

ValueKind option_value_kind(const CLI::Option& opt) {
  const std::string name = main_name(opt);
  if (name == "--remote") return ValueKind::kRemotes;
  if (name == "--progress") return ValueKind::kProgress;
  if (name == "--role") return ValueKind::kRoles;
  if (name == "--fail-on") return ValueKind::kFailOn;
  const std::string type = opt.get_type_name();
  if (type == "DIR") return ValueKind::kDirs;
  if (type == "FILE" || type == "PATH" || type == "SPEC" || type.starts_with("PATH[")) {
    return ValueKind::kFiles;
  }
  return ValueKind::kNothing;
}

// Finds an option on `cmd` or, since options fall through, its parents.
const CLI::Option* find_option(const CLI::App* cmd, const std::string& word) {
  for (; cmd; cmd = cmd->get_parent()) {
    if (const CLI::Option* opt = cmd->get_option_no_throw(word)) return opt;
  }
  return nullptr;
}

const CLI::App* find_subcommand(const CLI::App* cmd, const std::string& word) {
  for (const CLI::App* sub : cmd->get_subcommands(is_visible)) {
    if (sub->get_name() == word) return sub;
  }
  return nullptr;
}

// The store and config are read best-effort: completion never fails loudly.
class Sources {
 public:
  explicit Sources(std::optional<std::string> dir) : dir_(std::move(dir)) {}

  const store::Repository* repository() {
    if (!tried_) {
      tried_ = true;
      try {
        repo_.emplace(store::Repository::open(dir_));
      } catch (const std::exception&) {
      }
    }
    return repo_ ? &*repo_ : nullptr;
  }

 private:
  std::optional<std::string> dir_;
  bool tried_ = false;
  std::optional<store::Repository> repo_;
};

std::vector<Candidate> values_of(ValueKind kind, Sources& sources) {
  std::vector<Candidate> out;
  const store::Repository* repo = nullptr;
  switch (kind) {
    case ValueKind::kRefs:
    case ValueKind::kRefsOrFiles:
    case ValueKind::kNames:
    case ValueKind::kStageRefs:
    case ValueKind::kStages:
    case ValueKind::kRemotes:
      repo = sources.repository();
      break;
    default:
      break;
  }
  try {
    switch (kind) {
      case ValueKind::kRefs:
      case ValueKind::kRefsOrFiles:
        if (!repo) break;
        for (const auto& t : repo->list_tags()) {
          out.push_back({t.name + ":" + t.version, short_digest(t.digest)});
        }
        for (const auto& s : repo->list_stages()) {
          out.push_back({s.name + "@" + s.stage, "stage, " + short_digest(s.digest)});
        }
        break;
      case ValueKind::kNames: {
        if (!repo) break;
        std::set<std::string> names;
        for (const auto& t : repo->list_tags()) names.insert(t.name);
        for (const auto& n : names) out.push_back({n, "model"});
        break;
      }
      case ValueKind::kStageRefs:
        if (!repo) break;
        for (const auto& s : repo->list_stages()) {
          out.push_back({s.name + "@" + s.stage, short_digest(s.digest)});
        }
        break;
      case ValueKind::kStages: {
        std::set<std::string> stages{"staging", "production"};
        if (repo) {
          for (const auto& s : repo->list_stages()) stages.insert(s.stage);
        }
        for (const auto& s : stages) out.push_back({s, "stage"});
        break;
      }
      case ValueKind::kRemotes: {
        if (!repo) break;
        const remote::RemoteConfig config(*repo);
        for (const auto& r : config.remotes()) out.push_back({r.name, r.url.text});
        break;
      }
      case ValueKind::kKeyIds:
        for (const auto& k : crypto::Keyring::for_user().trusted()) {
          out.push_back({crypto::minisign::key_id_hex(k.key.id), k.file.string()});
        }
        break;
      case ValueKind::kRemoteKeys:
        out = {{"url", "where the remote is"},
               {"endpoint", "s3/gs: another API host"},
               {"region", "s3: the bucket's region"},
               {"path-style", "s3: path-style addressing (true/false)"},
               {"ca-file", "https: a private CA's certificates"}};
        break;
      case ValueKind::kRoles:
        for (std::string_view role : {"model", "preprocessing", "metadata", "requirements", "code",
                                      "data", "docs", "other"}) {
          out.push_back({std::string(role), "role"});
        }
        break;
      case ValueKind::kProgress:
        out = {{"auto", "a bar on a terminal"},
               {"plain", "one line per step"},
               {"none", "no progress"}};
        break;
      case ValueKind::kFailOn:
        out = {{"any-metric-regression", "a metric got worse (metric_goals)"},
               {"schema-change", "the input schema changed"}};
        break;
      default:
        break;
    }
  } catch (const std::exception&) {
    // A damaged config or store: offer what was read so far.
  }
  return out;
}

struct Completion {
  std::vector<Candidate> candidates;
  ValueKind fallback = ValueKind::kNothing;  // files or folders the shell adds
};

Completion complete_value(ValueKind kind, const std::string& current, Sources& sources) {
  Completion c;
  for (auto& candidate : values_of(kind, sources)) {
    if (candidate.value.starts_with(current)) c.candidates.push_back(std::move(candidate));
  }
  if (kind == ValueKind::kFiles || kind == ValueKind::kDirs) c.fallback = kind;
  if (kind == ValueKind::kRefsOrFiles) c.fallback = ValueKind::kFiles;
  // A REF can also be an exported archive file.
  if (kind == ValueKind::kRefs && (c.candidates.empty() || current.starts_with(".") ||
                                   current.starts_with("/") || current.starts_with("~"))) {
    c.fallback = ValueKind::kFiles;
  }
  return c;
}

Completion complete_options(const CLI::App& cmd, const std::string& current) {
  Completion c;
  for (const CLI::Option* opt : cmd.get_options()) {
    if (is_positional(opt)) continue;
    const std::string description = text::escape_control(opt->get_description());
    for (const auto& l : opt->get_lnames()) c.candidates.push_back({"--" + l, description});
    for (const auto& s : opt->get_snames()) c.candidates.push_back({"-" + s, description});
  }
  std::erase_if(c.candidates, [&](const Candidate& k) { return !k.value.starts_with(current); });
  return c;
}

Completion complete(const CLI::App& app, const std::vector<std::string>& words) {
  const std::string current = words.empty() ? "" : words.back();
  const CLI::App* cmd = &app;
  std::size_t positional_index = 0;
  bool only_positionals = false;
  const CLI::Option* pending = nullptr;  // an option whose value comes next
  std::optional<std::string> dir;        // -C, so refs come from that repository

  for (std::size_t i = 0; i + 1 < words.size(); ++i) {
    const std::string& word = words[i];
    if (pending) {
      if (main_name(*pending) == "-C") dir = word;
      pending = nullptr;
      continue;
    }
    if (!only_positionals && word == "--") {
      only_positionals = true;
      continue;
    }
    if (!only_positionals && word.size() > 1 && word[0] == '-') {
      const auto eq = word.find('=');
      const CLI::Option* opt = find_option(cmd, word.substr(0, eq));
      if (opt && takes_value(opt) && eq == std::string::npos) pending = opt;
      continue;
    }
    if (const CLI::App* sub = find_subcommand(cmd, word)) {
      cmd = sub;
      positional_index = 0;
      continue;
    }
    ++positional_index;
  }

  Sources sources(dir);
  if (pending) return complete_value(option_value_kind(*pending), current, sources);
  if (!only_positionals && current.starts_with("-")) {
    // --option=value completes the value, keeping the option in front.
    if (const auto eq = current.find('='); eq != std::string::npos) {
      const CLI::Option* opt = find_option(cmd, current.substr(0, eq));
      if (!opt || !takes_value(opt)) return {};
      const std::string head = current.substr(0, eq + 1);
      Completion c = complete_value(option_value_kind(*opt), current.substr(eq + 1), sources);
      for (auto& k : c.candidates) k.value = head + k.value;
      return c;
    }
    return complete_options(*cmd, current);
  }
  const auto subcommands = cmd->get_subcommands(is_visible);
  if (!subcommands.empty()) {
    Completion c;
    for (const CLI::App* sub : subcommands) {
      if (sub->get_name().starts_with(current)) {
        c.candidates.push_back({sub->get_name(), text::escape_control(sub->get_description())});
      }
    }
    return c;
  }
  std::vector<const CLI::Option*> positionals;
  for (const CLI::Option* opt : cmd->get_options()) {
    if (is_positional(opt)) positionals.push_back(opt);
  }
  if (positionals.empty()) return {};
  const CLI::Option* target = nullptr;
  if (positional_index < positionals.size()) {
    target = positionals[positional_index];
  } else if (positionals.back()->get_items_expected_max() > 1) {
    target = positionals.back();  // REF... takes any number
  }
  if (!target) return {};
  return complete_value(positional_kind(*cmd, *target), current, sources);
}

}  // namespace

void register_complete(CLI::App& app, Context&) {
  // Hidden (empty group); takes every word after it untouched.
  auto* cmd = app.add_subcommand("__complete", "Shell completion candidates");
  cmd->group("");
  cmd->prefix_command();
  cmd->fallthrough(false);
  cmd->set_help_flag();
  cmd->callback([&app, cmd] {
    const Completion c = complete(app, cmd->remaining());
    for (const auto& k : c.candidates) {
      std::cout << k.value;
      if (!k.description.empty()) std::cout << '\t' << text::escape_control(k.description);
      std::cout << '\n';
    }
    if (c.fallback == ValueKind::kFiles) std::cout << ":files\n";
    if (c.fallback == ValueKind::kDirs) std::cout << ":dirs\n";
  });
}

}  // namespace mlpack::cli
