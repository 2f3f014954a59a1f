// The naming rules of DESIGN.md §1 and the parser for every REF form a
// command accepts. Bad names are refused here, with the rule in the message.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace mlpack::manifest {

bool is_valid_name(std::string_view name);      // [a-z0-9][a-z0-9._-]{0,127}, '/'-namespaced
bool is_valid_version(std::string_view label);  // [A-Za-z0-9][A-Za-z0-9._-]{0,127}; also stages

void check_name(std::string_view name);  // throws UsageError showing the rule
void check_version(std::string_view version);
void check_stage(std::string_view stage);

struct NameVersion {
  std::string name;
  std::string version;
  std::string str() const { return name + ":" + version; }
};
// "NAME:VERSION"; with version_optional, "NAME" alone is accepted too.
NameVersion parse_name_version(std::string_view text, bool version_optional = false);

struct Ref {
  enum class Kind { kVersion, kStage, kDigest, kArchiveFile };
  Kind kind;
  std::string name;     // kVersion, kStage, and kDigest when written NAME@sha256:...
  std::string version;  // kVersion
  std::string stage;    // kStage
  std::string digest;   // kDigest: lower-case hex, full or a prefix of 12+ digits
  std::string file;     // kArchiveFile
  std::string text;     // as the user wrote it, for messages
};

// Parses a REF. A string that is no REF but names an existing file is an
// exported archive. Throws UsageError listing the accepted forms.
Ref parse_ref(std::string_view text);

}  // namespace mlpack::manifest
