#include "readers.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <exception>
#include <limits>
#include <new>
#include <utility>

#include "mlpack/util/error.hpp"

namespace mlpack::scan::readers {
namespace {

using Bytes = std::span<const std::uint8_t>;

bool starts_with(Bytes b, std::string_view prefix) {
  return b.size() >= prefix.size() && std::memcmp(b.data(), prefix.data(), prefix.size()) == 0;
}

std::uint64_t read_le(Bytes b, std::size_t off, std::size_t n) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < n; ++i) v |= std::uint64_t{b[off + i]} << (8 * i);
  return v;
}

// pread that retries on EINTR and throws the project's errors: the file
// being scanned failing to read is an I/O error, not a finding.
std::size_t pread_some(int fd, std::span<std::uint8_t> out, std::uint64_t offset,
                       const std::filesystem::path& path) {
  if (offset > static_cast<std::uint64_t>(std::numeric_limits<off_t>::max())) return 0;
  for (;;) {
    ssize_t n = ::pread(fd, out.data(), out.size(), static_cast<off_t>(offset));
    if (n >= 0) return static_cast<std::size_t>(n);
    if (errno != EINTR) throw_system_error("cannot read " + path.string(), errno);
  }
}

std::size_t pread_full(int fd, std::span<std::uint8_t> out, std::uint64_t offset,
                       const std::filesystem::path& path) {
  std::size_t done = 0;
  while (done < out.size()) {
    std::size_t n = pread_some(fd, out.subspan(done), offset + done, path);
    if (n == 0) break;
    done += n;
  }
  return done;
}

struct ReadFree {
  void operator()(struct archive* a) const { archive_read_free(a); }
};
using ReadArchive = std::unique_ptr<struct archive, ReadFree>;

ReadArchive new_read_archive() {
  ReadArchive a(archive_read_new());
  if (!a) throw std::bad_alloc();
  return a;
}

std::string error_of(struct archive* a) {
  const char* s = archive_error_string(a);
  return s ? s : "unknown error";
}

// Feeds libarchive through callbacks. A C++ exception (an I/O error on the
// file) must not unwind through libarchive's C frames, so it is kept here,
// the callback reports a fatal error, and the exception is rethrown once
// libarchive has returned.
class Source {
 public:
  virtual ~Source() = default;
  void rethrow() {
    if (pending_) std::rethrow_exception(std::exchange(pending_, nullptr));
  }

 protected:
  std::exception_ptr pending_;
};

// A Reader as an archive's input (a compressed stream, a zip inside a zip).
class StreamSource final : public Source {
 public:
  explicit StreamSource(Reader& in) : in_(in), buffer_(kStreamBufferBytes) {}

  void attach(struct archive* a) {
    archive_read_set_callback_data(a, this);
    archive_read_set_read_callback(a, &StreamSource::read_cb);
  }

 private:
  static la_ssize_t read_cb(struct archive*, void* data, const void** out) {
    auto* self = static_cast<StreamSource*>(data);
    try {
      std::size_t n = self->in_.read(self->buffer_);
      *out = self->buffer_.data();
      return static_cast<la_ssize_t>(n);
    } catch (...) {
      self->pending_ = std::current_exception();
      return ARCHIVE_FATAL;
    }
  }

  Reader& in_;
  std::vector<std::uint8_t> buffer_;
};

// A file as a seekable archive input, read with pread at an offset of its
// own so the FileReader sharing the descriptor is not disturbed.
class FileSource final : public Source {
 public:
  explicit FileSource(const FileReader& file)
      : fd_(file.fd()), size_(file.size()), path_(file.path()), buffer_(kStreamBufferBytes) {}

  void attach(struct archive* a) {
    archive_read_set_callback_data(a, this);
    archive_read_set_read_callback(a, &FileSource::read_cb);
    archive_read_set_seek_callback(a, &FileSource::seek_cb);
    archive_read_set_skip_callback(a, &FileSource::skip_cb);
  }

 private:
  static la_ssize_t read_cb(struct archive*, void* data, const void** out) {
    auto* self = static_cast<FileSource*>(data);
    try {
      std::size_t n = pread_some(self->fd_, self->buffer_, self->offset_, self->path_);
      self->offset_ += n;
      *out = self->buffer_.data();
      return static_cast<la_ssize_t>(n);
    } catch (...) {
      self->pending_ = std::current_exception();
      return ARCHIVE_FATAL;
    }
  }

