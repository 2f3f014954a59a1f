// Writing objects into the store. Bytes stream into a temp file under
// .mlpack/tmp while they are hashed; nothing is visible until a Transaction
// commits, which renames each verified object into objects/sha256/. A crash
// at any point leaves at most stray temp files, which gc removes.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "mlpack/crypto/sha256.hpp"
#include "mlpack/store/repository.hpp"
#include "mlpack/util/fs.hpp"

namespace mlpack::store {

inline constexpr std::size_t kCopyBufferBytes = 1 << 20;

struct StagedObject {
  std::string sha256;
  std::uint64_t size = 0;
  fs::TempFile file;
};

class ObjectWriter {
 public:
  explicit ObjectWriter(const Repository& repo);
  // A download of object `hex` that resumes: the bytes an interrupted
  // attempt kept under .mlpack/tmp are hashed again and writes continue
  // after them (size() says how many there are). Another process fetching
  // the same object at the same time gets a fresh file instead.
  ObjectWriter(const Repository& repo, const std::string& resume_hex);
  void write(std::span<const std::uint8_t> data);
  void write(std::string_view data);
  std::uint64_t size() const { return size_; }
  // Drops what was written, to start over.
  void restart();
  // For downloads in parallel ranges: the file, written at offsets by the
  // caller, and hash_through(end), which takes every byte before `end` into
  // the digest (read back, in order) once they are all there.
  int fd() const { return file_.fd(); }
  void hash_through(std::uint64_t end);
  // Leaves the bytes written so far for the next attempt, when this writer
  // dies without finish() (the transfer failed part-way).
  void keep_partial();
  // Flushes to disk and returns the staged object.
  StagedObject finish();

 private:
  bool resumable_ = false;  // first: the resuming constructor sets it while opening file_
  fs::TempFile file_;
  crypto::Sha256 hash_;
  std::uint64_t size_ = 0;
};

// Result of streaming one file into the store.
struct IngestedFile {
  StagedObject object;
  std::vector<std::uint8_t> head;  // the first bytes, for format detection
};

// Reads `source` once: hashes it, writes the staged object, keeps its head.
IngestedFile ingest_file(const Repository& repo, const stdfs::path& source, std::size_t head_bytes);

// Checks an artifact's content before it becomes visible (the scan policy of
// import and pull): `bytes_of(sha256)` is where each file's verified bytes
// are, staged or already stored. Throws to refuse it.
using ContentCheck = std::function<void(
    const manifest::Manifest&, const std::function<stdfs::path(const std::string&)>& bytes_of)>;

class Transaction {
 public:
  explicit Transaction(Repository& repo) : repo_(repo) {}
  void add(StagedObject object) { staged_.push_back(std::move(object)); }
  // Runs `check` (when set) over the manifest, its files read from what is
  // staged here or already in the store.
  void check_content(const manifest::Manifest& m, const ContentCheck& check) const;
  // Moves every staged object into place (an object already present is kept:
  // same name, same bytes) and syncs the folders.
  void commit();

 private:
  Repository& repo_;
  std::vector<StagedObject> staged_;
};

// Whether object `hex` is still as a commit wrote it: its size, and its
// modification time still carrying the stamp the commit gave it (the
// nanoseconds derive from the digest, so any write since, which sets the
// time to now, loses it). Lets push skip re-hashing what nothing touched,
// like git's stat cache; on a filesystem without nanosecond times it is
// always false and callers hash.
bool object_unmodified(const Repository& repo, const std::string& hex, std::uint64_t size);
// The same stamp for any file holding the bytes of `hex` (the unpacked cache).
void stamp_file(const stdfs::path& file, const std::string& hex);
bool file_unmodified(const stdfs::path& file, const std::string& hex, std::uint64_t size);

// Copies the object `hex` to `out_fd` (or only reads it when out_fd < 0),
// verifying its digest and size as it streams. Throws IntegrityError on a
// mismatch.
void copy_verified_object(const Repository& repo, const std::string& hex, std::uint64_t size,
                          int out_fd, const stdfs::path& out_name);

}  // namespace mlpack::store
