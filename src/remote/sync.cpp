#include "mlpack/remote/sync.hpp"

#include <algorithm>
#include <set>

#include "mlpack/crypto/sha256.hpp"
#include "mlpack/store/objects.hpp"
#include "mlpack/store/pack.hpp"
#include "mlpack/store/stages.hpp"
#include "mlpack/util/error.hpp"
#include "mlpack/util/fs.hpp"
#include "mlpack/util/hex.hpp"
#include "mlpack/util/parallel.hpp"

namespace mlpack::remote {
namespace {

constexpr const char* kLayoutKey = "mlpack-remote.yaml";
constexpr const char* kLayout = "# mlpack remote layout\nlayout: 1\n";

std::string blob_key(const std::string& hex) {
  return "blobs/sha256/" + hex;
}
std::string manifest_key(const std::string& hex) {
  return "manifests/sha256/" + hex;
}
std::string tag_key(const std::string& name, const std::string& version) {
  return "tags/" + name + "/" + version;
}
std::string stage_key(const std::string& name, const std::string& stage) {
  return "stages/" + name + "/" + stage;
}
std::string ref_text(const std::string& hex) {
  return "sha256:" + hex + "\n";
}

// A remote ref's content, checked: it is data from outside.
// The hex digest a remote ref file holds.
std::string parse_remote_ref(std::string t, const std::string& key, const Backend& remote) {
  while (!t.empty() && (t.back() == '\n' || t.back() == '\r')) t.pop_back();
  if (!t.starts_with("sha256:") || t.size() != 71 || !hex::is_lower_hex(t.substr(7))) {
    throw IntegrityError("corrupt ref " + key + " on " + remote.describe());
  }
  return t.substr(7);
}

std::optional<std::string> read_remote_ref(Backend& remote, const std::string& key) {
  auto text = remote.get_small(key, 4096);
  if (!text) return std::nullopt;
  return parse_remote_ref(*text, key, remote);
}

void ensure_layout(Backend& remote, bool create) {
  auto text = remote.get_small(kLayoutKey, 4096);
  if (!text) {
    if (!create) return;
    remote.put_if_absent(kLayoutKey, kLayout);
    text = remote.get_small(kLayoutKey, 4096);
  }
  if (!text || text->find("layout: 1") == std::string::npos) {
    throw UsageError(remote.describe() + " has an mlpack layout this version does not know");
  }
}

// Each distinct blob once, in manifest order.
std::vector<const manifest::FileEntry*> unique_blobs(const manifest::Manifest& m) {
  std::vector<const manifest::FileEntry*> out;
  std::set<std::string> seen;
  for (const auto& f : m.files) {
    if (seen.insert(f.sha256).second) out.push_back(&f);
  }
  return out;
}

// Enough parallel transfers to hide latency; a few more would only split
// the same bandwidth.
unsigned jobs_for(const TransferSettings& settings, std::size_t work) {
  constexpr unsigned kDefaultJobs = 8;
  const unsigned cap = settings.jobs ? settings.jobs : kDefaultJobs;
  return static_cast<unsigned>(std::clamp<std::size_t>(work, 1, cap));
}

// Below this, one GET streams a blob as fast as several ranges would.
constexpr std::uint64_t kParallelRangesFrom = 64ull << 20;

// Downloads one blob into a staged object, checking size and digest as the
// bytes stream. A transfer that breaks off leaves its bytes for the next
// pull; bytes that prove wrong are dropped.
store::StagedObject fetch_blob(const store::Repository& repo, Backend& remote,
                               const manifest::FileEntry& f, net::Progress& progress) {
  const std::string where =
      f.path + " (sha256:" + f.sha256.substr(0, 12) + ") on " + remote.describe();
  for (bool fresh = false;; fresh = true) {
    store::ObjectWriter writer(repo, f.sha256);
    if (writer.size() > f.size || fresh) writer.restart();
    const std::int64_t had = static_cast<std::int64_t>(writer.size());
    progress.add(had);
    std::int64_t counted = had;
    const Sink sink = [&](std::span<const std::uint8_t> chunk) {
      if (writer.size() + chunk.size() > f.size) {
        throw IntegrityError("blob of " + where + " is larger than its manifest says");
      }
      writer.write(chunk);
      progress.add(static_cast<std::int64_t>(chunk.size()));
      counted += static_cast<std::int64_t>(chunk.size());
    };
    try {
      const auto landed = [&](std::uint64_t end) { writer.hash_through(end); };
      const net::ProgressFn on_bytes = [&](std::int64_t n) {
        progress.add(n);
        counted += n;
      };
      if (f.size - writer.size() < kParallelRangesFrom ||
          !remote.get_ranges(blob_key(f.sha256), writer.fd(), writer.size(), f.size, landed,
                             on_bytes)) {
        remote.get(blob_key(f.sha256), sink, writer.size());
      }
    } catch (const NotFoundError&) {
      throw NotFoundError("blob of " + where + " is missing");
    } catch (const IntegrityError&) {
      throw;
    } catch (const Error&) {
      writer.keep_partial();  // worth resuming next time
      throw;
    }
    store::StagedObject staged = writer.finish();
    if (staged.size == f.size && staged.sha256 == f.sha256) return staged;
    if (had > 0) {
      // The bytes an earlier pull kept may be what went wrong: once more, whole.
      progress.add(-counted);
      continue;
    }
    throw IntegrityError("blob of " + where +
                         " does not match its digest: the remote copy is corrupt or was tampered "
                         "with; nothing was changed here");
  }
}

// A digest given by its first hex digits: the one manifest on the remote
// that starts with them (this lists the remote's manifests).
std::string find_manifest_by_prefix(Backend& remote, const manifest::Ref& ref) {
  std::vector<std::string> matches;
  const std::string folder = "manifests/sha256";
  for (const auto& key : remote.list(folder)) {
    const std::string name = key.substr(key.rfind('/') + 1);
    if (name.size() == 64 && hex::is_lower_hex(name) && name.starts_with(ref.digest)) {
      matches.push_back(name);
    }
  }
  if (matches.empty()) throw NotFoundError(ref.text + " not found on " + remote.describe());
  if (matches.size() > 1) {
    throw UsageError(ref.text + " is ambiguous on " + remote.describe() + " (" +
                     std::to_string(matches.size()) +
                     " manifests start with it): give more digits");
  }
  return matches.front();
}

// Names share the remote's tag folders with namespaces ("team" and
// "team/iris"): a version "team:iris" is an object where "team/iris:v1"
// needs a folder. Either way round, that is a clash, not a network error.
void check_name_clash(Backend& remote, const manifest::NameVersion& v) {
  std::size_t slash = 0;
  while ((slash = v.name.find('/', slash)) != std::string::npos) {
    const std::string outer = v.name.substr(0, slash);
    const std::string inner = v.name.substr(slash + 1, v.name.find('/', slash + 1) - slash - 1);
    if (remote.exists(tag_key(outer, inner))) {
      throw ConflictError(v.str() + " cannot be pushed to " + remote.describe() + ": the version " +
                          outer + ":" + inner + " is there, and a name cannot also be a namespace");
    }
    ++slash;
  }
  // The other way round: versions of a model named NAME/VERSION exist.
  std::vector<std::string> inside;
  try {
    inside = remote.list(tag_key(v.name, v.version));
  } catch (const RuntimeError&) {
    return;  // a server that cannot list: the create-only tag write still refuses it
  }
  if (!inside.empty()) {
    throw ConflictError(v.str() + " cannot be pushed to " + remote.describe() +
                        ": versions of a model named " + v.name + "/" + v.version +
                        " are there, and a version cannot also be a namespace");
  }
}

// Throws ConflictError unless `remote_digest` (the remote stage's) is one
// the local stage has pointed at.
void check_stage_descends(const store::Repository& repo, const manifest::Ref& ref,
                          const std::string& remote_digest, const Backend& remote) {
  for (const auto& move : store::stage_history(repo, ref.name, ref.stage)) {
    if (move.from_digest == remote_digest || move.to_digest == remote_digest) return;
  }
  throw ConflictError(ref.text + " on " + remote.describe() +
                      " points at sha256:" + remote_digest.substr(0, 12) + ", which " + ref.text +
                      " here never pointed at: someone else moved it. Pull it (mlpack pull " +
                      ref.text + "), promote again, then push");
}

}  // namespace

PushResult push(const store::Repository& repo, Backend& remote, const manifest::Ref& ref,
                const TransferSettings& settings) {
  using Kind = manifest::Ref::Kind;
  if (ref.kind != Kind::kVersion && ref.kind != Kind::kStage) {
    throw UsageError("push takes NAME:VERSION or NAME@STAGE, not '" + ref.text + "'");
  }
  PushResult result;
  result.digest = repo.resolve(ref);
  const std::string bytes = repo.read_manifest_bytes(result.digest);
  const manifest::Manifest m =
      manifest::read_manifest(bytes, "sha256:" + result.digest.substr(0, 12));
  if (ref.kind == Kind::kVersion) {
    result.version = {ref.name, ref.version};
  } else {
    // A stage travels as the version it points at.
    result.version = {ref.name, ""};
    for (const auto& t : repo.list_tags(ref.name)) {
      if (t.digest == result.digest) result.version.version = t.version;
    }
    if (result.version.version.empty()) {
      throw UsageError(ref.text + " points at an artifact with no version name: tag it first");
    }
  }
  ensure_layout(remote, true);

  // Refuse a clash before uploading gigabytes.
  check_name_clash(remote, result.version);
  const std::string tkey = tag_key(result.version.name, result.version.version);
  auto remote_digest = read_remote_ref(remote, tkey);
  if (remote_digest && *remote_digest != result.digest) {
    throw ConflictError(result.version.str() + " already exists on " + remote.describe() +
                        " with other content (sha256:" + remote_digest->substr(0, 12) +
                        "); versions are immutable, pick a new version");
  }
  if (!remote_digest) {
    std::vector<const manifest::FileEntry*> blobs = unique_blobs(m);
    // Ask first, in parallel: on a remote that has most blobs, this is the push.
    std::vector<char> missing(blobs.size());
    util::parallel_for(blobs.size(), jobs_for(settings, blobs.size()), [&](std::size_t i) {
      missing[i] = !remote.exists(blob_key(blobs[i]->sha256));
    });
    std::vector<const manifest::FileEntry*> to_send;
    for (std::size_t i = 0; i < blobs.size(); ++i) {
      if (missing[i]) {
        to_send.push_back(blobs[i]);
        result.bytes_uploaded += blobs[i]->size;
      }
    }
    result.blobs_uploaded = to_send.size();
    result.blobs_present = blobs.size() - to_send.size();
    net::Progress progress(settings.progress, "push " + result.version.str(),
                           result.bytes_uploaded);
    const net::ProgressFn on_bytes = [&progress](std::int64_t n) { progress.add(n); };
    // A blob written since the store checked it is verified as it is sent:
    // a corrupt local object never completes on the remote.
    util::parallel_for(to_send.size(), jobs_for(settings, to_send.size()), [&](std::size_t i) {
      const manifest::FileEntry& f = *to_send[i];
      const bool untouched = store::object_unmodified(repo, f.sha256, f.size);
      remote.put_file(blob_key(f.sha256), repo.object_path(f.sha256), f.size, f.sha256, !untouched,
                      on_bytes);
    });
    progress.finish();
    remote.put_if_absent(manifest_key(result.digest), bytes);
    if (auto sig = repo.signature_for(result.digest, m, &ref)) {
      remote.put_if_absent(manifest_key(result.digest) + ".minisig", sig->text);
    }
    // Last, and create-only: the version becomes visible whole or not at all.
    result.tag_created = remote.put_if_absent(tkey, ref_text(result.digest));
    if (!result.tag_created) {
      auto now = read_remote_ref(remote, tkey);
      if (!now) {
        throw ConflictError(result.version.str() + " cannot be pushed to " + remote.describe() +
                            ": versions of a model named " + result.version.name + "/" +
                            result.version.version +
                            " are there, and a version cannot also be a namespace");
      }
      if (*now != result.digest) {
        throw ConflictError(result.version.str() + " was just pushed to " + remote.describe() +
                            " by another writer with other content");
      }
    }
  }
  if (ref.kind == Kind::kStage) {
    const std::string skey = stage_key(ref.name, ref.stage);
    auto current = remote.get_small(skey, 4096);
    if (current != ref_text(result.digest)) {
      // Like git's fast-forward rule: move the remote stage only from a
      // version this repository's stage has pointed at, so a move someone
      // else pushed since is never silently undone.
      if (current) {
        check_stage_descends(repo, ref, parse_remote_ref(*current, skey, remote), remote);
      }
      if (!remote.compare_and_swap(skey, current, ref_text(result.digest))) {
        throw ConflictError(ref.text + " on " + remote.describe() +
                            " was moved by someone else meanwhile: pull, check, and push again");
      }
      result.stage = ref.stage;
    }
  }
  return result;
}

PullResult pull(store::Repository& repo, Backend& remote, const manifest::Ref& ref,
                const archive::HeadCheck& check, const TransferSettings& settings,
                const store::ContentCheck& content_check) {
  using Kind = manifest::Ref::Kind;
  ensure_layout(remote, false);
  PullResult result;
  std::optional<std::string> digest;
  switch (ref.kind) {
    case Kind::kVersion:
      digest = read_remote_ref(remote, tag_key(ref.name, ref.version));
      break;
    case Kind::kStage:
      digest = read_remote_ref(remote, stage_key(ref.name, ref.stage));
      break;
    case Kind::kDigest:
      digest = ref.digest.size() == 64 ? ref.digest : find_manifest_by_prefix(remote, ref);
      break;
    case Kind::kArchiveFile:
      throw UsageError("pull takes NAME:VERSION, NAME@STAGE or sha256:<hex>, not a file");
  }
  if (!digest) throw NotFoundError(ref.text + " not found on " + remote.describe());
  result.digest = *digest;

  auto bytes = remote.get_small(manifest_key(result.digest), archive::kMaxManifestBytes);
  if (!bytes) {
    throw NotFoundError("manifest sha256:" + result.digest.substr(0, 12) + " of " + ref.text +
                        " is missing on " + remote.describe());
  }
  if (crypto::sha256_hex(*bytes) != result.digest) {
    throw IntegrityError("manifest of " + ref.text + " on " + remote.describe() +
                         " does not match its digest: the remote copy is corrupt or was tampered "
                         "with");
  }
  archive::ArchiveHead head{
      *bytes, result.digest, manifest::read_manifest(*bytes, remote.describe()),
      remote.get_small(manifest_key(result.digest) + ".minisig", archive::kMaxSignatureBytes)};
  // The policy sees manifest and signature before any blob moves.
  manifest::NameVersion binding = check(head);
  // A remote tag is not signed; the signature is. A tag moved to another
  // signed artifact (say, an old version with a known flaw) must not pass.
  if (ref.kind == Kind::kVersion && head.signature &&
      (binding.name != ref.name || binding.version != ref.version)) {
    throw IntegrityError("the signature of " + ref.text + " on " + remote.describe() + " names " +
                         binding.str() +
                         ": the remote tag does not match what was signed (a moved tag, or a "
                         "version re-tagged under another name); refusing it");
  }
  result.version =
      ref.kind == Kind::kVersion ? manifest::NameVersion{ref.name, ref.version} : binding;
  if (auto local = repo.read_tag(result.version.name, result.version.version);
      local && *local != result.digest) {
    throw ConflictError(result.version.str() + " already exists here with other content (sha256:" +
                        local->substr(0, 12) + ")");
  }

  fs::FileLock lock(repo.lock_path(), fs::FileLock::Mode::kShared);
  store::Transaction txn(repo);
  std::vector<const manifest::FileEntry*> to_fetch;
  for (const manifest::FileEntry* f : unique_blobs(head.manifest)) {
    if (!repo.has_object(f->sha256)) {
      to_fetch.push_back(f);
      result.bytes_fetched += f->size;
    }
  }
  result.blobs_fetched = to_fetch.size();
  std::vector<std::optional<store::StagedObject>> staged(to_fetch.size());
  {
    net::Progress progress(settings.progress, "pull " + result.version.str(), result.bytes_fetched);
    util::parallel_for(to_fetch.size(), jobs_for(settings, to_fetch.size()), [&](std::size_t i) {
      staged[i].emplace(fetch_blob(repo, remote, *to_fetch[i], progress));
    });
  }
  for (auto& object : staged) txn.add(std::move(*object));
  txn.check_content(head.manifest, content_check);
  store::ObjectWriter manifest_writer(repo);
  manifest_writer.write(*bytes);
  txn.add(manifest_writer.finish());
  txn.commit();
  if (head.signature) {
    repo.write_signature(result.digest, result.version.name, result.version.version,
                         *head.signature);
  }
  result.tag_created =
      store::tag_artifact(repo, result.version.name, result.version.version, result.digest);
  return result;
}

RemoteListing list_remote(Backend& remote, const std::string& name_filter) {
  RemoteListing out;
  auto split = [](const std::string& rest, std::string& name, std::string& label) {
    const std::size_t slash = rest.rfind('/');
    if (slash == std::string::npos) return false;
    name = rest.substr(0, slash);
    label = rest.substr(slash + 1);
    return manifest::is_valid_name(name) && manifest::is_valid_version(label);
  };
  for (const auto& key : remote.list("tags")) {
    std::string name, version;
    if (!split(key.substr(5), name, version)) continue;
    if (!name_filter.empty() && name != name_filter) continue;
    if (auto d = read_remote_ref(remote, key)) out.versions.push_back({name, version, *d});
  }
  for (const auto& key : remote.list("stages")) {
    std::string name, stage;
    if (!split(key.substr(7), name, stage)) continue;
    if (!name_filter.empty() && name != name_filter) continue;
    if (auto d = read_remote_ref(remote, key)) out.stages.push_back({name, stage, *d});
  }
  return out;
}

}  // namespace mlpack::remote
