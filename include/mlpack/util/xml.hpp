// The five predefined XML entities, for the small, flat XML documents the
// remotes exchange (S3 answers, WebDAV listings, multipart manifests).
#pragma once

#include <string>
#include <string_view>

namespace mlpack::xml {

// &amp; &lt; &gt; &quot; &apos; back to their characters; anything else is kept.
std::string unescape(std::string_view text);
// & < > " as entities, for text put between tags.
std::string escape(std::string_view text);

}  // namespace mlpack::xml
