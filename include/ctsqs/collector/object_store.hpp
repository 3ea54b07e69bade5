// ObjectStore: streams announced S3 objects to the pipeline; S3ObjectStore does it with GetObject.
#pragma once

#include "ctsqs/aws/endpoints.hpp"
#include "ctsqs/error.hpp"
#include "ctsqs/transport/http.hpp"

#include <boost/asio/awaitable.hpp>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>

namespace ctsqs {

class AwsClient;

/// Where an announced object lives.
struct ObjectRef {
  std::string bucket;
  std::string key;      ///< already URL-decoded (as stored in S3)
  std::string region;   ///< the bucket's region from the notification; empty = the client's
  std::uint64_t size = 0;  ///< announced size, 0 when unknown
  /// ETag from the notification, "" when not given. Sent as If-Match on every GetObject of the
  /// object, so no part can come from another version of it.
  std::string etag;
  /// versionId from the notification (versioned buckets), "" when not given. Sent as
  /// `?versionId=` on every GetObject: the announced version is read even if overwritten since.
  std::string version_id;
};

/// Receives an object's bytes chunk by chunk; the next chunk is not read until the returned
/// awaitable completes (backpressure). An error stops the fetch and is returned by it.
using ObjectChunkHandler =
    std::function<boost::asio::awaitable<result<void>>(std::span<const std::byte> chunk)>;

/// The object reads the pipeline needs.
class ObjectStore {
 public:
  virtual ~ObjectStore() = default;

  /// Stream the object into `on_chunk`. Fails with the store's error (diag names bucket/key and
  /// the AWS code); `is_retryable` on the code tells whether trying later may help.
  virtual boost::asio::awaitable<result<void>> async_fetch(ObjectRef object, ObjectChunkHandler on_chunk,
                                                           Diagnostics& diag) = 0;

  /// As async_fetch; on success `head` (when not null) receives the status and headers of the
  /// answer that delivered the body (its user metadata: s3::user_metadata). The default leaves
  /// `head` empty (a store without headers).
  virtual boost::asio::awaitable<result<void>> async_fetch_with_head(ObjectRef object, ObjectChunkHandler on_chunk,
                                                                     HttpResponse* head, Diagnostics& diag);
};

/// The bucket's region named by a PermanentRedirect / wrong-region error `ec` whose
/// Diagnostics came from the AWS client (it reports S3's `x-amz-bucket-region` there), or "".
std::string redirect_region(const error_code& ec, const Diagnostics& diag);

/// The GetObject request of one attempt of a fetch, pinned to the announced object:
/// `?versionId=<object.version_id>` and `If-Match: <object.etag>` whenever the notification gave
/// them (S3 answers 412 instead of bytes of an object overwritten since). `offset` > 0 resumes
/// with `Range: bytes=<offset>-`; a resume with neither an ETag nor a version id is refused
/// (invalid_argument, diag says why): it could hand the decoder the start of one version and
/// the rest of another.
result<HttpRequest> make_fetch_request(const ObjectRef& object, const Endpoint& endpoint, bool force_path_style,
                                       std::uint64_t offset, Diagnostics& diag);

/// Whether the answer to a resumed GetObject (Range from `offset`) may be handed on, judged from
/// its status and headers before any body byte: a 206 may; a 200 is the whole object (a server
/// or proxy ignored the Range) and may only when its ETag is `etag` (then its first `offset`
/// bytes must be skipped). Otherwise `invalid_argument` with `diag.message` saying what came back.
result<void> check_resumed_answer(const HttpResponse& head, std::string_view etag, std::uint64_t offset,
                                  Diagnostics& diag);

/// Settings of an S3ObjectStore.
struct S3ObjectStoreOptions {
  bool force_path_style = false;  ///< always path-style (also automatic for IP endpoints, dotted buckets)
  /// When a fetch fails in the middle of the body with a retryable error, resume with a Range
  /// + If-Match request from the byte reached, up to this many times (the decoder keeps its
  /// state). Only objects whose notification gave an ETag are resumed; others fail retryably.
  int resume_attempts = 3;
};

/// ObjectStore over S3 GetObject through an AwsClient: the bucket's own region, virtual-hosted
/// or path-style addressing, one PermanentRedirect followed, KMS hint on AccessDenied, body
/// streamed and resumed with Range + If-Match after a broken connection.
///
/// A resume answered 200 (the Range ignored) is recognised from its status before any byte is
/// handed on: with the ETag read so far its first bytes are skipped, with another (or none) the
/// fetch fails retryably like a 412.
///
/// A resume answered 412 (the object was overwritten since the notification) fails the fetch
/// with client_errc::io_error, a retryable failure: the pipeline redoes the whole message from
/// the start. Events of the first part were already handed on and cannot be taken back, so they
/// may then be delivered twice (at-least-once).
///
/// The AwsClient must outlive the store.
class S3ObjectStore final : public ObjectStore {
 public:
  S3ObjectStore(AwsClient& client, S3ObjectStoreOptions options = {});

  boost::asio::awaitable<result<void>> async_fetch(ObjectRef object, ObjectChunkHandler on_chunk,
                                                   Diagnostics& diag) override;

  boost::asio::awaitable<result<void>> async_fetch_with_head(ObjectRef object, ObjectChunkHandler on_chunk,
                                                             HttpResponse* head, Diagnostics& diag) override;

 private:
  AwsClient& client_;
  S3ObjectStoreOptions options_;
};

}  // namespace ctsqs
