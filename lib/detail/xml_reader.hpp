// The one XML reader of the library (internal): bounded, non-recursive reading of the small XML
// documents AWS answers with (query/REST-XML errors, STS results, S3 ListBucketResult and
// errors). Not a general XML parser: no DTDs, no namespaces beyond dropping a tag's prefix.
// Fuzzed through fuzz_aws_error_response, fuzz_sts_response, fuzz_s3_error and fuzz_list_objects.
#pragma once

#include "protocol_util.hpp"
#include "text.hpp"

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace ctsqs::detail {

/// How much of an offending text a message quotes.
inline constexpr std::size_t xml_quote_max = 64;

inline bool is_xml_name_char(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-' || c == '.' || c == ':';
}

inline bool is_xml_space(char c) noexcept { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

/// `s` without XML white space around it.
inline std::string_view xml_trim(std::string_view s) noexcept { return trim(s, " \t\r\n"); }

/// The local name of a (possibly prefixed) tag name: "s3:Key" -> "Key".
inline std::string_view xml_local_name(std::string_view tag) noexcept {
  if (auto colon = tag.rfind(':'); colon != std::string_view::npos) return tag.substr(colon + 1);
  return tag;
}

/// "<Name>" of a tag (local name), for messages. Built with append: GCC 12 warns falsely
/// (-Wrestrict) on "<" + std::string(...).
inline std::string xml_tag_text(std::string_view name) {
  std::string out("<");
  out.append(name.substr(0, xml_quote_max)).append(">");
  return out;
}

/// The decoded text of the first element named `name` (any namespace prefix, any attributes)
/// inside `doc`, or nullopt when there is none or it is not closed. Entities (&amp; &lt; &gt;
/// &quot; &apos; &#N; &#xN;) and CDATA sections are decoded; nested markup is kept as text.
std::optional<std::string> xml_element_text(std::string_view doc, std::string_view name);

/// The raw inner content (undecoded) of the first element named `name`, for scoping a search
/// to a sub-tree, or nullopt. The view always points into `doc`, also when it is empty (a
/// self-closing `<x/>`).
std::optional<std::string_view> xml_element_inner(std::string_view doc, std::string_view name);

/// The text of the first element named `name` when it holds text only: nullopt when it is
/// absent, not closed, holds markup, or an entity is malformed or unknown (strict, for the
/// fields S3 error bodies are classified by).
std::optional<std::string> xml_text_only_element(std::string_view doc, std::string_view name);

/// Decode XML entities and CDATA in `text`; malformed entities are kept literally.
std::string xml_decode(std::string_view text);

/// Decode the five named entities and character references in `text` (no CDATA); nullopt on
/// a malformed or unknown entity or a character reference that is not a valid character.
std::optional<std::string> xml_decode_strict(std::string_view text);

/// One element: its local name and its raw inner content (a view into the scanned text).
struct XmlElement {
  std::string_view name;
  std::string_view inner;
};

/// Walks the child elements of one XML fragment, in order, without recursion: each next()
/// moves past one whole child (counting the depth of the elements inside it), so a pass over
/// a fragment is linear in its size. Comments, processing instructions, DOCTYPE and CDATA
/// between children are skipped, text between children is ignored. A close tag without its
/// open tag, an unclosed element or tag, or a close tag of another name than the child's fails.
class XmlChildScanner {
public:
  explicit XmlChildScanner(std::string_view text) noexcept : text_(text) {}

  /// The next child; false at the end or on malformed markup (then failed() is true).
  bool next(XmlElement& out) {
    while (pos_ < text_.size()) {
      const std::size_t lt = text_.find('<', pos_);
      if (lt == std::string_view::npos) {
        pos_ = text_.size();
        return false;
      }
      std::size_t after = 0;
      switch (skip_special(lt, after)) {
        case Special::skipped:
          pos_ = after;
          continue;
        case Special::unclosed:
          return fail(lt, "unclosed comment, CDATA section or declaration");
        case Special::none:
          break;
      }
      if (lt + 1 < text_.size() && text_[lt + 1] == '/') return fail(lt, "close tag without an open tag");
      std::string_view name;
      bool self_closing = false;
      const std::size_t gt = open_tag(lt, name, self_closing);
      if (gt == std::string_view::npos) return fail(lt, "unreadable or unclosed tag");
      if (self_closing) {
        out = {xml_local_name(name), text_.substr(gt + 1, 0)};
        pos_ = gt + 1;
        return true;
      }
      std::size_t close_end = 0;
      const std::size_t close = matching_close(gt + 1, name, close_end);
      if (close == std::string_view::npos) return false;  // failed already
      out = {xml_local_name(name), text_.substr(gt + 1, close - gt - 1)};
      pos_ = close_end;
      return true;
    }
    return false;
  }

  bool failed() const noexcept { return failed_; }
  /// What was wrong and the text where it was, for a message.
  std::string error() const { return why_ + " at " + quote_start(text_.substr(where_), xml_quote_max); }

private:
  enum class Special { none, skipped, unclosed };

  /// `<!--...-->`, `<![CDATA[...]]>`, `<?...?>` and `<!...>` at `lt`: sets `after` past them.
  Special skip_special(std::size_t lt, std::size_t& after) const noexcept {
    const std::string_view rest = text_.substr(lt);
    std::string_view end;
    if (rest.substr(0, 4) == "<!--") end = "-->";
    else if (rest.substr(0, 9) == "<![CDATA[") end = "]]>";
    else if (rest.substr(0, 2) == "<?") end = "?>";
    else if (rest.substr(0, 2) == "<!") end = ">";
    else return Special::none;
    const std::size_t e = text_.find(end, lt + 2);
    if (e == std::string_view::npos) return Special::unclosed;
    after = e + end.size();
    return Special::skipped;
  }

  /// The position of the `>` that ends the tag starting at `lt` (quoted attribute values may
  /// hold '>'), or npos.
  std::size_t tag_end(std::size_t from) const noexcept {
    char quote = 0;
    for (std::size_t i = from; i < text_.size(); ++i) {
      const char c = text_[i];
      if (quote) {
        if (c == quote) quote = 0;
      } else if (c == '"' || c == '\'') {
        quote = c;
      } else if (c == '>') {
        return i;
      } else if (c == '<') {
        return std::string_view::npos;  // a tag inside a tag
      }
    }
    return std::string_view::npos;
  }

  /// Reads the open tag at `lt`: its name, whether it is `<x/>`; returns the position of `>`.
  std::size_t open_tag(std::size_t lt, std::string_view& name, bool& self_closing) const noexcept {
    std::size_t q = lt + 1;
    while (q < text_.size() && is_xml_name_char(text_[q])) ++q;
    name = text_.substr(lt + 1, q - lt - 1);
    if (name.empty() || q >= text_.size()) return std::string_view::npos;
    if (text_[q] != '>' && text_[q] != '/' && !is_xml_space(text_[q])) return std::string_view::npos;
    const std::size_t gt = tag_end(q);
    if (gt == std::string_view::npos) return gt;
    self_closing = text_[gt - 1] == '/';
    return gt;
  }

  /// From just after the open tag of `name`, the position of its close tag ('<') and in
  /// `close_end` the position after it; npos (and failed) when there is none.
  std::size_t matching_close(std::size_t from, std::string_view name, std::size_t& close_end) {
    std::size_t depth = 1;
    std::size_t pos = from;
    while (pos < text_.size()) {
      const std::size_t lt = text_.find('<', pos);
      if (lt == std::string_view::npos) break;
      std::size_t after = 0;
      const Special special = skip_special(lt, after);
      if (special == Special::skipped) {
        pos = after;
        continue;
      }
      if (special == Special::unclosed) {
        fail(lt, "unclosed comment, CDATA section or declaration");
        return std::string_view::npos;
      }
      if (lt + 1 < text_.size() && text_[lt + 1] == '/') {
        std::size_t q = lt + 2;
        while (q < text_.size() && is_xml_name_char(text_[q])) ++q;
        const std::string_view closing = text_.substr(lt + 2, q - lt - 2);
        const std::size_t gt = text_.find('>', q);
        if (gt == std::string_view::npos || !xml_trim(text_.substr(q, gt - q)).empty()) {
          fail(lt, "unreadable close tag");
          return std::string_view::npos;
        }
        if (--depth == 0) {
          if (xml_local_name(closing) != xml_local_name(name)) {
            fail(lt, xml_tag_text(xml_local_name(name)).append(" closed by another tag"));
            return std::string_view::npos;
          }
          close_end = gt + 1;
          return lt;
        }
        pos = gt + 1;
        continue;
      }
      std::string_view inner_name;
      bool self_closing = false;
      const std::size_t gt = open_tag(lt, inner_name, self_closing);
      if (gt == std::string_view::npos) {
        fail(lt, "unreadable or unclosed tag");
        return std::string_view::npos;
      }
      if (!self_closing) ++depth;
      pos = gt + 1;
    }
    fail(from, xml_tag_text(xml_local_name(name)).append(" is not closed"));
    return std::string_view::npos;
  }

  bool fail(std::size_t where, std::string why) {
    failed_ = true;
    where_ = where < text_.size() ? where : text_.size();
    why_ = std::move(why);
    pos_ = text_.size();
    return false;
  }

  std::string_view text_;
  std::size_t pos_ = 0;
  bool failed_ = false;
  std::size_t where_ = 0;
  std::string why_;
};

}  // namespace ctsqs::detail
