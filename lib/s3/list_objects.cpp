// S3 ListObjectsV2 request building and ListBucketResult page parsing (a bounded child-element scanner).
#include "ctsqs/aws/s3/list_objects.hpp"

#include "ctsqs/aws/error.hpp"
#include "ctsqs/collector/notification.hpp"
#include "ctsqs/aws/sigv4/canonical_request.hpp"

#include "../detail/protocol_util.hpp"
#include "../detail/xml_reader.hpp"

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
using detail::xml_quote_max;
using detail::xml_tag_text;
using detail::xml_trim;

/// A non-negative decimal integer that fits 64 bits (surrounding whitespace allowed).
std::optional<std::uint64_t> parse_uint(std::string_view text) noexcept {
  text = xml_trim(text);
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
  auto quoted = [](std::string_view text) { return detail::quote_start(text, xml_quote_max); };

  // The document: one root element, ListBucketResult.
  detail::XmlChildScanner root(body);
  detail::XmlElement top;
  if (!root.next(top)) {
    if (root.failed()) return malformed("not a ListBucketResult document: " + root.error());
    return malformed("not a ListBucketResult document: no element in " + quoted(body));
  }
  if (top.name != "ListBucketResult")
    return malformed("not a ListBucketResult document: the root element is " + xml_tag_text(top.name));

  ListObjectsV2Page page;
  std::vector<RawObject> raw_objects;
  std::vector<std::string> raw_prefixes;
  std::optional<std::string> prefix, is_truncated, token, key_count, encoding_type;

  detail::XmlChildScanner children(top.inner);
  detail::XmlElement child;
  while (children.next(child)) {
    if (child.name == "Contents") {
      if (raw_objects.size() == max_contents)
        return malformed("more than " + std::to_string(max_contents) + " <Contents> entries");
      RawObject obj;
      detail::XmlChildScanner fields(child.inner);
      detail::XmlElement f;
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
                         quoted(xml_trim(child.inner)));
      raw_objects.push_back(std::move(obj));
    } else if (child.name == "CommonPrefixes") {
      if (raw_prefixes.size() == max_common_prefixes)
        return malformed("more than " + std::to_string(max_common_prefixes) + " <CommonPrefixes> entries");
      detail::XmlChildScanner fields(child.inner);
      detail::XmlElement f;
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
  detail::XmlElement extra;
  if (root.next(extra))
    return malformed("an element " + xml_tag_text(extra.name) + " after </ListBucketResult>");
  if (root.failed()) return malformed("after </ListBucketResult>: " + root.error());

  const bool url_encoded = encoding_type && iequals(xml_trim(*encoding_type), "url");
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
    const std::string_view t = xml_trim(*is_truncated);
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
    std::string_view etag = xml_trim(r.etag);
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
