#include "mlpack/archive/archive.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <locale.h>
#include <sys/stat.h>

#include <cerrno>
#include <ctime>
#include <map>
#include <memory>
#include <vector>

#include "mlpack/crypto/sha256.hpp"
#include "mlpack/store/objects.hpp"
#include "mlpack/store/pack.hpp"
#include "mlpack/util/error.hpp"
#include "mlpack/util/fs.hpp"

namespace mlpack::archive {
namespace {

struct ReadFree {
  void operator()(struct archive* a) const { archive_read_free(a); }
};
struct WriteFree {
  void operator()(struct archive* a) const { archive_write_free(a); }
};
struct EntryFree {
  void operator()(archive_entry* e) const { archive_entry_free(e); }
};
using ReadArchive = std::unique_ptr<struct archive, ReadFree>;
using WriteArchive = std::unique_ptr<struct archive, WriteFree>;
using Entry = std::unique_ptr<archive_entry, EntryFree>;

constexpr const char* kManifestName = "manifest.yaml";
constexpr const char* kSignatureName = "manifest.yaml.minisig";
constexpr const char* kFilesPrefix = "files/";

// Manifest paths are UTF-8 and pax stores UTF-8, but libarchive converts
// names through the thread's LC_CTYPE, which is "C" here (no setlocale) and
// refuses every non-ASCII name. Archive work runs under C.UTF-8 so the
// bytes never depend on the user's locale.
class Utf8Ctype {
 public:
  Utf8Ctype() : locale_(::newlocale(LC_CTYPE_MASK, "C.UTF-8", static_cast<locale_t>(0))) {
    if (locale_) previous_ = ::uselocale(locale_);
  }
  ~Utf8Ctype() {
    if (locale_) {
      ::uselocale(previous_);
      ::freelocale(locale_);
    }
  }
  Utf8Ctype(const Utf8Ctype&) = delete;
  Utf8Ctype& operator=(const Utf8Ctype&) = delete;

