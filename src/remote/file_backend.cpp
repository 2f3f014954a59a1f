// The directory backend: a remote that is a folder (local disk, NFS, a
// mounted share). Writes go to a temp file in the target folder and are
// renamed into place; create-only uses link(), which fails if the name
// exists; compare-and-swap holds an flock on the remote's lock file.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <vector>

#include "mlpack/crypto/sha256.hpp"
#include "mlpack/remote/backend.hpp"
#include "mlpack/util/error.hpp"
#include "mlpack/util/fs.hpp"

namespace mlpack::remote {
namespace {

class FileBackend final : public Backend {
 public:
  explicit FileBackend(stdfs::path root) : root_(std::move(root)) {}

  std::string describe() const override { return "file://" + root_.string(); }

  bool exists(const std::string& key) override {
    struct stat st {};
    return ::stat(path_of(key).c_str(), &st) == 0 && S_ISREG(st.st_mode);
  }

  void get(const std::string& key, const Sink& sink, std::uint64_t offset) override {
    fs::UniqueFd fd;
    try {
      fd = fs::open_read(path_of(key));
    } catch (const NotFoundError&) {
      throw NotFoundError(key + " not found on " + describe());
    }
    if (offset > 0 && ::lseek(fd.get(), static_cast<off_t>(offset), SEEK_SET) < 0) {
      throw_system_error("cannot seek in " + path_of(key).string(), errno);
    }
    std::vector<std::uint8_t> buffer(1 << 20);
    for (;;) {
      std::size_t n = fs::read_some(fd.get(), buffer, path_of(key));
      if (n == 0) break;
      sink(std::span(buffer.data(), n));
    }
  }

  std::optional<std::string> get_small(const std::string& key, std::size_t max_bytes) override {
    if (!exists(key)) return std::nullopt;
    try {
      return fs::read_file(path_of(key), max_bytes);
    } catch (const NotFoundError&) {
      return std::nullopt;
    }
  }

  void put_file(const std::string& key, const stdfs::path& file, std::uint64_t size,
                const std::string& sha256, bool verify, const net::ProgressFn& progress) override {
    fs::TempFile tmp = temp_for(key);
    fs::UniqueFd in = fs::open_read(file);
    crypto::Sha256 hash;
    std::uint64_t copied = 0;
    std::vector<std::uint8_t> buffer(1 << 20);
    while (copied < size) {
      std::span<std::uint8_t> room(buffer.data(), static_cast<std::size_t>(std::min<std::uint64_t>(
                                                      buffer.size(), size - copied)));
      std::size_t n = fs::read_some(in.get(), room, file);
      if (n == 0) break;
      std::span<const std::uint8_t> chunk(buffer.data(), n);
      if (verify) hash.update(chunk);
      tmp.write(chunk);
      copied += n;
      if (progress) progress(static_cast<std::int64_t>(n));
    }
    // The temp file is dropped unless the bytes are the ones promised.
    if (copied != size || (verify && hash.finish_hex() != sha256)) {
      throw IntegrityError(file.string() + " does not match its digest (sha256:" +
                           sha256.substr(0, 12) + "): the local copy is corrupt; nothing was sent");
    }
    finish_replace(tmp, key);
  }

  void put_bytes(const std::string& key, const std::string& bytes) override {
    fs::TempFile tmp = temp_for(key);
    tmp.write(bytes);
    finish_replace(tmp, key);
  }

  bool put_if_absent(const std::string& key, const std::string& bytes) override {
    fs::TempFile tmp = temp_for(key);
    tmp.write(bytes);
    tmp.close();
    bool created = tmp.commit_exclusive(path_of(key));
    if (created) fs::fsync_dir(path_of(key).parent_path());
    return created;
  }

  bool compare_and_swap(const std::string& key, const std::optional<std::string>& expected,
                        const std::string& bytes) override {
    ensure_root();
    fs::FileLock lock(root_ / ".mlpack-remote.lock", fs::FileLock::Mode::kExclusive);
    if (get_small(key, 1 << 20) != expected) return false;
    put_bytes(key, bytes);
    return true;
  }

  std::vector<std::string> list(const std::string& prefix) override {
    std::vector<std::string> out;
    std::error_code ec;
    const stdfs::path base = path_of(prefix);
    for (auto it = stdfs::recursive_directory_iterator(base, ec);
         !ec && it != stdfs::recursive_directory_iterator(); it.increment(ec)) {
      if (!it->is_regular_file()) continue;
      const std::string name = it->path().filename().string();
      if (name.starts_with(".tmp-")) continue;
      out.push_back(it->path().lexically_relative(root_).generic_string());
    }
    std::sort(out.begin(), out.end());
    return out;
  }

  void remove(const std::string& key) override {
    if (::unlink(path_of(key).c_str()) != 0 && errno != ENOENT) {
      throw_system_error("cannot remove " + key + " from " + describe(), errno);
    }
  }

 private:
  stdfs::path path_of(const std::string& key) const { return root_ / key; }

  void ensure_root() {
    std::error_code ec;
    stdfs::create_directories(root_, ec);
    if (ec)
      throw RuntimeError("cannot create remote folder " + root_.string() + ": " + ec.message());
  }

  fs::TempFile temp_for(const std::string& key) {
    const stdfs::path dir = path_of(key).parent_path();
    std::error_code ec;
    stdfs::create_directories(dir, ec);
    if (ec) throw RuntimeError("cannot create " + dir.string() + ": " + ec.message());
    return fs::TempFile(dir);
  }

  void finish_replace(fs::TempFile& tmp, const std::string& key) {
    tmp.close();
    tmp.commit_replace(path_of(key));
    fs::fsync_dir(path_of(key).parent_path());
  }

  stdfs::path root_;
};

}  // namespace

std::unique_ptr<Backend> open_file_backend(const Remote& remote) {
  return std::make_unique<FileBackend>(remote.url.path);
}

}  // namespace mlpack::remote