  // Offsets come from the archive's own (hostile) fields, so every one is
  // checked against the file's size; nothing is ever read out of range.
  static la_int64_t seek_cb(struct archive*, void* data, la_int64_t offset, int whence) {
    auto* self = static_cast<FileSource*>(data);
    const auto size = static_cast<la_int64_t>(self->size_);
    la_int64_t base = whence == SEEK_SET   ? 0
                      : whence == SEEK_CUR ? static_cast<la_int64_t>(self->offset_)
                      : whence == SEEK_END ? size
                                           : -1;
    if (base < 0 || (offset < 0 && offset < -base) || (offset > 0 && offset > size - base)) {
      return ARCHIVE_FATAL;
    }
    self->offset_ = static_cast<std::uint64_t>(base + offset);
    return static_cast<la_int64_t>(self->offset_);
  }

  static la_int64_t skip_cb(struct archive*, void* data, la_int64_t request) {
    auto* self = static_cast<FileSource*>(data);
    if (request <= 0) return 0;
    std::uint64_t left = self->offset_ < self->size_ ? self->size_ - self->offset_ : 0;
    auto n = std::min(static_cast<std::uint64_t>(request), left);
    self->offset_ += n;
    return static_cast<la_int64_t>(n);
  }

  int fd_;
  std::uint64_t size_;
  std::filesystem::path path_;
  std::vector<std::uint8_t> buffer_;
  std::uint64_t offset_ = 0;
};

// --- decompressors -----------------------------------------------------------

// Plain zlib streams (joblib's "zlib" compressor and its legacy "ZF" files),
// which libarchive does not read. joblib concatenates streams the way gzip
// does, and reads on into a new one; "ZF" files hold exactly one.
class ZlibReader final : public BufferedReader {
 public:
  ZlibReader(Reader& in, bool multi_stream)
      : BufferedReader(kStreamBufferBytes),
        in_(in),
        input_(kStreamBufferBytes),
        multi_(multi_stream) {
    if (inflateInit(&z_) != Z_OK) throw std::bad_alloc();
  }
  ~ZlibReader() override { inflateEnd(&z_); }

 protected:
  std::size_t fill(std::span<std::uint8_t> out) override {
    for (;;) {
      if (z_.avail_in == 0 && !in_eof_) {
        std::size_t n = in_.read(input_);
        in_eof_ = n == 0;
        z_.next_in = input_.data();
        z_.avail_in = static_cast<uInt>(n);
      }
      if (ended_) {
        if (z_.avail_in == 0 && in_eof_) return 0;
        if (!multi_) return 0;  // zlib.decompress ignores what follows its stream
        if (z_.avail_in == 0) continue;
        inflateReset(&z_);
        ended_ = false;
      }
      if (z_.avail_in == 0 && in_eof_) {
        fail("zlib stream is truncated");
        return 0;
      }
      z_.next_out = out.data();
      // One call never produces more than 1 GiB, so the count fits uInt.
      z_.avail_out = static_cast<uInt>(std::min<std::size_t>(out.size(), 1u << 30));
      const uInt asked = z_.avail_out;
      const uInt had = z_.avail_in;
      int r = inflate(&z_, Z_NO_FLUSH);
      std::size_t produced = asked - z_.avail_out;
      if (r == Z_STREAM_END) {
        ended_ = true;
      } else if (r != Z_OK && r != Z_BUF_ERROR) {
        fail(std::string("corrupt zlib stream: ") + (z_.msg ? z_.msg : "inflate failed"));
        return 0;
      } else if (produced == 0 && z_.avail_in == had && z_.avail_in > 0) {
        fail("corrupt zlib stream: no progress");  // cannot happen with room to write; never spin
        return 0;
      }
      if (produced > 0) return produced;
    }
  }

 private:
  Reader& in_;
  std::vector<std::uint8_t> input_;
  bool multi_;
  z_stream z_{};
  bool in_eof_ = false;
  bool ended_ = false;
};

