// Runs independent tasks on a few threads (hashing files, moving blobs).
// The first failure stops tasks that have not started yet and is rethrown
// once every worker has finished, so no thread outlives the call.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace mlpack::util {

// Calls task(i) for every i in [0, count) on at most `jobs` threads (0: one
// per core). Tasks run in index order of start; completion order is free.
template <typename Task>
void parallel_for(std::size_t count, unsigned jobs, Task&& task) {
  if (jobs == 0) jobs = std::max(1u, std::thread::hardware_concurrency());
  const std::size_t workers = std::min<std::size_t>(jobs, count);
  if (workers <= 1) {
    for (std::size_t i = 0; i < count; ++i) task(i);
    return;
  }
  std::atomic<std::size_t> next{0};
  std::atomic<bool> failed{false};
  std::exception_ptr first_error;
  std::mutex error_mutex;
  {
    std::vector<std::jthread> pool;
    pool.reserve(workers);
    for (std::size_t w = 0; w < workers; ++w) {
      pool.emplace_back([&] {
        for (std::size_t i = next++; i < count && !failed; i = next++) {
          try {
            task(i);
          } catch (...) {
            std::lock_guard lock(error_mutex);
            if (!first_error) first_error = std::current_exception();
            failed = true;
          }
        }
      });
    }
  }
  if (first_error) std::rethrow_exception(first_error);
}

}  // namespace mlpack::util
