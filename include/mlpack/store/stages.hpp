// Stages (NAME@STAGE): movable pointers to versions. Every move is appended
// to a per-stage history log (.mlpack/logs/stages/<name>/<stage>, one JSON
// object a line) before the stage ref is rewritten, all under one lock, so
// concurrent promotes are serialised and nothing is ever lost or reordered.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "mlpack/store/repository.hpp"

namespace mlpack::store {

struct StageMove {
  std::string time;          // RFC 3339 UTC
  std::string user;          // git user, else $USER
  std::string action;        // promote | rollback
  std::string from_version;  // empty when the stage did not exist
  std::string from_digest;
  std::string to_version;  // empty when promoted by digest with no version name
  std::string to_digest;
  std::string reason;
};

// Oldest first. A torn last line (a crash mid-append) is ignored.
std::vector<StageMove> stage_history(const Repository& repo, const std::string& name,
                                     const std::string& stage);

// Moves NAME@STAGE to `digest`. Returns nullopt when it already pointed there.
std::optional<StageMove> promote(Repository& repo, const std::string& name,
                                 const std::string& stage, const std::string& digest,
                                 const std::string& version, const std::string& reason);

// Moves NAME@STAGE back to the version before its latest promote still in
// effect. Throws NotFoundError (exit 4) when there is none.
StageMove rollback(Repository& repo, const std::string& name, const std::string& stage,
                   const std::string& reason);

// Every manifest digest a stage history mentions (kept by gc for rollback).
std::vector<std::string> digests_in_stage_logs(const Repository& repo);

// Who is acting: GIT_AUTHOR_NAME/EMAIL, the git config's user, else $USER.
std::string current_user();

}  // namespace mlpack::store