// gzip, bzip2, xz, legacy lzma and lz4 through libarchive's raw format. The
// one filter the magic named is appended explicitly: libarchive then skips
// its bidding, so a stream is decoded exactly once, as joblib would (no
// nested compression peeled off behind joblib's back, and no external
// program ever started for a missing codec).
class FilterReader final : public BufferedReader {
 public:
  FilterReader(Reader& in, int filter, std::string_view what)
      : BufferedReader(kStreamBufferBytes), source_(in), a_(new_read_archive()), what_(what) {
    archive_read_support_format_raw(a_.get());
    if (archive_read_append_filter(a_.get(), filter) != ARCHIVE_OK) {
      fail(what_ + " decoding is not available: " + error_of(a_.get()));
      return;
    }
    source_.attach(a_.get());
    int r = archive_read_open1(a_.get());
    source_.rethrow();
    if (r != ARCHIVE_OK) {
      fail("corrupt " + what_ + " stream: " + error_of(a_.get()));
      return;
    }
    archive_entry* entry = nullptr;
    r = archive_read_next_header(a_.get(), &entry);
    source_.rethrow();
    if (r != ARCHIVE_OK) {
      fail("corrupt " + what_ + " stream: " + error_of(a_.get()));
      return;
    }
    open_ = true;
  }

 protected:
  std::size_t fill(std::span<std::uint8_t> out) override {
    if (!open_) return 0;
    la_ssize_t n = archive_read_data(a_.get(), out.data(), out.size());
    source_.rethrow();
    if (n < 0) {
      fail("corrupt " + what_ + " stream: " + error_of(a_.get()));
      return 0;
    }
    return static_cast<std::size_t>(n);
  }

 private:
  StreamSource source_;
  ReadArchive a_;
  std::string what_;
  bool open_ = false;
};

// liblzma allocates the whole dictionary a stream declares, and libarchive
// turns liblzma's memory limit off, so the declared size is checked before
// decoding starts. 256 MiB is four times what xz -9 or Python's lzma preset
// 9 use.
constexpr std::uint64_t kMaxDictionary = 256u << 20;

std::string dictionary_refusal(std::string_view what, std::uint64_t dict) {
  return std::string(what) + " dictionary of " + std::to_string(dict >> 20) +
         " MiB is over the scanner's " + std::to_string(kMaxDictionary >> 20) + " MiB limit";
}

bool read_varint(Bytes b, std::size_t& pos, std::uint64_t& out) {
  out = 0;
  for (int i = 0; i < 9; ++i) {
    if (pos >= b.size()) return false;
    std::uint8_t c = b[pos++];
    out |= std::uint64_t{c & 0x7fu} << (7 * i);
    if ((c & 0x80) == 0) return true;
  }
  return false;
}

// The largest dictionary the first block of an .xz stream asks for (0 when
// its header cannot be read here; liblzma then reports the damage itself).
// Later blocks are not looked at: their headers sit behind data whose size
// is only known by decoding it.
std::uint64_t xz_first_block_dictionary(Bytes head) {
  constexpr std::size_t kStreamHeader = 12;
  if (head.size() <= kStreamHeader || head[kStreamHeader] == 0) return 0;  // 0: no block
  std::size_t size = (std::size_t{head[kStreamHeader]} + 1) * 4;
  if (head.size() - kStreamHeader < size) return 0;
  Bytes block = head.subspan(kStreamHeader, size - 4);  // without its CRC32
  if (block.size() < 2) return 0;
  std::uint8_t flags = block[1];
  std::size_t pos = 2;
  std::uint64_t ignored;
  if ((flags & 0x40) && !read_varint(block, pos, ignored)) return 0;
  if ((flags & 0x80) && !read_varint(block, pos, ignored)) return 0;
  std::uint64_t largest = 0;
  for (int i = 0; i <= (flags & 3); ++i) {
    std::uint64_t id;
    std::uint64_t props;
    if (!read_varint(block, pos, id) || !read_varint(block, pos, props)) return largest;
    if (props > block.size() - pos) return largest;
    if (id == 0x21 && props == 1) {  // LZMA2: dictionary size code
      std::uint8_t c = block[pos];
      std::uint64_t dict = c > 40    ? 0
                           : c == 40 ? 0xFFFFFFFFu
                                     : (std::uint64_t{2} | (c & 1u)) << (c / 2 + 11);
      largest = std::max(largest, dict);
    } else if (id == 0x4000000000000001 && props == 5) {  // LZMA1
      largest = std::max(largest, read_le(block, pos + 1, 4));
    }
    pos += static_cast<std::size_t>(props);
  }
  return largest;
}

