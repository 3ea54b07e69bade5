// SigV4 stage 1: the canonical request (URI encoding, path normalization, canonical query and headers).
// Rules: https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html
#pragma once

#include "ctsqs/transport/http.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace ctsqs::sigv4 {

/// SigV4 URI encoding: every byte except the RFC 3986 unreserved characters `A-Z a-z 0-9 - . _ ~`
/// becomes `%XY` (uppercase hex); `/` is kept when `encode_slash` is false (paths) and encoded
/// when it is true (query keys and values). Works on bytes, so UTF-8 is encoded byte by byte.
std::string uri_encode(std::string_view in, bool encode_slash);

/// Decodes `%XY` escapes; a `%` not followed by two hex digits is kept as is, and `+` stays a
/// plus (SigV4 does not treat it as a space).
std::string percent_decode(std::string_view in);

/// Removes `.` and `..` segments and empty segments (`//`), keeping a leading and a trailing
/// slash, as AWS normalizes paths for every service except S3: `/a/./b/../c//` → `/a/c/`.
std::string normalize_path(std::string_view path);

/// The canonical URI of a raw request path (as on the request line).
/// `normalize` true (every service but S3): normalize, then URI-encode the already-encoded path
/// once more ("double encoding"). False (S3): the path as sent, with only the bytes that cannot
/// appear in a URI path encoded and existing `%XY` escapes left alone (no double encoding).
/// An empty path is `/`.
std::string canonical_uri(std::string_view raw_path, bool normalize);

/// One query parameter, decoded.
struct QueryParam {
  std::string key;
  std::string value;
};

/// Splits a raw query string at `&` and the first `=` of each part, percent-decoding key and
/// value; empty parts are skipped and a key without `=` has an empty value.
std::vector<QueryParam> parse_query(std::string_view raw_query);

/// The canonical query string: each key and value decoded then URI-encoded (slash included),
/// sorted by key then value (byte order), joined `k=v&...`; `X-Amz-Signature` is left out.
std::string canonical_query_string(std::string_view raw_query);
/// The same from already-decoded parameters.
std::string canonical_query_string(const std::vector<QueryParam>& params);

/// A header value in canonical form: leading/trailing spaces and tabs trimmed, each run of
/// spaces/tabs inside folded to one space (quoted strings are not special in SigV4).
std::string canonical_header_value(std::string_view value);

/// Whether SigV4 signs this header (lowercase name). Hop-by-hop and proxy-rewritten headers
/// (authorization, connection, expect, keep-alive, proxy-*, te, trailer, transfer-encoding,
/// upgrade, user-agent, x-amzn-trace-id) are never signed, as in the AWS SDKs.
bool is_signable_header(std::string_view lower_name) noexcept;

/// Canonical headers block and the SignedHeaders list.
struct CanonicalHeaders {
  std::string block;           ///< "name:value\n" per header, sorted by name
  std::string signed_headers;  ///< "host;x-amz-date"
};

/// Canonicalizes `headers`: names lowercased, values canonical, duplicates joined with `,` in
/// the order they appear, sorted by name. Headers for which `is_signable_header` is false, or
/// whose lowercase name is listed in `extra_unsigned`, are left out.
CanonicalHeaders canonical_headers(const std::vector<HttpHeader>& headers,
                                   const std::vector<std::string>& extra_unsigned = {});

/// Joins the six parts: method, canonical URI, canonical query, headers block, signed
/// headers and payload hash, separated by `\n`.
std::string make_canonical_request(std::string_view method, std::string_view canonical_uri,
                                   std::string_view canonical_query, const CanonicalHeaders& headers,
                                   std::string_view payload_hash);

}  // namespace ctsqs::sigv4
