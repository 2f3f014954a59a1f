#include "mlpack/util/fs.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <random>

#include "mlpack/util/error.hpp"

namespace mlpack::fs {

UniqueFd& UniqueFd::operator=(UniqueFd&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = other.release();
  }
  return *this;
}

UniqueFd::~UniqueFd() {
  if (fd_ >= 0) ::close(fd_);
}

UniqueFd open_read(const stdfs::path& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw_system_error("cannot open " + path.string(), errno);
  return UniqueFd(fd);
}

std::size_t read_some(int fd, std::span<std::uint8_t> buffer, const stdfs::path& for_errors) {
  for (;;) {
    ssize_t n = ::read(fd, buffer.data(), buffer.size());
    if (n >= 0) return static_cast<std::size_t>(n);
    if (errno != EINTR) throw_system_error("cannot read " + for_errors.string(), errno);
  }
}

void write_all(int fd, std::span<const std::uint8_t> data, const stdfs::path& for_errors) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      throw_system_error("cannot write " + for_errors.string(), errno);
    }
    data = data.subspan(static_cast<std::size_t>(n));
  }
}

void fsync_dir(const stdfs::path& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;  // best effort: some file systems refuse to open folders
  ::fsync(fd);
  ::close(fd);
}

std::string read_file(const stdfs::path& path, std::size_t max_bytes) {
  UniqueFd fd = open_read(path);
  std::string out;
  std::uint8_t buffer[65536];
  for (;;) {
    std::size_t n = read_some(fd.get(), buffer, path);
    if (n == 0) break;
    if (out.size() + n > max_bytes) {
      throw UsageError(path.string() + " is larger than " + std::to_string(max_bytes >> 20) +
                       " MiB, too large to be read whole");
    }
    out.append(reinterpret_cast<const char*>(buffer), n);
  }
  return out;
}

void write_file_atomic(const stdfs::path& path, std::string_view data) {
  stdfs::path dir = path.parent_path().empty() ? stdfs::path(".") : path.parent_path();
  TempFile tmp(dir);
  tmp.write(data);
  tmp.sync();
  tmp.commit_replace(path);
  fsync_dir(dir);
}

void pwrite_all(int fd, std::span<const std::uint8_t> data, std::uint64_t offset) {
  while (!data.empty()) {
    const ssize_t n = ::pwrite(fd, data.data(), data.size(), static_cast<off_t>(offset));
    if (n < 0) {
      if (errno == EINTR) continue;
      throw_system_error("cannot write a downloaded range", errno);
    }
    data = data.subspan(static_cast<std::size_t>(n));
    offset += static_cast<std::uint64_t>(n);
  }
}

std::string random_suffix() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  static constexpr char kChars[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  std::string s(12, 'x');
  for (char& c : s) c = kChars[rng() % (sizeof(kChars) - 1)];
  return s;
}

TempFile::TempFile(const stdfs::path& dir, std::string_view prefix) {
  for (int attempt = 0; attempt < 16; ++attempt) {
    stdfs::path candidate = dir / (std::string(prefix) + random_suffix());
    int fd = ::open(candidate.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd >= 0) {
      fd_ = UniqueFd(fd);
      path_ = candidate;
      return;
    }
    if (errno != EEXIST) throw_system_error("cannot create a file in " + dir.string(), errno);
  }
  throw RuntimeError("cannot create a temp file in " + dir.string());
}

std::optional<TempFile> TempFile::open_resumable(const stdfs::path& dir, const std::string& name) {
  const stdfs::path path = dir / name;
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) throw_system_error("cannot open " + path.string(), errno);
  UniqueFd owned(fd);
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    if (errno == EWOULDBLOCK) return std::nullopt;
    throw_system_error("cannot lock " + path.string(), errno);
  }
  if (::lseek(fd, 0, SEEK_END) < 0) throw_system_error("cannot seek in " + path.string(), errno);
  return TempFile(std::move(owned), path);
}

void TempFile::truncate() {
  if (::ftruncate(fd_.get(), 0) != 0 || ::lseek(fd_.get(), 0, SEEK_SET) < 0) {
    throw_system_error("cannot empty " + path_.string(), errno);
  }
}

void TempFile::rename_random(std::string_view prefix) {
  for (int attempt = 0; attempt < 16; ++attempt) {
    stdfs::path candidate = path_.parent_path() / (std::string(prefix) + random_suffix());
    // renameat2(RENAME_NOREPLACE) would do; link + unlink is as safe and portable.
    if (::link(path_.c_str(), candidate.c_str()) == 0) {
      ::unlink(path_.c_str());
      path_ = candidate;
      return;
    }
    if (errno != EEXIST) throw_system_error("cannot rename " + path_.string(), errno);
  }
  throw RuntimeError("cannot rename " + path_.string());
}

std::uint64_t TempFile::size_on_disk() const {
  struct stat st {};
  if (::fstat(fd_.get(), &st) != 0) throw_system_error("cannot stat " + path_.string(), errno);
  return static_cast<std::uint64_t>(st.st_size);
}

TempFile::TempFile(TempFile&& other) noexcept
    : fd_(std::move(other.fd_)), path_(std::move(other.path_)), live_(other.live_) {
  other.live_ = false;
}

TempFile::~TempFile() {
  if (live_ && !path_.empty()) ::unlink(path_.c_str());
}

void TempFile::write(std::string_view data) {
  write_all(fd_.get(), std::span(reinterpret_cast<const std::uint8_t*>(data.data()), data.size()),
            path_);
}

void TempFile::sync() {
  if (::fsync(fd_.get()) != 0) throw_system_error("cannot flush " + path_.string(), errno);
}

void TempFile::close() {
  if (!fd_) return;
  sync();
  fd_ = UniqueFd();
}

void TempFile::commit_replace(const stdfs::path& target) {
  if (::rename(path_.c_str(), target.c_str()) != 0) {
    throw_system_error("cannot move " + path_.string() + " to " + target.string(), errno);
  }
  live_ = false;
}

bool TempFile::commit_exclusive(const stdfs::path& target) {
  if (::link(path_.c_str(), target.c_str()) != 0) {
    if (errno == EEXIST) return false;
    throw_system_error("cannot create " + target.string(), errno);
  }
  ::unlink(path_.c_str());
  live_ = false;
  return true;
}

void TempFile::discard() {
  live_ = false;
}

TempDir::TempDir(const stdfs::path& parent, std::string_view prefix) {
  for (int attempt = 0; attempt < 16; ++attempt) {
    stdfs::path candidate = parent / (std::string(prefix) + random_suffix());
    if (::mkdir(candidate.c_str(), 0755) == 0) {
      path_ = candidate;
      return;
    }
    if (errno != EEXIST) throw_system_error("cannot create a folder in " + parent.string(), errno);
  }
  throw RuntimeError("cannot create a temp folder in " + parent.string());
}

TempDir::TempDir(TempDir&& other) noexcept : path_(std::move(other.path_)) {
  other.path_.clear();
}

TempDir::~TempDir() {
  if (!path_.empty()) {
    std::error_code ec;
    stdfs::remove_all(path_, ec);
  }
}

FileLock::FileLock(const stdfs::path& path, Mode mode) {
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) throw_system_error("cannot open lock " + path.string(), errno);
  fd_ = UniqueFd(fd);
  int op = mode == Mode::kShared ? LOCK_SH : LOCK_EX;
  while (::flock(fd, op) != 0) {
    if (errno != EINTR) throw_system_error("cannot lock " + path.string(), errno);
  }
}

}  // namespace mlpack::fs