bool is_space(std::uint8_t c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

bool is_hex(std::uint8_t c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

// What Python's int(field, 16) accepts, which is how joblib reads the length
// field of a "ZF" file ("0x1c" padded with spaces).
bool valid_zf_length(Bytes field) {
  std::size_t b = 0;
  std::size_t e = field.size();
  while (b < e && is_space(field[b])) ++b;
  while (e > b && is_space(field[e - 1])) --e;
  if (b < e && (field[b] == '+' || field[b] == '-')) ++b;
  if (e - b >= 2 && field[b] == '0' && (field[b + 1] == 'x' || field[b + 1] == 'X')) {
    b += 2;
    if (b < e && field[b] == '_') ++b;
  }
  if (b >= e) return false;
  bool digit = false;
  for (std::size_t i = b; i < e; ++i) {
    if (is_hex(field[i])) {
      digit = true;
    } else if (field[i] != '_' || !digit || i + 1 == e || field[i + 1] == '_') {
      return false;
    }
  }
  return digit;
}

}  // namespace

// --- BufferedReader ----------------------------------------------------------

BufferedReader::BufferedReader(std::size_t capacity)
    : buffer_(std::max<std::size_t>(capacity, 1)) {}

std::size_t BufferedReader::refill(std::span<std::uint8_t> out) {
  if (eof_ || out.empty()) return 0;
  std::size_t n = std::min(fill(out), out.size());
  if (n == 0) eof_ = true;
  return n;
}

std::size_t BufferedReader::read(std::span<std::uint8_t> out) {
  std::size_t done = 0;
  while (done < out.size()) {
    if (begin_ < end_) {
      std::size_t n = std::min(end_ - begin_, out.size() - done);
      std::memcpy(out.data() + done, buffer_.data() + begin_, n);
      begin_ += n;
      done += n;
      continue;
    }
    // Large reads (a tensor's bytes being skipped) bypass the buffer.
    if (out.size() - done >= buffer_.size()) {
      std::size_t n = refill(out.subspan(done));
      if (n == 0) break;
      done += n;
      continue;
    }
    begin_ = 0;
    end_ = refill(buffer_);
    if (end_ == 0) break;
  }
  position_ += done;
  return done;
}

std::span<const std::uint8_t> BufferedReader::peek(std::size_t n) {
  n = std::min(n, buffer_.size());
  if (end_ - begin_ < n) {
    if (begin_ > 0) {
      std::memmove(buffer_.data(), buffer_.data() + begin_, end_ - begin_);
      end_ -= begin_;
      begin_ = 0;
    }
    while (end_ < n) {
      std::size_t got = refill(std::span(buffer_).subspan(end_));
      if (got == 0) break;
      end_ += got;
    }
  }
  return {buffer_.data() + begin_, std::min(n, end_ - begin_)};
}

// --- FileReader ----------------------------------------------------------------

FileReader::FileReader(const std::filesystem::path& path)
    : BufferedReader(kFileBufferBytes), fd_(fs::open_read(path)), path_(path) {
  struct stat st {};
  if (::fstat(fd_.get(), &st) != 0) throw_system_error("cannot stat " + path.string(), errno);
  if (!S_ISREG(st.st_mode)) throw RuntimeError(path.string() + " is not a regular file");
  size_ = static_cast<std::uint64_t>(st.st_size);
}

std::size_t FileReader::fill(std::span<std::uint8_t> out) {
  std::size_t n = pread_some(fd_.get(), out, offset_, path_);
  offset_ += n;
  return n;
}

// --- compression -----------------------------------------------------------------

Compression sniff_compression(std::span<const std::uint8_t> head) {
  if (starts_with(head, "ZF")) return Compression::kJoblibZf;
  if (starts_with(head, "\x78")) return Compression::kZlib;
  if (starts_with(head, "\x1f\x8b")) return Compression::kGzip;
  if (starts_with(head, "BZ")) return Compression::kBzip2;
  if (starts_with(head, "\xfd\x37\x7a\x58\x5a")) return Compression::kXz;
  if (starts_with(head, std::string_view("\x5d\x00", 2))) return Compression::kLzma;
  if (starts_with(head, "\x04\x22\x4d\x18")) return Compression::kLz4;
  return Compression::kNone;
}

std::string_view compression_name(Compression c) {
  switch (c) {
    case Compression::kNone:
      return "none";
    case Compression::kJoblibZf:
      return "joblib ZF";
    case Compression::kZlib:
      return "zlib";
    case Compression::kGzip:
      return "gzip";
    case Compression::kBzip2:
      return "bzip2";
    case Compression::kXz:
      return "xz";
    case Compression::kLzma:
      return "lzma";
    case Compression::kLz4:
      return "lz4";
  }
  return "unknown";
}

std::unique_ptr<BufferedReader> open_decompressor(BufferedReader& in, Compression c,
                                                  std::string& refused) {
  switch (c) {
    case Compression::kNone:
      refused = "not a compressed stream";
      return nullptr;
    case Compression::kJoblibZf: {
      // joblib <= 0.9: "ZF", the data's length in hex padded to 19 bytes
      // (the width of hex(2**64)), a space more from old Python 2 writers,
      // then one zlib stream (numpy_pickle_compat.read_zfile).
      constexpr std::size_t kHeader = 2 + 19;
      Bytes head = in.peek(kHeader);
      if (head.size() < kHeader) {
        refused = "joblib ZF header is truncated";
        return nullptr;
      }
      if (!valid_zf_length(head.subspan(2))) {
        refused = "joblib ZF header has no valid length";
        return nullptr;
      }
      std::uint8_t skip[kHeader];
      in.read(skip);
      Bytes next = in.peek(1);
      if (!next.empty() && next[0] == ' ') in.read(std::span(skip, 1));
      return std::make_unique<ZlibReader>(in, false);
    }
    case Compression::kZlib:
      return std::make_unique<ZlibReader>(in, true);
    case Compression::kGzip:
      return std::make_unique<FilterReader>(in, ARCHIVE_FILTER_GZIP, "gzip");
    case Compression::kBzip2:
      return std::make_unique<FilterReader>(in, ARCHIVE_FILTER_BZIP2, "bzip2");
    case Compression::kXz: {
      std::uint64_t dict = xz_first_block_dictionary(in.peek(12 + 1024));
      if (dict > kMaxDictionary) {
        refused = dictionary_refusal("xz", dict);
        return nullptr;
      }
      return std::make_unique<FilterReader>(in, ARCHIVE_FILTER_XZ, "xz");
    }
    case Compression::kLzma: {
      // The .lzma header: properties byte, dictionary size, data size.
      Bytes head = in.peek(13);
      if (head.size() == 13 && read_le(head, 1, 4) > kMaxDictionary) {
        refused = dictionary_refusal("lzma", read_le(head, 1, 4));
        return nullptr;
      }
      return std::make_unique<FilterReader>(in, ARCHIVE_FILTER_LZMA, "lzma");
    }
    case Compression::kLz4:
      return std::make_unique<FilterReader>(in, ARCHIVE_FILTER_LZ4, "lz4");
  }
  refused = "unknown compression";
  return nullptr;
}

// --- zip -------------------------------------------------------------------------

std::optional<std::uint64_t> zip_directory_span(const FileReader& file) {
  constexpr std::size_t kEocd = 22;
  const std::uint64_t size = file.size();
  if (size < kEocd) return std::nullopt;
  const std::size_t tail_len =
      static_cast<std::size_t>(std::min<std::uint64_t>(size, 0xFFFF + kEocd));
  const std::uint64_t tail_at = size - tail_len;
  std::vector<std::uint8_t> tail(tail_len);
  tail.resize(pread_full(file.fd(), tail, tail_at, file.path()));
  if (tail.size() < kEocd) return std::nullopt;
  // The last record wins, as in libarchive's and Python's readers (a stored
  // zip inside the zip has one of its own further up).
  for (std::size_t i = tail.size() - kEocd + 1; i-- > 0;) {
    Bytes rec(tail.data() + i, tail.size() - i);
    if (!starts_with(rec, "PK\x05\x06")) continue;
    const std::uint64_t eocd_at = tail_at + i;
    std::uint64_t start = read_le(rec, 16, 4);
    // A Zip64 locator just before it points at the 64-bit record, whose
    // offset a reader prefers; the lower of the two bounds the span.
    if (i >= 20 && starts_with(Bytes(tail.data() + i - 20, 20), "PK\x06\x07")) {
      std::uint64_t at = read_le(Bytes(tail.data() + i - 20, 20), 8, 8);
      std::uint8_t rec64[56];
      if (at < size && size - at >= sizeof rec64 &&
          pread_full(file.fd(), rec64, at, file.path()) == sizeof rec64 &&
          starts_with(rec64, "PK\x06\x06")) {
        start = std::min(start, read_le(rec64, 48, 8));
      }
    }
    return eocd_at > start ? eocd_at - start : 0;
  }
  return std::nullopt;
}

// Streams the current member's data out of libarchive.
class MemberReader final : public BufferedReader {
 public:
  MemberReader(struct archive* a, Source& source)
      : BufferedReader(kStreamBufferBytes), a_(a), source_(source) {}

 protected:
  std::size_t fill(std::span<std::uint8_t> out) override {
    la_ssize_t n = archive_read_data(a_, out.data(), out.size());
    source_.rethrow();
    if (n < 0) {
      fail("cannot read the member: " + error_of(a_));
      return 0;
    }
    return static_cast<std::size_t>(n);
  }

 private:
  struct archive* a_;
  Source& source_;
};

struct ZipWalker::Impl {
  // Declared first so it is destroyed last, after the archive reading from it.
  std::unique_ptr<Source> source;
  ReadArchive a = new_read_archive();
  archive_entry* entry = nullptr;
  std::unique_ptr<MemberReader> member;
  std::string name;
  std::string error;
  bool open = false;

  void open_with(auto& src) {
    src.attach(a.get());
    int r = archive_read_open1(a.get());
    src.rethrow();
    if (r != ARCHIVE_OK) {
      error = "not a readable zip: " + error_of(a.get());
      return;
    }
    open = true;
  }
};

ZipWalker::ZipWalker(const FileReader& file) : impl_(std::make_unique<Impl>()) {
  archive_read_support_format_zip_seekable(impl_->a.get());
  auto src = std::make_unique<FileSource>(file);
  FileSource& ref = *src;
  impl_->source = std::move(src);
  impl_->open_with(ref);
}

ZipWalker::ZipWalker(Reader& stream) : impl_(std::make_unique<Impl>()) {
  archive_read_support_format_zip_streamable(impl_->a.get());
  auto src = std::make_unique<StreamSource>(stream);
  StreamSource& ref = *src;
  impl_->source = std::move(src);
  impl_->open_with(ref);
}

ZipWalker::~ZipWalker() = default;

bool ZipWalker::next() {
  Impl& m = *impl_;
  if (!m.open) return false;
  m.member.reset();
  int r = archive_read_next_header(m.a.get(), &m.entry);
  m.source->rethrow();
  if (r == ARCHIVE_EOF) {
    m.open = false;
    return false;
  }
  // ARCHIVE_WARN is a member libarchive could still read (an odd name
  // encoding); anything worse leaves the rest of the archive unreadable.
  if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
    m.error = "corrupt zip: " + error_of(m.a.get());
    m.open = false;
    return false;
  }
  const char* name = archive_entry_pathname(m.entry);
  if (!name) name = archive_entry_pathname_utf8(m.entry);
  m.name = name ? name : "";
  m.member = std::make_unique<MemberReader>(m.a.get(), *m.source);
  return true;
}

const std::string& ZipWalker::name() const {
  return impl_->name;
}

bool ZipWalker::is_file() const {
  return impl_->entry && archive_entry_filetype(impl_->entry) == AE_IFREG;
}

bool ZipWalker::encrypted() const {
  return impl_->entry && archive_entry_is_data_encrypted(impl_->entry);
}

BufferedReader& ZipWalker::data() {
  return *impl_->member;
}

const std::string& ZipWalker::error() const {
  return impl_->error;
}

// --- locale ------------------------------------------------------------------------

Utf8Ctype::Utf8Ctype() : locale_(::newlocale(LC_CTYPE_MASK, "C.UTF-8", static_cast<locale_t>(0))) {
  if (locale_) previous_ = ::uselocale(locale_);
}

Utf8Ctype::~Utf8Ctype() {
  if (locale_) {
    ::uselocale(previous_);
    ::freelocale(locale_);
  }
}

}  // namespace mlpack::scan::readers
