// Minimal, bounds-checked text extraction from the small, flat XML documents AWS query and
// REST-XML APIs answer with (errors, STS results). Not a general XML parser.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace ctsqs::detail {

/// The decoded text of the first element named `name` (any namespace prefix, any attributes)
/// inside `doc`, or nullopt when there is none or it is not closed. Entities (&amp; &lt; &gt;
/// &quot; &apos; &#N; &#xN;) and CDATA sections are decoded; nested markup is kept as text.
std::optional<std::string> xml_element_text(std::string_view doc, std::string_view name);

/// The raw inner content (undecoded) of the first element named `name`, for scoping a search
/// to a sub-tree, or nullopt. The view always points into `doc`, also when it is empty (a
/// self-closing `<x/>`).
std::optional<std::string_view> xml_element_inner(std::string_view doc, std::string_view name);

/// Decode XML entities and CDATA in `text`; malformed entities are kept literally.
std::string xml_decode(std::string_view text);

}  // namespace ctsqs::detail
