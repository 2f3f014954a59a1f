#include "stage_output.hpp"

namespace mlpack::cli {

std::string describe_version(const std::string& version, const std::string& digest) {
  if (digest.empty()) return "(none)";
  if (version.empty()) return short_digest(digest);
  return version + " (" + short_digest(digest) + ")";
}

json::Value stage_move_to_json(const std::string& name, const std::string& stage,
                               const store::StageMove& m) {
  auto side = [](const std::string& version, const std::string& digest) {
    if (digest.empty()) return json::Value();
    json::Value v = json::Value::object();
    v.set("version", version.empty() ? json::Value() : json::Value(version));
    v.set("digest", "sha256:" + digest);
    return v;
  };
  json::Value out = json::Value::object();
  out.set("name", name);
  out.set("stage", stage);
  out.set("action", m.action);
  out.set("time", m.time);
  out.set("user", m.user);
  out.set("from", side(m.from_version, m.from_digest));
  out.set("to", side(m.to_version, m.to_digest));
  out.set("reason", m.reason);
  return out;
}

}  // namespace mlpack::cli
