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

S3ObjectStore::S3ObjectStore(AwsClient& client, S3ObjectStoreOptions options)
    : client_(client), options_(options) {}

asio::awaitable<result<void>> S3ObjectStore::async_fetch(ObjectRef object, ObjectChunkHandler on_chunk,
                                                         Diagnostics& diag) {
  const auto& cfg = client_.endpoint_config();
  const std::string region = object.region.empty() ? client_.region() : object.region;
  auto ep = resolve_endpoint(AwsService::s3, region, cfg, client_.env(), &diag);
  if (!ep) co_return ep.error();
  const std::string name = "s3://" + object.bucket + "/" + object.key;

  std::uint64_t offset = 0;  // bytes already handed to on_chunk (by earlier attempts)
  for (int resume = 0;; ++resume) {
    s3::GetObjectParams gp;
    gp.endpoint = *ep;
    gp.bucket = object.bucket;
    gp.key = object.key;
    gp.force_path_style = options_.force_path_style || cfg.s3_force_path_style;
    gp.range_start = offset;
    auto req = s3::make_get_object_request(gp, diag);
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
    if (delivered > 0 && is_retryable(ec) && resume < options_.resume_attempts) continue;
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
