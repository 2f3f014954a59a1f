// Push and pull, written once for every backend (DESIGN.md §3, remote
// layout). Push sends only the blobs the remote lacks, then the manifest and
// signature, and writes the version tag last and create-only, so a reader
// never sees a tag whose data is missing. Pull fetches the manifest and
// signature first and lets the caller's policy refuse untrusted content
// before a single blob is fetched; the local ref is written last.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "mlpack/archive/archive.hpp"
#include "mlpack/manifest/names.hpp"
#include "mlpack/net/progress.hpp"
#include "mlpack/remote/backend.hpp"
#include "mlpack/store/repository.hpp"

namespace mlpack::remote {

// How blobs move: how many at once (0: sized to the work, at most 8) and
// how progress is shown.
struct TransferSettings {
  unsigned jobs = 0;
  net::ProgressStyle progress = net::ProgressStyle::kNone;
};

struct PushResult {
  manifest::NameVersion version;
  std::string digest;
  std::uint64_t blobs_uploaded = 0;
  std::uint64_t bytes_uploaded = 0;
  std::uint64_t blobs_present = 0;
  bool tag_created = false;          // false: the remote already had this version
  std::optional<std::string> stage;  // set when a stage was moved
};

// REF is NAME:VERSION or NAME@STAGE (which also moves the remote stage, by
// compare-and-swap). Throws ConflictError (exit 5) when the remote holds the
// version with another digest, or its stage moved meanwhile.
PushResult push(const store::Repository& repo, Backend& remote, const manifest::Ref& ref,
                const TransferSettings& settings = {});

struct PullResult {
  manifest::NameVersion version;
  std::string digest;
  std::uint64_t blobs_fetched = 0;
  std::uint64_t bytes_fetched = 0;
  bool tag_created = false;
};

// REF is NAME:VERSION, NAME@STAGE or sha256:<64 hex>. `check` sees the
// manifest and signature before any blob is fetched and names the version
// to file the artifact under (the signature policy lives in the CLI). A
// blob whose transfer broke off part-way keeps its bytes under .mlpack/tmp,
// and the next pull resumes it.
PullResult pull(store::Repository& repo, Backend& remote, const manifest::Ref& ref,
                const archive::HeadCheck& check, const TransferSettings& settings = {},
                const store::ContentCheck& content_check = {});

struct RemoteListing {
  std::vector<store::TagEntry> versions;
  std::vector<store::StageEntry> stages;
};
RemoteListing list_remote(Backend& remote, const std::string& name_filter);

}  // namespace mlpack::remote
