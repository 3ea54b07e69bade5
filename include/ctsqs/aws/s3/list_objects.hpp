// S3 ListObjectsV2, sans-I/O: make_list_objects_v2_request builds the HttpRequest;
// parse_list_objects_v2_response reads one 2xx ListBucketResult page.
//
// Amazon S3 API Reference, "ListObjectsV2": GET /?list-type=2 on the bucket, answered by
// `<ListBucketResult>` with `<Contents>` per key, `<CommonPrefixes>` per rolled-up prefix when a
// delimiter is given, and `<NextContinuationToken>` while `<IsTruncated>` is true. Error answers
// (non-2xx) are S3's usual XML errors: read them with s3::parse_error (protocol.hpp).
#pragma once

#include "ctsqs/aws/endpoints.hpp"
#include "ctsqs/error.hpp"
#include "ctsqs/transport/http.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ctsqs::s3 {

/// ListObjectsV2 parameters; empty strings are left out of the request.
struct ListObjectsV2Params {
  Endpoint endpoint;               ///< the S3 endpoint of the bucket's region
  std::string bucket;
  std::string prefix;              ///< only keys that start with this (the real, unencoded prefix)
  std::string delimiter;           ///< roll keys up to CommonPrefixes at this string (usually "/")
  std::string continuation_token;  ///< NextContinuationToken of the previous page, as received
  std::string start_after;         ///< only keys after this one (ignored by S3 with a token)
  int max_keys = 1000;             ///< 1..1000 entries (keys + common prefixes) per page
  bool force_path_style = false;
};

/// Builds GET `/?list-type=2&encoding-type=url&...` on the bucket: virtual-hosted
/// (`bucket.<host>`, path `/`) or path-style (`<host>`, path `/<bucket>`) by the same rule as
/// GetObject (s3_object_target). Query parameters are in canonical (sorted) order, values
/// URI-encoded the SigV4 way (`/`, `+`, `=`, space and non-ASCII bytes as `%XY`); `max-keys`
/// only when not 1000. Fails with client_errc::invalid_argument (diag says which) when the
/// bucket or endpoint host is empty, the endpoint is not http(s), or max_keys is not in 1..1000.
/// Unsigned: the AWS client glue signs it.
result<HttpRequest> make_list_objects_v2_request(const ListObjectsV2Params& params, Diagnostics& diag);

/// One `<Contents>` entry.
struct ListedObject {
  std::string key;            ///< the real key (URL-decoded when the answer was url-encoded)
  std::uint64_t size = 0;
  std::string etag;           ///< without the surrounding quotes
  std::string last_modified;  ///< as S3 wrote it ("2024-05-01T12:00:00.000Z")
  std::string storage_class;  ///< "STANDARD", "GLACIER", ... (empty when absent)
};

/// One page of a listing.
struct ListObjectsV2Page {
  std::vector<ListedObject> objects;         ///< in the order S3 sent them (key order)
  std::vector<std::string> common_prefixes;  ///< rolled-up prefixes (with a delimiter), decoded
  bool is_truncated = false;                 ///< more pages follow: ask again with the token
  std::string next_continuation_token;       ///< as received (never URL-decoded); set when truncated
  std::string prefix;                        ///< the `<Prefix>` S3 echoed, decoded
  /// `<KeyCount>`; when absent, objects.size() + common_prefixes.size().
  std::uint64_t key_count = 0;
};

/// Parses a 2xx ListObjectsV2 body. With `<EncodingType>url</EncodingType>` the keys, the
/// echoed Prefix and the CommonPrefixes are URL-decoded as the AWS SDKs do (`%XY` escapes, `+`
/// is a space: botocore's unquote_plus); without it (s3rver ignores encoding-type) they are
/// taken as they are. XML entities and CDATA are decoded first. NextContinuationToken is never
/// URL-decoded. Fails with aws_errc::malformed_response, the diag naming the element and at
/// most 64 bytes of the offending text, when: the document is not a closed ListBucketResult; a
/// `<Contents>` has no `<Key>`; a `<Size>` or `<KeyCount>` is not a non-negative integer;
/// `<IsTruncated>` is neither true nor false; a %-escape is bad; IsTruncated is true without a
/// NextContinuationToken; there are more than 1000 `<Contents>` or more than 1000
/// `<CommonPrefixes>` (S3 never answers more than max-keys ≤ 1000 entries). Never throws (short
/// of std::bad_alloc); the work is linear in the size of the body.
result<ListObjectsV2Page> parse_list_objects_v2_response(std::string_view body, Diagnostics& diag);

}  // namespace ctsqs::s3
