#include "mlpack/manifest/names.hpp"

#include <filesystem>

#include "mlpack/util/error.hpp"
#include "mlpack/util/hex.hpp"

namespace mlpack::manifest {
namespace {

bool is_lower_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}
bool is_alnum(char c) {
  return is_lower_alnum(c) || (c >= 'A' && c <= 'Z');
}

bool is_valid_component(std::string_view part) {
  if (part.empty() || part.size() > 128 || !is_lower_alnum(part[0])) return false;
  for (char c : part) {
    if (!(is_lower_alnum(c) || c == '.' || c == '_' || c == '-')) return false;
  }
  return true;
}

constexpr const char* kRefForms =
    "expected NAME:VERSION, NAME@STAGE, NAME@sha256:<hex>, sha256:<hex> (12+ hex digits) "
    "or the path of an exported archive";

}  // namespace

bool is_valid_name(std::string_view name) {
  if (name.empty() || name.size() > 255) return false;
  std::size_t start = 0;
  for (;;) {
    std::size_t slash = name.find('/', start);
    std::string_view part =
        name.substr(start, slash == std::string_view::npos ? slash : slash - start);
    if (!is_valid_component(part)) return false;
    if (slash == std::string_view::npos) return true;
    start = slash + 1;
  }
}

bool is_valid_version(std::string_view label) {
  if (label.empty() || label.size() > 128 || !is_alnum(label[0])) return false;
  for (char c : label) {
    if (!(is_alnum(c) || c == '.' || c == '_' || c == '-')) return false;
  }
  return true;
}

void check_name(std::string_view name) {
  if (!is_valid_name(name)) {
    throw UsageError("invalid name '" + std::string(name) +
                     "': names match [a-z0-9][a-z0-9._-]{0,127}, optionally in '/'-separated "
                     "namespaces (team/iris)");
  }
}

void check_version(std::string_view version) {
  if (!is_valid_version(version)) {
    throw UsageError("invalid version '" + std::string(version) +
                     "': versions match [A-Za-z0-9][A-Za-z0-9._-]{0,127}");
  }
}

void check_stage(std::string_view stage) {
  if (!is_valid_version(stage)) {
    throw UsageError("invalid stage '" + std::string(stage) +
                     "': stages match [A-Za-z0-9][A-Za-z0-9._-]{0,127}");
  }
}

NameVersion parse_name_version(std::string_view text, bool version_optional) {
  std::size_t colon = text.find(':');
  if (colon == std::string_view::npos) {
    if (!version_optional) {
      throw UsageError("'" + std::string(text) + "' is not NAME:VERSION (for example iris:v3)");
    }
    check_name(text);
    return {std::string(text), ""};
  }
  NameVersion nv{std::string(text.substr(0, colon)), std::string(text.substr(colon + 1))};
  check_name(nv.name);
  check_version(nv.version);
  return nv;
}

Ref parse_ref(std::string_view text) {
  Ref ref;
  ref.text = std::string(text);
  auto parse_digest = [&](std::string_view hexpart) {
    if (hexpart.size() < 12 || hexpart.size() > 64 || !hex::is_lower_hex(hexpart)) {
      throw UsageError("invalid digest in '" + ref.text +
                       "': sha256: needs 12 to 64 lower-case hex digits");
    }
    ref.kind = Ref::Kind::kDigest;
    ref.digest = std::string(hexpart);
  };

  if (text.starts_with("sha256:")) {
    parse_digest(text.substr(7));
    return ref;
  }
  std::size_t at = text.find('@');
  std::size_t colon = text.find(':');
  if (at != std::string_view::npos && (colon == std::string_view::npos || at < colon)) {
    std::string_view name = text.substr(0, at);
    std::string_view rest = text.substr(at + 1);
    if (is_valid_name(name)) {
      ref.name = std::string(name);
      if (rest.starts_with("sha256:")) {
        parse_digest(rest.substr(7));
        return ref;
      }
      if (is_valid_version(rest)) {
        ref.kind = Ref::Kind::kStage;
        ref.stage = std::string(rest);
        return ref;
      }
    }
  } else if (colon != std::string_view::npos) {
    std::string_view name = text.substr(0, colon);
    std::string_view version = text.substr(colon + 1);
    if (is_valid_name(name) && is_valid_version(version)) {
      ref.kind = Ref::Kind::kVersion;
      ref.name = std::string(name);
      ref.version = std::string(version);
      return ref;
    }
  }
  std::error_code ec;
  if (!text.empty() && std::filesystem::is_regular_file(std::filesystem::path(text), ec)) {
    ref.kind = Ref::Kind::kArchiveFile;
    ref.file = std::string(text);
    return ref;
  }
  throw UsageError("invalid reference '" + ref.text + "': " + kRefForms);
}

}  // namespace mlpack::manifest
