// Byte sources the scanners read from (private to src/scan): a file, a
// decompressed stream, a zip member. Every one streams through a fixed-size
// buffer, so memory stays flat whatever the input's size, and every one
// treats its input as hostile: a corrupt stream ends early and says why in
// error(), to be reported as a finding. Only I/O errors on the file being
// scanned are thrown (the project's typed errors).
#pragma once

#include <locale.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "mlpack/scan/scan.hpp"
#include "mlpack/util/fs.hpp"

namespace mlpack::scan::readers {

inline constexpr std::size_t kFileBufferBytes = 1u << 20;
// At least manifest::kFormatSniffBytes, so a stream's head can be peeked
// whole and handed to detect_format.
inline constexpr std::size_t kStreamBufferBytes = 64u << 10;

// A Reader that serves reads from a buffer refilled by fill(): the parsers'
// many small reads then cost a copy, not a system call or a decompressor
// call each, and the head of a stream can be looked at without consuming it.
class BufferedReader : public Reader {
 public:
  BufferedReader(const BufferedReader&) = delete;
  BufferedReader& operator=(const BufferedReader&) = delete;

  // Fills `out` whole unless the stream ends first.
  std::size_t read(std::span<std::uint8_t> out) final;
  // The next min(n, capacity) bytes, fewer only at the end; consumes nothing.
  std::span<const std::uint8_t> peek(std::size_t n);
  bool at_end() { return peek(1).empty(); }
  // Bytes handed out by read() so far.
  std::uint64_t position() const { return position_; }
  // Why the stream ended early (corrupt data); empty when it ended normally.
  const std::string& error() const { return error_; }

 protected:
  explicit BufferedReader(std::size_t capacity);
  // Produces up to out.size() bytes; 0 at the end, after which it is not
  // called again. Input faults call fail() and return 0.
  virtual std::size_t fill(std::span<std::uint8_t> out) = 0;
  void fail(std::string why) {
    if (error_.empty()) error_ = std::move(why);
  }

 private:
  std::size_t refill(std::span<std::uint8_t> out);

  std::vector<std::uint8_t> buffer_;
  std::size_t begin_ = 0;
  std::size_t end_ = 0;
  bool eof_ = false;
  std::uint64_t position_ = 0;
  std::string error_;
};

// A regular file, read in order. Refuses anything else (a FIFO or a device
// could block or never end).
class FileReader final : public BufferedReader {
 public:
  explicit FileReader(const std::filesystem::path& path);
  int fd() const { return fd_.get(); }
  std::uint64_t size() const { return size_; }
  const std::filesystem::path& path() const { return path_; }

 protected:
  std::size_t fill(std::span<std::uint8_t> out) override;

 private:
  fs::UniqueFd fd_;
  std::filesystem::path path_;
  std::uint64_t size_ = 0;
  std::uint64_t offset_ = 0;
};

// joblib's compressors, told apart by their first bytes in joblib's own
// order (numpy_pickle_utils._detect_compressor), so the scanner decodes a
// file the way joblib.load would.
enum class Compression { kNone, kJoblibZf, kZlib, kGzip, kBzip2, kXz, kLzma, kLz4 };
Compression sniff_compression(std::span<const std::uint8_t> head);
std::string_view compression_name(Compression c);

// A reader of the decompressed bytes of `in` (which must outlive it). When
// the stream's header already shows it cannot be decoded safely (an lzma
// dictionary beyond the memory bound, a bad joblib "ZF" header) it returns
// nullptr and says why in `refused`.
std::unique_ptr<BufferedReader> open_decompressor(BufferedReader& in, Compression c,
                                                  std::string& refused);

// Bytes of central directory a seekable zip reader would load into memory
// (libarchive keeps one record per member), from the end-of-central-
// directory record; nullopt when there is none to find.
std::optional<std::uint64_t> zip_directory_span(const FileReader& file);

// The members of a zip, one at a time, each member's bytes streamed through
// data(). Over a file it is seekable, so the central directory decides what
// the members are, as Python's zipfile and torch read them; over a stream (a
// zip inside a zip) only the local headers can be used.
class ZipWalker {
 public:
  explicit ZipWalker(const FileReader& file);
  explicit ZipWalker(Reader& stream);
  ZipWalker(const ZipWalker&) = delete;
  ZipWalker& operator=(const ZipWalker&) = delete;
  ~ZipWalker();

  // Moves to the next member; false at the end or when the archive is
  // corrupt (error() then says why).
  bool next();
  const std::string& name() const;
  bool is_file() const;
  bool encrypted() const;
  // The current member's bytes; valid until next().
  BufferedReader& data();
  const std::string& error() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

// libarchive converts member names through the thread's LC_CTYPE, which is
// "C" here and refuses every non-ASCII name; scanning runs under C.UTF-8 so
// names come out as their bytes whatever the user's locale (the same fix as
// src/archive/archive.cpp).
class Utf8Ctype {
 public:
  Utf8Ctype();
  ~Utf8Ctype();
  Utf8Ctype(const Utf8Ctype&) = delete;
  Utf8Ctype& operator=(const Utf8Ctype&) = delete;

 private:
  locale_t locale_;
  locale_t previous_ = LC_GLOBAL_LOCALE;
};

}  // namespace mlpack::scan::readers
