#include "mlpack/remote/webdav.hpp"

#include <optional>

#include "mlpack/util/xml.hpp"

namespace mlpack::remote::webdav {

// Namespace prefixes differ between servers (D:, d:, lp1:, none), so tags
// are matched by their local name.
std::vector<Entry> parse_multistatus(const std::string& xml) {
  std::vector<Entry> out;
  std::optional<Entry> current;
  std::size_t pos = 0;
  while ((pos = xml.find('<', pos)) != std::string::npos) {
    const std::size_t end = xml.find('>', pos);
    if (end == std::string::npos) break;
    std::string tag = xml.substr(pos + 1, end - pos - 1);
    pos = end + 1;
    if (tag.empty() || tag[0] == '?' || tag[0] == '!') continue;
    const bool closing = tag[0] == '/';
    if (closing) tag.erase(0, 1);
    const bool self_closing = !tag.empty() && tag.back() == '/';
    std::string name = tag.substr(0, tag.find_first_of(" \t\r\n/"));
    if (const std::size_t colon = name.find(':'); colon != std::string::npos) {
      name = name.substr(colon + 1);
    }
    if (name == "response") {
      if (!closing && !self_closing) {
        current.emplace();
      } else if (closing && current) {
        out.push_back(std::move(*current));
        current.reset();
      }
    } else if (current && name == "href" && !closing && !self_closing) {
      const std::size_t text_end = xml.find('<', pos);
      if (current->href.empty()) current->href = xml::unescape(xml.substr(pos, text_end - pos));
    } else if (current && name == "collection" && !closing) {
      current->collection = true;
    }
  }
  return out;
}

}  // namespace mlpack::remote::webdav