 private:
  locale_t locale_;
  locale_t previous_ = LC_GLOBAL_LOCALE;
};

std::string error_of(struct archive* a) {
  const char* s = archive_error_string(a);
  return s ? s : "unknown libarchive error";
}

std::time_t parse_created(const std::string& created) {
  std::tm tm{};
  if (::strptime(created.c_str(), "%Y-%m-%dT%H:%M:%SZ", &tm) == nullptr) return 0;
  return ::timegm(&tm);
}

void write_entry_header(struct archive* a, const std::string& name, std::uint64_t size,
                        std::time_t mtime, const stdfs::path& out) {
  Entry e(archive_entry_new());
  archive_entry_set_pathname(e.get(), name.c_str());
  archive_entry_set_filetype(e.get(), AE_IFREG);
  archive_entry_set_perm(e.get(), 0644);
  archive_entry_set_size(e.get(), static_cast<la_int64_t>(size));
  archive_entry_set_mtime(e.get(), mtime, 0);
  archive_entry_set_uid(e.get(), 0);
  archive_entry_set_gid(e.get(), 0);
  if (archive_write_header(a, e.get()) != ARCHIVE_OK) {
    throw RuntimeError("cannot write " + out.string() + ": " + error_of(a));
  }
}

void write_data(struct archive* a, const void* data, std::size_t size, const stdfs::path& out) {
  if (archive_write_data(a, data, size) != static_cast<la_ssize_t>(size)) {
    throw RuntimeError("cannot write " + out.string() + ": " + error_of(a));
  }
}

// Streams one archive entry's data, refusing it as soon as it grows past
// what the manifest says; returns the byte count and digest actually read.
std::pair<std::uint64_t, std::string> read_entry_data(struct archive* a, std::uint64_t limit,
                                                      fs::TempFile* out, const std::string& name) {
  crypto::Sha256 hash;
  std::vector<std::uint8_t> buffer(store::kCopyBufferBytes);
  std::uint64_t total = 0;
  for (;;) {
    la_ssize_t n = archive_read_data(a, buffer.data(), buffer.size());
    if (n < 0) throw IntegrityError("corrupt archive entry " + name + ": " + error_of(a));
    if (n == 0) break;
    total += static_cast<std::uint64_t>(n);
    if (total > limit) {
      throw IntegrityError("unsafe archive: " + name + " is larger than the manifest says (" +
                           std::to_string(limit) + " bytes)");
    }
    std::span<const std::uint8_t> chunk(buffer.data(), static_cast<std::size_t>(n));
    hash.update(chunk);
    if (out) out->write(chunk);
  }
  return {total, hash.finish_hex()};
}

std::string read_small_entry(struct archive* a, std::size_t limit, const std::string& name) {
  std::string out;
  std::vector<char> buffer(65536);
  for (;;) {
    la_ssize_t n = archive_read_data(a, buffer.data(), buffer.size());
    if (n < 0) throw IntegrityError("corrupt archive entry " + name + ": " + error_of(a));
    if (n == 0) break;
    if (out.size() + static_cast<std::size_t>(n) > limit) {
      throw IntegrityError("unsafe archive: " + name + " is larger than " +
                           std::to_string(limit >> 10) + " KiB");
    }
    out.append(buffer.data(), static_cast<std::size_t>(n));
  }
  return out;
}

ArchiveHead walk(const stdfs::path& file, const ArchiveVisitor* visitor) {
  Utf8Ctype utf8;
  std::error_code ec;
  if (!stdfs::is_regular_file(file, ec)) throw NotFoundError("archive not found: " + file.string());
  ReadArchive a(archive_read_new());
  archive_read_support_filter_all(a.get());
  archive_read_support_format_tar(a.get());
  if (archive_read_open_filename(a.get(), file.c_str(), 1 << 16) != ARCHIVE_OK) {
    throw IntegrityError("cannot read " + file.string() +
                         " as an mlpack archive: " + error_of(a.get()));
  }
  const std::string where = file.string();
  std::optional<ArchiveHead> head;
  std::map<std::string, const manifest::FileEntry*> expected;
  std::set<std::string> seen;
  bool files_started = false;
  archive_entry* entry = nullptr;
  int r;
  while ((r = archive_read_next_header(a.get(), &entry)) == ARCHIVE_OK) {
    std::string name = archive_entry_pathname(entry) ? archive_entry_pathname(entry) : "";
    const auto type = archive_entry_filetype(entry);
    if (archive_entry_hardlink(entry) != nullptr) {
      throw IntegrityError("unsafe archive " + where + ": hardlink entry '" + name + "'");
    }
    if (type == AE_IFLNK) {
      throw IntegrityError("unsafe archive " + where + ": symlink entry '" + name + "'");
    }
    if (type != AE_IFREG && type != AE_IFDIR) {
      throw IntegrityError("unsafe archive " + where + ": entry '" + name +
                           "' is not a regular file or folder");
    }
    if (type == AE_IFDIR) {
      while (!name.empty() && name.back() == '/') name.pop_back();
    }
    if (!manifest::is_safe_relative_path(name)) {
      throw IntegrityError("unsafe archive " + where + ": path '" + name + "'");
    }
    if (type == AE_IFDIR) {
      if (name != "files" && !name.starts_with(kFilesPrefix)) {
        throw IntegrityError("unexpected folder '" + name + "' in " + where);
      }
      continue;
    }
    if (!head) {
      if (name != kManifestName) {
        throw IntegrityError(where + " is not an mlpack archive: the first entry is '" + name +
                             "', not manifest.yaml");
      }
      std::string bytes = read_small_entry(a.get(), kMaxManifestBytes, name);
      std::string digest = crypto::sha256_hex(bytes);
      manifest::Manifest parsed = manifest::read_manifest(bytes, where);
      head.emplace(
          ArchiveHead{std::move(bytes), std::move(digest), std::move(parsed), std::nullopt});
      for (const auto& f : head->manifest.files) expected[f.path] = &f;
      continue;
    }
    if (name == kSignatureName) {
      if (files_started || head->signature) {
        throw IntegrityError("unexpected " + name + " in " + where +
                             ": it must follow manifest.yaml once");
      }
      head->signature = read_small_entry(a.get(), kMaxSignatureBytes, name);
      continue;
    }
    if (!visitor) break;  // only the head was wanted
    if (!files_started) {
      files_started = true;
      if (visitor->on_head) visitor->on_head(*head);
    }
    if (!name.starts_with(kFilesPrefix)) {
      throw IntegrityError("unexpected entry '" + name + "' in " + where);
    }
    const std::string rel = name.substr(std::string_view(kFilesPrefix).size());
    auto it = expected.find(rel);
    if (it == expected.end()) {
      throw IntegrityError("unsafe archive " + where + ": '" + rel +
                           "' is not listed in its manifest");
    }
    if (!seen.insert(rel).second) {
      throw IntegrityError("unsafe archive " + where + ": '" + rel + "' appears twice");
    }
    const manifest::FileEntry& f = *it->second;
    if (archive_entry_size_is_set(entry) &&
        static_cast<std::uint64_t>(archive_entry_size(entry)) != f.size) {
      throw IntegrityError("unsafe archive " + where + ": '" + rel + "' has size " +
                           std::to_string(archive_entry_size(entry)) + ", the manifest says " +
                           std::to_string(f.size));
    }
    fs::TempFile* out = visitor->open_output ? visitor->open_output(f) : nullptr;
    auto [size, digest] = read_entry_data(a.get(), f.size, out, rel);
    if (size != f.size) {
      throw IntegrityError("archive entry '" + rel + "' is truncated: " + std::to_string(size) +
                           " of " + std::to_string(f.size) + " bytes");
    }
    if (digest != f.sha256) {
      throw IntegrityError("digest mismatch for '" + rel + "' in " + where +
                           ": the archive was tampered with or is corrupt");
    }
    if (out && visitor->on_file_done) visitor->on_file_done(f);
  }
  if (r != ARCHIVE_EOF && !(r == ARCHIVE_OK && !visitor)) {
    throw IntegrityError("corrupt or truncated archive " + where + ": " + error_of(a.get()));
  }
  if (!head) throw IntegrityError(where + " is not an mlpack archive: no manifest.yaml");
  if (visitor) {
    if (!files_started && visitor->on_head) visitor->on_head(*head);
    for (const auto& f : head->manifest.files) {
      if (!seen.count(f.path)) {
        throw IntegrityError("incomplete archive " + where + ": '" + f.path + "' is missing");
      }
    }
  }
  return std::move(*head);
}

}  // namespace

bool wants(const RoleSet& roles, const manifest::FileEntry& f) {
  return roles.empty() || roles.count(f.role) > 0;
}

void export_artifact(const store::Repository& repo, const std::string& digest,
                     const stdfs::path& out, bool zstd,
                     const std::optional<std::string>& signature) {
  const std::string bytes = repo.read_manifest_bytes(digest);
  const manifest::Manifest m = manifest::read_manifest(bytes, "sha256:" + digest.substr(0, 12));
  const std::time_t mtime = parse_created(m.created);

  stdfs::path dir = out.parent_path().empty() ? stdfs::path(".") : out.parent_path();
  std::string temp_prefix = out.filename().string();
  temp_prefix.insert(0, 1, '.').append(".tmp-");
  fs::TempFile tmp(dir, temp_prefix);
  {
    Utf8Ctype utf8;
    WriteArchive a(archive_write_new());
    // pax_restricted writes plain ustar headers unless a field needs pax, so
    // plain tar reads it and the same artifact always gives the same bytes.
    archive_write_set_format_pax_restricted(a.get());
    if (zstd && archive_write_add_filter_zstd(a.get()) != ARCHIVE_OK) {
      throw RuntimeError("zstd compression is not available: " + error_of(a.get()));
    }
    archive_write_set_bytes_per_block(a.get(), 10240);
    if (archive_write_open_fd(a.get(), tmp.fd()) != ARCHIVE_OK) {
      throw RuntimeError("cannot write " + out.string() + ": " + error_of(a.get()));
    }
    write_entry_header(a.get(), kManifestName, bytes.size(), mtime, out);
    write_data(a.get(), bytes.data(), bytes.size(), out);
    if (signature) {
      write_entry_header(a.get(), kSignatureName, signature->size(), mtime, out);
      write_data(a.get(), signature->data(), signature->size(), out);
    }
    std::vector<std::uint8_t> buffer(store::kCopyBufferBytes);
    for (const auto& f : m.files) {
      write_entry_header(a.get(), kFilesPrefix + f.path, f.size, mtime, out);
      const stdfs::path src = repo.object_path(f.sha256);
      fs::UniqueFd in;
      try {
        in = fs::open_read(src);
      } catch (const NotFoundError&) {
        throw NotFoundError("blob for " + f.path + " is missing from the store: run mlpack fsck");
      }
      crypto::Sha256 hash;
      std::uint64_t total = 0;
      for (;;) {
        std::size_t n = fs::read_some(in.get(), buffer, src);
        if (n == 0) break;
        total += n;
        if (total > f.size) break;
        hash.update(std::span(buffer.data(), n));
        write_data(a.get(), buffer.data(), n, out);
      }
      if (total != f.size || hash.finish_hex() != f.sha256) {
        throw IntegrityError("blob for " + f.path + " is corrupt in the store: run mlpack fsck");
      }
    }
    if (archive_write_close(a.get()) != ARCHIVE_OK) {
      throw RuntimeError("cannot write " + out.string() + ": " + error_of(a.get()));
    }
  }
  tmp.close();
  tmp.commit_replace(out);
  fs::fsync_dir(dir);
}

ArchiveHead read_archive_head(const stdfs::path& file) {
  return walk(file, nullptr);
}

ArchiveHead walk_archive(const stdfs::path& file, const ArchiveVisitor& visitor) {
  return walk(file, &visitor);
}

ImportResult import_archive(store::Repository& repo, const stdfs::path& file,
                            const HeadCheck& check, const store::ContentCheck& content_check) {
  fs::FileLock lock(repo.lock_path(), fs::FileLock::Mode::kShared);
  store::Transaction txn(repo);
  std::optional<fs::TempFile> current;
  manifest::NameVersion binding;
  ArchiveVisitor visitor;
  visitor.on_head = [&](const ArchiveHead& h) {
    binding = check(h);
    // Refuse a version clash before copying gigabytes.
    if (auto existing = repo.read_tag(binding.name, binding.version);
        existing && *existing != h.digest) {
      throw ConflictError(binding.str() + " already exists with other content (sha256:" +
                          existing->substr(0, 12) + "); versions are immutable");
    }
  };
  visitor.open_output = [&](const manifest::FileEntry&) -> fs::TempFile* {
    current.emplace(repo.tmp_dir(), "obj-");
    return &*current;
  };
  visitor.on_file_done = [&](const manifest::FileEntry& f) {
    current->close();
    txn.add(store::StagedObject{f.sha256, f.size, std::move(*current)});
    current.reset();
  };
  ImportResult result{walk_archive(file, visitor), {}, false};
  result.binding = binding;
  txn.check_content(result.head.manifest, content_check);
  store::ObjectWriter manifest_writer(repo);
  manifest_writer.write(result.head.manifest_bytes);
  txn.add(manifest_writer.finish());
  txn.commit();
  if (result.head.signature) {
    repo.write_signature(result.head.digest, binding.name, binding.version, *result.head.signature);
  }
  result.created = store::tag_artifact(repo, binding.name, binding.version, result.head.digest);
  return result;
}

namespace {
// The manifest restricted to the files an unpack writes.
manifest::Manifest wanted_files(const manifest::Manifest& m, const RoleSet& roles) {
  manifest::Manifest out = m;
  std::erase_if(out.files, [&](const manifest::FileEntry& f) { return !wants(roles, f); });
  return out;
}
}  // namespace

void unpack_from_store(const store::Repository& repo, const manifest::Manifest& m,
                       const stdfs::path& dir, const RoleSet& roles,
                       const store::ContentCheck& content_check) {
  if (content_check) {
    content_check(wanted_files(m, roles),
                  [&](const std::string& sha256) { return repo.object_path(sha256); });
  }
  OutputTree tree(dir);
  for (const auto& f : m.files) {
    if (!wants(roles, f)) continue;
    fs::TempFile& out = tree.open(f.path);
    store::copy_verified_object(repo, f.sha256, f.size, out.fd(), f.path);
    out.close();
  }
  tree.commit();
}

void unpack_from_archive(const stdfs::path& file, const stdfs::path& dir, const RoleSet& roles,
                         const HeadCheck& check, const store::ContentCheck& content_check) {
  std::optional<OutputTree> tree;
  fs::TempFile* current = nullptr;
  std::map<std::string, stdfs::path> written;  // sha256 -> its verified temp file
  ArchiveVisitor visitor;
  // The folder is created only once the manifest has been read and checked.
  visitor.on_head = [&](const ArchiveHead& h) {
    if (check) check(h);
    tree.emplace(dir);
  };
  visitor.open_output = [&](const manifest::FileEntry& f) -> fs::TempFile* {
    if (!wants(roles, f)) return nullptr;
    current = &tree->open(f.path);
    return current;
  };
  visitor.on_file_done = [&](const manifest::FileEntry& f) {
    current->close();
    written.emplace(f.sha256, current->path());
  };
  const ArchiveHead head = walk_archive(file, visitor);
  if (content_check) {
    content_check(wanted_files(head.manifest, roles),
                  [&](const std::string& sha256) { return written.at(sha256); });
  }
  tree->commit();
}

namespace {
bool cached_file_matches(const stdfs::path& file, const manifest::FileEntry& f) {
  struct stat st {};
  if (::stat(file.c_str(), &st) != 0 || !S_ISREG(st.st_mode) ||
      static_cast<std::uint64_t>(st.st_size) != f.size) {
    return false;
  }
  try {
    return crypto::sha256_file_hex(file) == f.sha256;
  } catch (const Error&) {
    return false;
  }
}
}  // namespace

stdfs::path materialize(const store::Repository& repo, const std::string& digest,
                        const manifest::Manifest& m, const std::optional<stdfs::path>& archive_file,
                        const HeadCheck& check, const store::ContentCheck& content_check) {
  const stdfs::path target = repo.cache_dir() / digest;
  std::error_code ec;
  if (stdfs::is_directory(target, ec)) {
    // Services load what this returns, so the cache must hold exactly the
    // verified bytes: a file still carrying the stamp given when it was
    // unpacked is untouched; any other is hashed, and a mismatch rebuilds.
    bool whole = true;
    for (const auto& f : m.files) {
      const stdfs::path file = target / f.path;
      if (store::file_unmodified(file, f.sha256, f.size)) continue;
      if (!cached_file_matches(file, f)) {
        whole = false;
        break;
      }
      store::stamp_file(file, f.sha256);
    }
    if (whole) {
      // Content once let in is cached, but an archive naming it must still
      // pass the signature policy each time (a key untrusted since, or an
      // earlier --allow-unsigned, must not make it silent).
      if (archive_file && check) {
        ArchiveHead head = read_archive_head(*archive_file);
        if (head.digest != digest) {
          throw IntegrityError(archive_file->string() + " changed while it was being read");
        }
        check(head);
      }
      return target;
    }
    stdfs::remove_all(target, ec);
  }
  stdfs::create_directories(repo.cache_dir(), ec);
  fs::TempDir tmp(repo.cache_dir());
  if (archive_file) {
    unpack_from_archive(*archive_file, tmp.path(), {}, check, content_check);
  } else {
    unpack_from_store(repo, m, tmp.path(), {});
  }
  for (const auto& f : m.files) {
    ::chmod((tmp.path() / f.path).c_str(), 0444);
    store::stamp_file(tmp.path() / f.path, f.sha256);
  }
  if (::rename(tmp.path().c_str(), target.c_str()) == 0) {
    tmp.release();
  } else if (errno != EEXIST && errno != ENOTEMPTY) {
    throw_system_error("cannot move the unpacked artifact to " + target.string(), errno);
  }
  fs::fsync_dir(repo.cache_dir());
  return target;
}

std::string libarchive_version_text() {
  return archive_version_details();
}

}  // namespace mlpack::archive
