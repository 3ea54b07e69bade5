// S3ObjectStore: GetObject streamed through AwsClient, in the bucket's region, resumed with Range
// after a broken transfer, with a KMS hint on AccessDenied.
#include "ctsqs/object_store.hpp"

#include "ctsqs/aws_client.hpp"
#include "ctsqs/aws_error.hpp"
#include "ctsqs/endpoints.hpp"
#include "ctsqs/retry.hpp"
#include "ctsqs/s3/protocol.hpp"

namespace ctsqs {

namespace asio = boost::asio;

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
  if (offset > 0 && object.etag.empty()) {
    diag.message = "s3://" + object.bucket + "/" + object.key +
                   ": cannot resume at byte " + std::to_string(offset) +
                   " without the object's ETag (the rest could come from another version)";
    return make_error_code(client_errc::invalid_argument);
  }
  s3::GetObjectParams gp;
  gp.endpoint = endpoint;
  gp.bucket = object.bucket;
  gp.key = object.key;
  gp.force_path_style = force_path_style;
  gp.range_start = offset;
  if (offset > 0) gp.if_match = object.etag;
  return s3::make_get_object_request(gp, diag);
}

S3ObjectStore::S3ObjectStore(AwsClient& client, S3ObjectStoreOptions options)
    : client_(client), options_(options) {}

asio::awaitable<result<void>> S3ObjectStore::async_fetch(ObjectRef object, ObjectChunkHandler on_chunk,
                                                         Diagnostics& diag) {
  const auto& cfg = client_.endpoint_config();
  std::string region = object.region.empty() ? client_.region() : object.region;
  auto ep = resolve_endpoint(AwsService::s3, region, cfg, client_.env(), &diag);
  if (!ep) co_return ep.error();
  bool redirected = false;
  const std::string name = "s3://" + object.bucket + "/" + object.key;

  std::uint64_t offset = 0;  // bytes already handed to on_chunk (by earlier attempts)
  for (int resume = 0;; ++resume) {
    auto req = make_fetch_request(object, *ep, options_.force_path_style || cfg.s3_force_path_style, offset, diag);
    if (!req) co_return req.error();
    CallOptions co;
    co.operation = "GetObject";
    co.region = ep->signing_region.empty() ? region : ep->signing_region;
    co.unsigned_payload = false;
    std::uint64_t delivered = 0;
    Diagnostics d;
    auto resp = co_await client_.async_call_streaming("s3", std::move(*req), co, on_chunk, d, &delivered);
    offset += delivered;
    if (resp) {
      if (offset > 0 && resume > 0 && resp->status != 206) {
        // A server that ignored the Range would repeat bytes the decoder already has.
        diag.message = name + ": resumed GetObject did not return a partial response (HTTP " +
                       std::to_string(resp->status) + ")";
        co_return make_error_code(client_errc::io_error);
      }
      co_return result<void>{};
    }
    const error_code ec = resp.error();
    if (resume > 0 && (d.http_status == 412 || d.aws_code == "PreconditionFailed")) {
      // If-Match failed: the object was overwritten after the first part was read.
      diag = d;
      diag.message = name + ": changed while it was being read (HTTP 412 on the resumed GetObject with If-Match " +
                     object.etag + "); the message is redone from the start, events of the first " +
                     std::to_string(offset) + " bytes may be delivered twice";
      co_return make_error_code(client_errc::io_error);
    }
    if (delivered > 0 && is_retryable(ec) && resume < options_.resume_attempts) {
      if (!object.etag.empty()) continue;
      // No ETag to resume safely: fail retryably, the message is redone from the start.
      diag = d;
      diag.message = name + ": transfer broke at byte " + std::to_string(offset) + " (" +
                     (d.message.empty() ? ec.message() : d.message) +
                     "); not resumed without the object's ETag, the message is redone from the start";
      co_return ec;
    }
    // The bucket lives in another region than the notification said: follow that once.
    if (auto other = redirect_region(ec, d); !other.empty() && !redirected && offset == 0 && other != region) {
      auto ep2 = resolve_endpoint(AwsService::s3, other, cfg, client_.env(), &diag);
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
