#include "mlpack/store/objects.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <set>

#include "mlpack/util/error.hpp"

namespace mlpack::store {

ObjectWriter::ObjectWriter(const Repository& repo) : file_(repo.tmp_dir(), "obj-") {}

void ObjectWriter::write(std::span<const std::uint8_t> data) {
  hash_.update(data);
  file_.write(data);
  size_ += data.size();
}

void ObjectWriter::write(std::string_view data) {
  write(std::span(reinterpret_cast<const std::uint8_t*>(data.data()), data.size()));
}

namespace {
fs::TempFile open_partial(const Repository& repo, const std::string& hex, bool& resumable) {
  if (auto file = fs::TempFile::open_resumable(repo.tmp_dir(), "part-" + hex)) {
    resumable = true;
    return std::move(*file);
  }
  return fs::TempFile(repo.tmp_dir(), "obj-");
}
}  // namespace

ObjectWriter::ObjectWriter(const Repository& repo, const std::string& resume_hex)
    : file_(open_partial(repo, resume_hex, resumable_)) {
  if (!resumable_) return;
  // Hash what an earlier attempt left, so the digest covers every byte.
  fs::UniqueFd in = fs::open_read(file_.path());
  std::vector<std::uint8_t> buffer(kCopyBufferBytes);
  for (;;) {
    std::size_t n = fs::read_some(in.get(), buffer, file_.path());
    if (n == 0) break;
    hash_.update(std::span<const std::uint8_t>(buffer.data(), n));
    size_ += n;
  }
}

void ObjectWriter::restart() {
  file_.truncate();
  hash_ = crypto::Sha256();
  size_ = 0;
}

void ObjectWriter::hash_through(std::uint64_t end) {
  std::vector<std::uint8_t> buffer(kCopyBufferBytes);
  while (size_ < end) {
    const std::size_t want =
        static_cast<std::size_t>(std::min<std::uint64_t>(buffer.size(), end - size_));
    const ssize_t got = ::pread(file_.fd(), buffer.data(), want, static_cast<off_t>(size_));
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) throw RuntimeError("cannot read back " + file_.path().string());
    hash_.update(std::span<const std::uint8_t>(buffer.data(), static_cast<std::size_t>(got)));
    size_ += static_cast<std::uint64_t>(got);
  }
  // Later sequential writes (none are expected) would go after these bytes.
  ::lseek(file_.fd(), static_cast<off_t>(size_), SEEK_SET);
}

void ObjectWriter::keep_partial() {
  if (!resumable_ || size_ == 0) return;
  // Only the bytes in the digest are a prefix worth resuming; ranges that
  // landed after a gap are dropped.
  if (::ftruncate(file_.fd(), static_cast<off_t>(size_)) != 0) return;
  file_.keep();
}

StagedObject ObjectWriter::finish() {
  // Off the resumable name while still locked: nobody appends to it any more.
  if (resumable_) {
    if (file_.size_on_disk() != size_) {
      throw IntegrityError(file_.path().string() + " holds other bytes than were written to it");
    }
    file_.rename_random("obj-");
  }
  file_.close();
  return StagedObject{hash_.finish_hex(), size_, std::move(file_)};
}

IngestedFile ingest_file(const Repository& repo, const stdfs::path& source,
                         std::size_t head_bytes) {
  fs::UniqueFd in = fs::open_read(source);
  ObjectWriter writer(repo);
  std::vector<std::uint8_t> buffer(kCopyBufferBytes);
  std::vector<std::uint8_t> head;
  for (;;) {
    std::size_t n = fs::read_some(in.get(), buffer, source);
    if (n == 0) break;
    if (head.size() < head_bytes) {
      std::size_t take = std::min(head_bytes - head.size(), n);
      head.insert(head.end(), buffer.begin(), buffer.begin() + static_cast<std::ptrdiff_t>(take));
    }
    writer.write(std::span(buffer.data(), n));
  }
  return IngestedFile{writer.finish(), std::move(head)};
}

namespace {
long stamp_nanoseconds(const std::string& hex) {
  // 28 bits of the digest, kept under a second.
  return static_cast<long>(std::stoul(hex.substr(0, 7), nullptr, 16) % 1'000'000'000);
}
}  // namespace

void stamp_file(const stdfs::path& file, const std::string& hex) {
  struct timespec times[2];
  times[0].tv_sec = 0;
  times[0].tv_nsec = UTIME_OMIT;
  times[1].tv_sec = ::time(nullptr);
  times[1].tv_nsec = stamp_nanoseconds(hex);
  // Best effort: without the stamp, callers only hash the file again.
  (void)::utimensat(AT_FDCWD, file.c_str(), times, 0);
}

bool file_unmodified(const stdfs::path& file, const std::string& hex, std::uint64_t size) {
  struct stat st {};
  if (::stat(file.c_str(), &st) != 0) return false;
  return S_ISREG(st.st_mode) && static_cast<std::uint64_t>(st.st_size) == size &&
         st.st_mtim.tv_nsec == stamp_nanoseconds(hex);
}

bool object_unmodified(const Repository& repo, const std::string& hex, std::uint64_t size) {
  return file_unmodified(repo.object_path(hex), hex, size);
}

void Transaction::check_content(const manifest::Manifest& m, const ContentCheck& check) const {
  if (!check) return;
  check(m, [this](const std::string& sha256) -> stdfs::path {
    for (const auto& object : staged_) {
      if (object.sha256 == sha256) return object.file.path();
    }
    return repo_.object_path(sha256);
  });
}

void Transaction::commit() {
  std::set<stdfs::path> dirs;
  for (auto& obj : staged_) {
    stdfs::path target = repo_.object_path(obj.sha256);
    stdfs::path dir = target.parent_path();
    if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) {
      throw_system_error("cannot create " + dir.string(), errno);
    }
    if (repo_.has_object(obj.sha256)) continue;  // the TempFile removes the duplicate
    stamp_file(obj.file.path(), obj.sha256);
    obj.file.commit_replace(target);
    dirs.insert(dir);
  }
  for (const auto& d : dirs) fs::fsync_dir(d);
  staged_.clear();
}

void copy_verified_object(const Repository& repo, const std::string& hex, std::uint64_t size,
                          int out_fd, const stdfs::path& out_name) {
  const stdfs::path src = repo.object_path(hex);
  fs::UniqueFd in;
  try {
    in = fs::open_read(src);
  } catch (const NotFoundError&) {
    throw NotFoundError("blob sha256:" + hex.substr(0, 12) + " for " + out_name.string() +
                        " is missing from the store: run mlpack fsck");
  }
  crypto::Sha256 hash;
  std::vector<std::uint8_t> buffer(kCopyBufferBytes);
  std::uint64_t total = 0;
  for (;;) {
    std::size_t n = fs::read_some(in.get(), buffer, src);
    if (n == 0) break;
    total += n;
    if (total > size) break;
    hash.update(std::span(buffer.data(), n));
    if (out_fd >= 0) fs::write_all(out_fd, std::span(buffer.data(), n), out_name);
  }
  if (total != size || hash.finish_hex() != hex) {
    throw IntegrityError("blob sha256:" + hex.substr(0, 12) + " for " + out_name.string() +
                         " is corrupt in the store (digest mismatch): run mlpack fsck");
  }
}

}  // namespace mlpack::store
