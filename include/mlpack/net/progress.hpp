// Transfer progress on stderr (DESIGN.md §4): a live bar with bytes, rate
// and ETA when stderr is a terminal, plain periodic lines with
// `--progress plain`, nothing with `--progress none` or -q. Workers add
// bytes from any thread; one background thread draws.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

namespace mlpack::net {

enum class ProgressStyle { kAuto, kBar, kPlain, kNone };

// "auto", "plain" or "none"; throws UsageError otherwise.
ProgressStyle parse_progress_style(const std::string& text);

class Progress {
 public:
  // `label` says what moves ("push iris:v3"); total in bytes.
  Progress(ProgressStyle style, std::string label, std::uint64_t total_bytes);
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  void add(std::int64_t bytes) { done_ += bytes; }
  // Draws the last state and stops; the destructor does it too.
  void finish();

 private:
  void run();
  void draw(bool last);

  ProgressStyle style_;
  std::string label_;
  std::uint64_t total_;
  std::atomic<std::int64_t> done_{0};
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_plain_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  bool finished_ = false;
  std::thread drawer_;
};

}  // namespace mlpack::net
