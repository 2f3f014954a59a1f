// File-system primitives the rest of the tool builds on: RAII descriptors,
// temp files that become visible only by an atomic rename (or link, for
// create-only writes), temp folders, and advisory locks. Nothing written
// through these is ever seen half-done by another process.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace mlpack::fs {

namespace stdfs = std::filesystem;

class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept;
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd();

  int get() const { return fd_; }
  explicit operator bool() const { return fd_ >= 0; }
  int release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }

 private:
  int fd_ = -1;
};

UniqueFd open_read(const stdfs::path& path);
// Reads up to buffer.size() bytes, retrying on EINTR; returns 0 at end of file.
std::size_t read_some(int fd, std::span<std::uint8_t> buffer, const stdfs::path& for_errors);
void write_all(int fd, std::span<const std::uint8_t> data, const stdfs::path& for_errors);
// Writes all of `data` at `offset` (pwrite), for downloads that land out of order.
void pwrite_all(int fd, std::span<const std::uint8_t> data, std::uint64_t offset);
void fsync_dir(const stdfs::path& dir);

// Reads a whole (small) file; refuses files above max_bytes so a hostile
// input cannot exhaust memory.
std::string read_file(const stdfs::path& path, std::size_t max_bytes = 64u << 20);
// Write-to-temp, fsync, rename, fsync the folder.
void write_file_atomic(const stdfs::path& path, std::string_view data);

// A file in `dir` that nobody else sees until commit; unlinked if dropped.
class TempFile {
 public:
  explicit TempFile(const stdfs::path& dir, std::string_view prefix = ".tmp-");
  // A file under a fixed name whose bytes outlive a failed or killed process,
  // so that a download can resume: opened for appending, and flock()ed while
  // open. nullopt when another process holds it.
  static std::optional<TempFile> open_resumable(const stdfs::path& dir, const std::string& name);
  TempFile(TempFile&&) noexcept;
  TempFile& operator=(TempFile&&) = delete;
  ~TempFile();

  int fd() const { return fd_.get(); }
  const stdfs::path& path() const { return path_; }
  void write(std::span<const std::uint8_t> data) { write_all(fd_.get(), data, path_); }
  void write(std::string_view data);
  void sync();
  // Flushes and closes the descriptor; the file stays until commit or drop.
  // Keeps descriptors bounded when thousands of files wait for one commit.
  void close();
  // Replaces `target` atomically.
  void commit_replace(const stdfs::path& target);
  // Creates `target` only if it does not exist; returns false (and keeps the
  // temp file) when it does.
  bool commit_exclusive(const stdfs::path& target);
  // Gives the file up without removing it (after it was renamed elsewhere).
  void discard();
  // Leaves the file in place when this object dies (a partial download).
  void keep() { live_ = false; }
  // Empties the file, to start over.
  void truncate();
  // Moves it to a fresh random name in its folder, so that nobody resumes into it.
  void rename_random(std::string_view prefix);
  std::uint64_t size_on_disk() const;

 private:
  TempFile(UniqueFd fd, stdfs::path path) : fd_(std::move(fd)), path_(std::move(path)) {}

  UniqueFd fd_;
  stdfs::path path_;
  bool live_ = true;
};

class TempDir {
 public:
  explicit TempDir(const stdfs::path& parent, std::string_view prefix = ".tmp-");
  TempDir(TempDir&&) noexcept;
  TempDir& operator=(TempDir&&) = delete;
  ~TempDir();
  const stdfs::path& path() const { return path_; }
  // Stops owning the folder, after it was renamed into place.
  void release() { path_.clear(); }

 private:
  stdfs::path path_;
};

// flock(2)-based lock; released by the kernel if the process dies.
class FileLock {
 public:
  enum class Mode { kShared, kExclusive };
  FileLock(const stdfs::path& path, Mode mode);

 private:
  UniqueFd fd_;
};

// A random suffix for temp names (not for security).
std::string random_suffix();

}  // namespace mlpack::fs
