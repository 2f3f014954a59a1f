#include "mlpack/net/progress.hpp"

#include <unistd.h>

#include <cstdio>

#include "mlpack/util/error.hpp"
#include "mlpack/util/log.hpp"
#include "mlpack/util/text.hpp"

namespace mlpack::net {
namespace {

constexpr auto kBarInterval = std::chrono::milliseconds(200);
constexpr auto kPlainInterval = std::chrono::seconds(5);

std::string format_duration(double seconds) {
  char buf[32];
  const long s = static_cast<long>(seconds + 0.5);
  if (s >= 3600) {
    std::snprintf(buf, sizeof buf, "%ldh%02ldm", s / 3600, (s / 60) % 60);
  } else {
    std::snprintf(buf, sizeof buf, "%ld:%02ld", s / 60, s % 60);
  }
  return buf;
}

}  // namespace

ProgressStyle parse_progress_style(const std::string& text) {
  if (text == "auto") return ProgressStyle::kAuto;
  if (text == "plain") return ProgressStyle::kPlain;
  if (text == "none") return ProgressStyle::kNone;
  throw UsageError("--progress takes auto, plain or none, not '" + text + "'");
}

Progress::Progress(ProgressStyle style, std::string label, std::uint64_t total_bytes)
    : style_(style), label_(std::move(label)), total_(total_bytes) {
  if (log::level() == log::Level::kQuiet) style_ = ProgressStyle::kNone;
  if (style_ == ProgressStyle::kAuto) {
    style_ = ::isatty(STDERR_FILENO) ? ProgressStyle::kBar : ProgressStyle::kNone;
  }
  start_ = last_plain_ = std::chrono::steady_clock::now();
  if (style_ == ProgressStyle::kNone || total_ == 0) {
    finished_ = true;
    return;
  }
  if (style_ == ProgressStyle::kBar) log::set_status_line(true);
  drawer_ = std::thread([this] { run(); });
}

Progress::~Progress() {
  finish();
}

void Progress::finish() {
  {
    std::lock_guard lock(mutex_);
    if (finished_) return;
    finished_ = true;
    stopping_ = true;
  }
  wake_.notify_all();
  if (drawer_.joinable()) drawer_.join();
  draw(true);
  if (style_ == ProgressStyle::kBar) log::set_status_line(false);
}

void Progress::run() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    wake_.wait_for(lock, kBarInterval);
    if (stopping_) break;
    lock.unlock();
    draw(false);
    lock.lock();
  }
}

void Progress::draw(bool last) {
  const auto now = std::chrono::steady_clock::now();
  if (style_ == ProgressStyle::kPlain && !last && now - last_plain_ < kPlainInterval) return;
  last_plain_ = now;
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  const std::uint64_t done = static_cast<std::uint64_t>(std::max<std::int64_t>(done_.load(), 0));
  const double fraction = total_ ? std::min(1.0, static_cast<double>(done) / total_) : 1.0;
  const double rate = elapsed > 0.05 ? done / elapsed : 0.0;
  std::string line = label_ + ": " + text::format_size(done) + " / " + text::format_size(total_) +
                     "  " + std::to_string(static_cast<int>(fraction * 100)) + "%";
  if (rate > 0) line += "  " + text::format_size(static_cast<std::uint64_t>(rate)) + "/s";
  if (last) {
    line += "  in " + format_duration(elapsed);
  } else if (rate > 0 && done < total_) {
    line += "  ETA " + format_duration((total_ - done) / rate);
  }
  if (style_ == ProgressStyle::kBar) {
    constexpr int kWidth = 24;
    const int filled = static_cast<int>(fraction * kWidth);
    const std::string bar =
        "[" + std::string(filled, '#') + std::string(kWidth - filled, '-') + "] ";
    log::status_line(bar + line, last);
  } else {
    log::note(line);
  }
}

}  // namespace mlpack::net
