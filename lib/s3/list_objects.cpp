// S3 ListObjectsV2 request building and ListBucketResult page parsing (a bounded child-element scanner).
#include "ctsqs/s3/list_objects.hpp"

#include "ctsqs/aws_error.hpp"
#include "ctsqs/detail/xml_text.hpp"
#include "ctsqs/notification.hpp"
#include "ctsqs/sigv4/canonical_request.hpp"

#include "../detail/protocol_util.hpp"

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace ctsqs::s3 {
namespace {

/// S3 answers at most max-keys (≤ 1000) entries per page; anything beyond is not S3's answer.
constexpr std::size_t max_contents = 1000;
constexpr std::size_t max_common_prefixes = 1000;
/// How much of an offending text a message quotes.
constexpr std::size_t quote_max = 64;

bool is_name_char(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-' || c == '.' || c == ':';
}

/// "<Name>" of a tag (local name), for messages. Built with append: GCC 12 warns falsely
/// (-Wrestrict) on "<" + std::string(...).
std::string tag_text(std::string_view name) {
  std::string out("<");
  out.append(name.substr(0, quote_max)).append(">");
  return out;
}

bool is_space(char c) noexcept { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

/// The local name of a (possibly prefixed) tag name: "s3:Key" → "Key".
std::string_view local_name(std::string_view tag) noexcept {
  if (auto colon = tag.rfind(':'); colon != std::string_view::npos) return tag.substr(colon + 1);
  return tag;
}

/// One element: its local name and its raw inner content (a view into the scanned text).
struct Element {
  std::string_view name;
  std::string_view inner;
};

/// Walks the child elements of one XML fragment, in order, without recursion: each next()
/// moves past one whole child (counting the depth of the elements inside it), so a pass over
/// a fragment is linear in its size. Comments, processing instructions, DOCTYPE and CDATA
/// between children are skipped, text between children is ignored. A close tag without its
/// open tag, an unclosed element or tag, or a close tag of another name than the child's fails.
class ChildScanner {
public:
  explicit ChildScanner(std::string_view text) noexcept : text_(text) {}

  /// The next child; false at the end or on malformed markup (then failed() is true).
  bool next(Element& out) {
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
        out = {local_name(name), text_.substr(gt + 1, 0)};
        pos_ = gt + 1;
        return true;
      }
      std::size_t close_end = 0;
      const std::size_t close = matching_close(gt + 1, name, close_end);
      if (close == std::string_view::npos) return false;  // failed already
      out = {local_name(name), text_.substr(gt + 1, close - gt - 1)};
      pos_ = close_end;
      return true;
    }
    return false;
  }

  bool failed() const noexcept { return failed_; }
  /// What was wrong and the text where it was, for a message.
  std::string error() const { return why_ + " at " + detail::quote_start(text_.substr(where_), quote_max); }

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
    while (q < text_.size() && is_name_char(text_[q])) ++q;
    name = text_.substr(lt + 1, q - lt - 1);
    if (name.empty() || q >= text_.size()) return std::string_view::npos;
    if (text_[q] != '>' && text_[q] != '/' && !is_space(text_[q])) return std::string_view::npos;
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
        while (q < text_.size() && is_name_char(text_[q])) ++q;
        const std::string_view closing = text_.substr(lt + 2, q - lt - 2);
        const std::size_t gt = text_.find('>', q);
        if (gt == std::string_view::npos || !trim(text_.substr(q, gt - q)).empty()) {
          fail(lt, "unreadable close tag");
          return std::string_view::npos;
        }
        if (--depth == 0) {
          if (local_name(closing) != local_name(name)) {
            fail(lt, tag_text(local_name(name)).append(" closed by another tag"));
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
    fail(from, tag_text(local_name(name)).append(" is not closed"));
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

/// A non-negative decimal integer that fits 64 bits (surrounding whitespace allowed).
std::optional<std::uint64_t> parse_uint(std::string_view text) noexcept {
  text = trim(text);
  if (text.empty()) return std::nullopt;
  std::uint64_t v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    const auto d = static_cast<std::uint64_t>(c - '0');
    if (v > (std::numeric_limits<std::uint64_t>::max() - d) / 10) return std::nullopt;
    v = v * 10 + d;
  }
  return v;
}

/// A text element's value: entities and CDATA decoded.
std::string text_of(std::string_view inner) { return detail::xml_decode(inner); }

/// Raw (XML-decoded, not yet URL-decoded) fields of one <Contents> entry.
struct RawObject {
  std::optional<std::string> key;
  std::optional<std::string> size;
  std::string etag;
  std::string last_modified;
  std::string storage_class;
};

}  // namespace

result<HttpRequest> make_list_objects_v2_request(const ListObjectsV2Params& p, Diagnostics& diag) {
  auto fail = [&](std::string what) -> result<HttpRequest> {
    diag.clear();
    diag.message = "S3 ListObjectsV2: " + std::move(what);
    return make_error_code(client_errc::invalid_argument);
  };
  if (p.bucket.empty()) return fail("bucket is empty");
  if (p.endpoint.host.empty() || (p.endpoint.scheme != "https" && p.endpoint.scheme != "http"))
    return fail("endpoint " + detail::quote_start(p.endpoint.url()) + " is not an http(s) endpoint");
  if (p.max_keys < 1 || p.max_keys > 1000)
    return fail("max_keys " + std::to_string(p.max_keys) + " is not in 1..1000 (bucket " + p.bucket + ")");

  // The bucket itself: s3_object_target with an empty key gives "<base>/" (virtual-hosted) or
  // "<base>/<bucket>/" (path style); the SDKs send path-style listings to "/<bucket>".
  auto target = s3_object_target(p.endpoint, p.bucket, "", p.force_path_style);
  HttpRequest req;
  req.method = "GET";
  req.scheme = target.scheme;
  req.host = target.host;
  req.path = std::move(target.path);
  if (!target.virtual_hosted && req.path.size() > 1 && req.path.back() == '/') req.path.pop_back();

  // In canonical (byte-sorted) order, so the raw query is its own SigV4 canonical form.
  std::string q;
  auto add = [&q](std::string_view name, std::string_view value) {
    if (!q.empty()) q += '&';
    q.append(name).append("=").append(sigv4::uri_encode(value, true));
  };
  if (!p.continuation_token.empty()) add("continuation-token", p.continuation_token);
  if (!p.delimiter.empty()) add("delimiter", p.delimiter);
  add("encoding-type", "url");
  add("list-type", "2");
  if (p.max_keys != 1000) add("max-keys", std::to_string(p.max_keys));
  if (!p.prefix.empty()) add("prefix", p.prefix);
  if (!p.start_after.empty()) add("start-after", p.start_after);
  req.query = std::move(q);
  return req;
}

result<ListObjectsV2Page> parse_list_objects_v2_response(std::string_view body, Diagnostics& diag) {
  diag.clear();
  auto malformed = [&diag](std::string what) -> result<ListObjectsV2Page> {
    diag.message = "S3 ListObjectsV2 response: " + std::move(what);
    return make_error_code(aws_errc::malformed_response);
  };
  auto quoted = [](std::string_view text) { return detail::quote_start(text, quote_max); };

  // The document: one root element, ListBucketResult.
  ChildScanner root(body);
  Element top;
  if (!root.next(top)) {
    if (root.failed()) return malformed("not a ListBucketResult document: " + root.error());
    return malformed("not a ListBucketResult document: no element in " + quoted(body));
  }
  if (top.name != "ListBucketResult")
    return malformed("not a ListBucketResult document: the root element is " + tag_text(top.name));

  ListObjectsV2Page page;
  std::vector<RawObject> raw_objects;
  std::vector<std::string> raw_prefixes;
  std::optional<std::string> prefix, is_truncated, token, key_count, encoding_type;

  ChildScanner children(top.inner);
  Element child;
  while (children.next(child)) {
    if (child.name == "Contents") {
      if (raw_objects.size() == max_contents)
        return malformed("more than " + std::to_string(max_contents) + " <Contents> entries");
      RawObject obj;
      ChildScanner fields(child.inner);
      Element f;
      while (fields.next(f)) {
        if (f.name == "Key") {
          if (!obj.key) obj.key = text_of(f.inner);
        } else if (f.name == "Size") {
          if (!obj.size) obj.size = text_of(f.inner);
        } else if (f.name == "ETag") {
          obj.etag = text_of(f.inner);
        } else if (f.name == "LastModified") {
          obj.last_modified = text_of(f.inner);
        } else if (f.name == "StorageClass") {
          obj.storage_class = text_of(f.inner);
        }
      }
      if (fields.failed())
        return malformed("<Contents> #" + std::to_string(raw_objects.size() + 1) + ": " + fields.error());
      if (!obj.key)
        return malformed("<Contents> #" + std::to_string(raw_objects.size() + 1) + " has no <Key>: " +
                         quoted(trim(child.inner)));
      raw_objects.push_back(std::move(obj));
    } else if (child.name == "CommonPrefixes") {
      if (raw_prefixes.size() == max_common_prefixes)
        return malformed("more than " + std::to_string(max_common_prefixes) + " <CommonPrefixes> entries");
      ChildScanner fields(child.inner);
      Element f;
      std::optional<std::string> p;
      while (fields.next(f))
        if (f.name == "Prefix" && !p) p = text_of(f.inner);
      if (fields.failed())
        return malformed("<CommonPrefixes> #" + std::to_string(raw_prefixes.size() + 1) + ": " + fields.error());
      // An empty <CommonPrefixes/> names no prefix: nothing to list under it.
      if (p) raw_prefixes.push_back(std::move(*p));
    } else if (child.name == "Prefix") {
      if (!prefix) prefix = text_of(child.inner);
    } else if (child.name == "IsTruncated") {
      if (!is_truncated) is_truncated = text_of(child.inner);
    } else if (child.name == "NextContinuationToken") {
      if (!token) token = text_of(child.inner);
    } else if (child.name == "KeyCount") {
      if (!key_count) key_count = text_of(child.inner);
    } else if (child.name == "EncodingType") {
      if (!encoding_type) encoding_type = text_of(child.inner);
    }
  }
  if (children.failed()) return malformed("in <ListBucketResult>: " + children.error());
  // Nothing but whitespace, comments or declarations may follow the root element.
  Element extra;
  if (root.next(extra))
    return malformed("an element " + tag_text(extra.name) + " after </ListBucketResult>");
  if (root.failed()) return malformed("after </ListBucketResult>: " + root.error());

  const bool url_encoded = encoding_type && iequals(trim(*encoding_type), "url");
  // Decodes one URL-encoded field in place, or fails naming it.
  std::string bad;
  auto decode = [&](std::string& value, const std::string& what) {
    if (!url_encoded) return true;
    // encoding-type=url encodes as S3 event notifications do ('+' a space, %XY a byte).
    std::string d;
    if (!decode_s3_event_key(value, d)) {
      bad = "bad %-escape in " + what + ": " + quoted(value);
      return false;
    }
    value = std::move(d);
    return true;
  };

  if (is_truncated) {
    const std::string_view t = trim(*is_truncated);
    if (iequals(t, "true")) page.is_truncated = true;
    else if (!iequals(t, "false")) return malformed("<IsTruncated> is not true or false: " + quoted(*is_truncated));
  }
  if (token) page.next_continuation_token = std::move(*token);
  if (page.is_truncated && page.next_continuation_token.empty())
    return malformed("<IsTruncated> is true without a <NextContinuationToken>");

  if (prefix) {
    page.prefix = std::move(*prefix);
    if (!decode(page.prefix, "<Prefix>")) return malformed(std::move(bad));
  }

  page.objects.reserve(raw_objects.size());
  for (std::size_t i = 0; i < raw_objects.size(); ++i) {
    RawObject& r = raw_objects[i];
    const std::string where = "<Contents> #" + std::to_string(i + 1);
    ListedObject o;
    o.key = std::move(*r.key);
    if (!decode(o.key, "<Key> of " + where)) return malformed(std::move(bad));
    if (r.size) {
      auto n = parse_uint(*r.size);
      if (!n) return malformed("<Size> of " + where + " is not a non-negative integer: " + quoted(*r.size));
      o.size = *n;
    }
    std::string_view etag = trim(r.etag);
    if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"') etag = etag.substr(1, etag.size() - 2);
    o.etag = std::string(etag);
    o.last_modified = std::move(r.last_modified);
    o.storage_class = std::move(r.storage_class);
    page.objects.push_back(std::move(o));
  }

  page.common_prefixes.reserve(raw_prefixes.size());
  for (std::size_t i = 0; i < raw_prefixes.size(); ++i) {
    if (!decode(raw_prefixes[i], "<Prefix> of <CommonPrefixes> #" + std::to_string(i + 1))) return malformed(std::move(bad));
    page.common_prefixes.push_back(std::move(raw_prefixes[i]));
  }

  if (key_count) {
    auto n = parse_uint(*key_count);
    if (!n) return malformed("<KeyCount> is not a non-negative integer: " + quoted(*key_count));
    page.key_count = *n;
  } else {
    page.key_count = page.objects.size() + page.common_prefixes.size();
  }
  return page;
}

}  // namespace ctsqs::s3
