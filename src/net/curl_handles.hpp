// RAII owners for libcurl's handles, private to the net module.
#pragma once

#include <curl/curl.h>

#include <memory>

namespace mlpack::net::detail {

struct EasyDeleter {
  void operator()(CURL* handle) const { curl_easy_cleanup(handle); }
};
using EasyHandle = std::unique_ptr<CURL, EasyDeleter>;

struct SlistDeleter {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};
// A header list; append() keeps ownership right when curl_slist_append moves it.
class HeaderList {
 public:
  void append(const char* line) {
    curl_slist* grown = curl_slist_append(list_.get(), line);
    if (grown) {
      (void)list_.release();
      list_.reset(grown);
    }
  }
  curl_slist* get() const { return list_.get(); }

 private:
  std::unique_ptr<curl_slist, SlistDeleter> list_;
};

// curl_global_init, once per process, before the first handle.
void ensure_curl_initialised();

}  // namespace mlpack::net::detail
