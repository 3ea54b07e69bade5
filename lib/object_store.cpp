// S3ObjectStore: GetObject streamed through AwsClient, in the bucket's region, resumed with Range
// after a broken transfer, with a KMS hint on AccessDenied.
#include "ctsqs/collector/object_store.hpp"

#include "ctsqs/aws/client.hpp"
#include "ctsqs/aws/error.hpp"
#include "ctsqs/aws/endpoints.hpp"
#include "ctsqs/aws/retry.hpp"
#include "ctsqs/aws/s3/protocol.hpp"

namespace ctsqs {

namespace asio = boost::asio;

namespace {

std::string_view unquoted(std::string_view etag) {
  if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"') etag = etag.substr(1, etag.size() - 2);
  return etag;
}

// One fetch's position across its attempts. A resume answered 200 (a server or proxy that
// ignored the Range) carries the whole object: the bytes before `skip` were decoded already.
struct FetchPosition {
  std::uint64_t skip = 0;       // bytes of this answer to drop before handing on
  bool whole_object = false;    // this attempt's answer starts at byte 0
  std::string refused;          // why this attempt's answer was refused before any byte
};

asio::awaitable<result<void>> feed_after_skip(std::shared_ptr<FetchPosition> pos, const ObjectChunkHandler* inner,
                                              std::span<const std::byte> chunk) {
  if (pos->skip >= chunk.size()) {
    pos->skip -= chunk.size();
    co_return result<void>{};
  }
  chunk = chunk.subspan(static_cast<std::size_t>(pos->skip));
  pos->skip = 0;
  co_return co_await (*inner)(chunk);
}

}  // namespace

result<void> check_resumed_answer(const HttpResponse& head, std::string_view etag, std::uint64_t offset,
                                  Diagnostics& diag) {
  if (head.status == 206) return {};
  const auto got = unquoted(head.header("ETag"));
  if (head.status == 200 && !etag.empty() && got == unquoted(etag)) return {};
  diag.message = "the resumed GetObject (Range from byte " + std::to_string(offset) + ") answered HTTP " +
        std::to_string(head.status) + (head.status == 200 ? " with the whole object" : "") + " and ETag \"" +
        std::string(got.substr(0, 80)) + "\" where \"" + std::string(unquoted(etag)) +
        "\" was read so far; nothing of it was handed on";
  return make_error_code(client_errc::invalid_argument);
}

std::string redirect_region(const error_code& ec, const Diagnostics& diag) {
  if (ec != aws_errc::permanent_redirect && ec != aws_errc::wrong_region) return {};
  // The AWS client puts S3's x-amz-bucket-region into the message (aws_error_response.cpp).
  static constexpr std::string_view marker = "(the bucket is in region ";
  const auto at = diag.message.find(marker);
  if (at == std::string::npos) return {};
  const auto start = at + marker.size();
  const auto end = diag.message.find(')', start);
  if (end == std::string::npos) return {};
  std::string region = diag.message.substr(start, end - start);
  return is_valid_region(region) ? region : std::string();
}

result<HttpRequest> make_fetch_request(const ObjectRef& object, const Endpoint& endpoint, bool force_path_style,
                                       std::uint64_t offset, Diagnostics& diag) {
  if (offset > 0 && object.etag.empty() && object.version_id.empty()) {
    diag.message = "s3://" + object.bucket + "/" + object.key +
                   ": cannot resume at byte " + std::to_string(offset) +
                   " without the object's ETag or version id (the rest could come from another version)";
    return make_error_code(client_errc::invalid_argument);
  }
  s3::GetObjectParams gp;
  gp.endpoint = endpoint;
  gp.bucket = object.bucket;
  gp.key = object.key;
  gp.force_path_style = force_path_style;
  gp.range_start = offset;
  gp.if_match = object.etag;
  gp.version_id = object.version_id;
  return s3::make_get_object_request(gp, diag);
}

asio::awaitable<result<void>> ObjectStore::async_fetch_with_head(ObjectRef object, ObjectChunkHandler on_chunk,
                                                                 HttpResponse* head, Diagnostics& diag) {
  if (head) *head = HttpResponse{};
  co_return co_await async_fetch(std::move(object), std::move(on_chunk), diag);
}

S3ObjectStore::S3ObjectStore(AwsClient& client, S3ObjectStoreOptions options)
    : client_(client), options_(options) {}

asio::awaitable<result<void>> S3ObjectStore::async_fetch(ObjectRef object, ObjectChunkHandler on_chunk,
                                                         Diagnostics& diag) {
  co_return co_await async_fetch_with_head(std::move(object), std::move(on_chunk), nullptr, diag);
}

asio::awaitable<result<void>> S3ObjectStore::async_fetch_with_head(ObjectRef object, ObjectChunkHandler on_chunk,
                                                                   HttpResponse* head, Diagnostics& diag) {
  const auto& cfg = client_.endpoint_config();
  std::string region = object.region.empty() ? client_.region() : object.region;
  auto ep = resolve_endpoint(AwsService::s3, region, cfg, client_.env(), diag);
  if (!ep) co_return ep.error();
  bool redirected = false;
  const std::string name = "s3://" + object.bucket + "/" + object.key;

  std::uint64_t offset = 0;  // bytes already handed to on_chunk (by earlier attempts)
  auto pos = std::make_shared<FetchPosition>();
  ObjectChunkHandler feed = [pos, inner = &on_chunk](std::span<const std::byte> c) {
    return feed_after_skip(pos, inner, c);
  };
  for (int resume = 0;; ++resume) {
    auto req = make_fetch_request(object, *ep, options_.force_path_style || cfg.s3_force_path_style, offset, diag);
    if (!req) co_return req.error();
    CallOptions co;
    co.operation = "GetObject";
    co.region = ep->signing_region.empty() ? region : ep->signing_region;
    co.unsigned_payload = false;
    *pos = FetchPosition{};
    if (offset > 0) {
      // Judge the answer from its status before any byte reaches the decoder: a 206 goes on; a
      // 200 is the whole object (Range ignored): its first `offset` bytes are skipped when its
      // ETag is the one read so far, else it is refused and the message redone from the start.
      co.on_stream_header = [pos, offset, etag = object.etag](const HttpResponse& answer) -> result<void> {
        Diagnostics refused;
        auto r = check_resumed_answer(answer, etag, offset, refused);
        if (!r) pos->refused = std::move(refused.message);
        if (r && answer.status == 200) {
          pos->whole_object = true;
          pos->skip = offset;
        }
        return r;
      };
    }
    std::uint64_t delivered = 0;
    Diagnostics d;
    auto resp = co_await client_.async_call_streaming("s3", std::move(*req), co, feed, d, &delivered);
    // `delivered` counts this answer's bytes from its own start, skipped ones included.
    offset = pos->whole_object ? std::max(offset, delivered) : offset + delivered;
    if (resp) {
      if (head) {
        head->status = resp->status;
        head->headers = resp->headers;
      }
      co_return result<void>{};
    }
    if (!pos->refused.empty()) {
      diag = d;
      diag.message = name + ": " + pos->refused + "; the message is redone from the start";
      co_return make_error_code(client_errc::io_error);
    }
    const error_code ec = resp.error();
    if (offset > 0 && (d.http_status == 412 || d.aws_code == "PreconditionFailed")) {
      // If-Match failed: the object was overwritten after the first part was read.
      diag = d;
      diag.message = name + ": changed while it was being read (HTTP 412 on the resumed GetObject with If-Match " +
                     object.etag + "); the message is redone from the start, events of the first " +
                     std::to_string(offset) + " bytes may be delivered twice";
      co_return make_error_code(client_errc::io_error);
    }
    if (d.http_status == 412 || d.aws_code == "PreconditionFailed") {
      // The object announced is no longer there: overwritten since the notification.
      diag = d;
      diag.message = name + ": is not the object the notification announced (HTTP 412 with If-Match " +
                     object.etag + "): it was overwritten since; that version cannot be read";
      co_return make_error_code(aws_errc::no_such_key);
    }
    if (delivered > 0 && is_retryable(ec) && resume < options_.resume_attempts) {
      if (!object.etag.empty() || !object.version_id.empty()) continue;
      // No ETag to resume safely: fail retryably, the message is redone from the start.
      diag = d;
      diag.message = name + ": transfer broke at byte " + std::to_string(offset) + " (" +
                     (d.message.empty() ? ec.message() : d.message) +
                     "); not resumed without the object's ETag, the message is redone from the start";
      co_return ec;
    }
    // The bucket lives in another region than the notification said: follow that once.
    if (auto other = redirect_region(ec, d); !other.empty() && !redirected && offset == 0 && other != region) {
      auto ep2 = resolve_endpoint(AwsService::s3, other, cfg, client_.env(), diag);
      if (ep2) {
        redirected = true;
        region = other;
        ep = std::move(ep2);
        continue;
      }
    }
    diag = d;
    diag.message = name + ": " + (d.message.empty() ? ec.message() : d.message);
    if (ec == aws_errc::access_denied || ec == aws_errc::kms_error)
      diag.message += " (if the object is encrypted with SSE-KMS, the KMS key policy must grant kms:Decrypt "
                      "to the role ctsqs uses)";
    if (ec == aws_errc::no_such_key) diag.message += " (the object does not exist, or no longer)";
    if (ec == aws_errc::no_such_bucket) diag.message += " (the bucket does not exist)";
    co_return ec;
  }
}

}  // namespace ctsqs
