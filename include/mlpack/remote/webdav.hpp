// The one piece of WebDAV (RFC 4918) the HTTP backend reads: a PROPFIND
// 207 Multi-Status answer, for listing a folder. Kept apart so it can be
// tested against what real servers send.
#pragma once

#include <string>
#include <vector>

namespace mlpack::remote::webdav {

struct Entry {
  std::string href;         // as sent: a path or a full URL, still percent-encoded
  bool collection = false;  // a folder
};

// Every <response> of the answer, in order. Malformed XML yields what could
// be read; it never throws.
std::vector<Entry> parse_multistatus(const std::string& xml);

}  // namespace mlpack::remote::webdav
