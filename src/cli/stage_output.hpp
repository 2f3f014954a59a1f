// Shared output for promote, rollback and history: one move as JSON or text.
#pragma once

#include <string>

#include "common.hpp"
#include "mlpack/store/stages.hpp"

namespace mlpack::cli {

json::Value stage_move_to_json(const std::string& name, const std::string& stage,
                               const store::StageMove& m);
// "v3 (sha256:abcd…)" or "sha256:abcd…" or "(none)".
std::string describe_version(const std::string& version, const std::string& digest);

}  // namespace mlpack::cli
