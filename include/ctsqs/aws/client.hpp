// AwsClient: the AWS client glue that composes build → sign → exchange → parse: credentials,
// SigV4, the HTTPS transport, standard-mode retries, clock-skew correction and error mapping.
#pragma once

#include "ctsqs/aws/config.hpp"
#include "ctsqs/aws/credentials/chain.hpp"
#include "ctsqs/aws/credentials/provider.hpp"
#include "ctsqs/detail/completion.hpp"
#include "ctsqs/aws/endpoints.hpp"
#include "ctsqs/error.hpp"
#include "ctsqs/transport/http.hpp"
#include "ctsqs/aws/retry.hpp"
#include "ctsqs/aws/sts.hpp"
#include "ctsqs/transport/https_client.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <string>

namespace ctsqs {

namespace detail {
struct AwsClientImpl;  // defined in lib/aws_client.cpp
}

/// Everything an AwsClient is built from. Environment and files come in through `env` and
/// `read_file` so embedding applications and tests control them.
struct AwsClientOptions {
  AwsCredentialsConfig credentials;  ///< static keys, profile, roles
  AwsEndpointConfig endpoints;       ///< region, overrides, TLS, timeouts, max attempts
  /// Environment lookup (AWS_*, HTTPS_PROXY, ...). Unset: nothing is read from the environment.
  EnvLookup env;
  /// Reads the shared config/credentials files and token files. Unset: real files.
  FileReader read_file;
  /// Use this provider instead of building the default chain (+ roles) from `credentials`.
  std::shared_ptr<CredentialsProvider> credentials_provider;
  RetryPolicy retry;           ///< max_attempts is taken from endpoints.max_attempts
  JitterSource jitter;         ///< unset: default_jitter()
  WallClock clock;             ///< unset: the system clock (used for signing times)
  /// Transport settings; verify_tls / ca_bundle / proxy are filled from `endpoints` and `env`
  /// (AWS_CA_BUNDLE, HTTPS_PROXY, HTTP_PROXY, NO_PROXY) unless set here.
  transport::HttpsClientConfig http;
  /// Where warnings about the settings go when the client is built (TLS verification turned
  /// off); unset: stderr.
  std::function<void(std::string_view line)> log;
};

/// Per-call settings.
struct CallOptions {
  std::string operation;  ///< for messages, e.g. "ReceiveMessage"
  std::string region;     ///< signing region; empty = the client's region
  /// Read timeout of this call; 0 = endpoints.read_timeout. Long polls pass their wait + margin.
  std::chrono::milliseconds read_timeout{0};
  int max_attempts = 0;          ///< 0 = the client's policy
  bool unsigned_payload = false; ///< S3: sign with UNSIGNED-PAYLOAD
  std::size_t max_body_bytes = 0;  ///< 0 = transport default (buffered calls)
  /// Streaming calls: checks a 2xx answer's status and headers before any body byte is handed
  /// on (transport::ExchangeOptions::on_header); its error is returned, never retried here.
  std::function<result<void>(const HttpResponse& head)> on_stream_header;
};

/// Counters of one client (metrics and tests).
struct AwsClientStats {
  std::uint64_t calls = 0;
  std::uint64_t attempts = 0;
  std::uint64_t retries = 0;
  std::uint64_t clock_skew_corrections = 0;
  std::uint64_t credential_refreshes_forced = 0;  ///< after ExpiredToken and the like
};

/// Signs and sends AWS requests, retrying the way the AWS SDKs' standard mode does.
///
/// `async_call` returns the response of a 2xx answer; any other answer becomes an aws_errc
/// error code with `diag` holding the AWS code, message, request id and HTTP status (never a
/// secret). Throttling, 5xx and connection errors are retried with backoff; clock skew corrects
/// the signing clock from the response's Date and retries; ExpiredToken refreshes the
/// credentials and retries.
///
/// Thread safety: calls may run concurrently. The client must outlive its calls.
class AwsClient {
 public:
  /// A client for `options`, or the configuration's error with `diag.message` naming the
  /// setting: `client_errc::invalid_argument` for `max_attempts`, `AWS_MAX_ATTEMPTS`,
  /// `AWS_RETRY_MODE` or a profile's `max_attempts`/`retry_mode`, an unreadable CA bundle (the
  /// file), an invalid transport setting (HttpsClientConfig's field); the credentials chain's
  /// error for its settings (e.g. `aws_cross_account_role` not an ARN). A client with TLS
  /// verification off is built with a warning to `options.log`. Reads no network.
  static result<std::unique_ptr<AwsClient>> create(boost::asio::any_io_executor executor,
                                                   AwsClientOptions options, Diagnostics& diag);
  ~AwsClient();
  AwsClient(const AwsClient&) = delete;
  AwsClient& operator=(const AwsClient&) = delete;

  boost::asio::any_io_executor get_executor() const;

  /// The client's region: configuration, else AWS_REGION, else AWS_DEFAULT_REGION, else the
  /// `region` of the shared-config profile in use; may be empty (callers then pass
  /// CallOptions::region, e.g. from a queue URL).
  const std::string& region() const noexcept;

  /// The endpoint configuration the client was built with.
  const AwsEndpointConfig& endpoint_config() const noexcept;
  /// The environment lookup the client was built with (never null).
  const EnvLookup& env() const noexcept;

  /// The endpoint of `service` for `region` (empty: the client's), honouring the configured
  /// and environment overrides (endpoints.hpp resolve_endpoint).
  result<Endpoint> endpoint(AwsService service, std::string_view region, Diagnostics& diag) const;

  /// Sign `req` for `service` ("sqs", "s3", "sts"), send it, retry as needed; the 2xx response.
  /// `req.host` must be set (see endpoints.hpp for resolution).
  boost::asio::awaitable<result<HttpResponse>> async_call(std::string service, HttpRequest req,
                                                          CallOptions opts, Diagnostics& diag);

  /// async_call through any completion token: `void(error_code, HttpResponse)`, the error code
  /// the call's (AWS errors mapped, transport, credentials), the response empty when it is set;
  /// `diag` (which must outlive the operation) gets the detail. A terminal cancellation through
  /// the handler's slot (bind_cancellation_slot, a parallel_group, a timeout) ends the exchange
  /// or retry wait in progress and completes with `asio::error::operation_aborted` (the
  /// connection is dropped, not reused); partial and total alone are ignored, since a request
  /// cut off may still have been carried out by AWS.
  template <BOOST_ASIO_COMPLETION_TOKEN_FOR(void(error_code, HttpResponse)) CompletionToken>
  auto async_call(std::string service, HttpRequest req, CallOptions opts, Diagnostics& diag,
                  CompletionToken&& token) {
    return detail::initiate_erased<HttpResponse>(
        std::forward<CompletionToken>(token),
        [this, service = std::move(service), req = std::move(req), opts = std::move(opts),
         d = &diag](completion_handler<HttpResponse> handler) mutable {
          launch_call(std::move(service), std::move(req), std::move(opts), *d, std::move(handler));
        });
  }

  /// As async_call, with the 2xx body streamed to `on_body` (S3 GetObject). Attempts are retried
  /// only while no body byte was handed on; a failure after that is returned (is_retryable tells
  /// whether resuming with a Range request may help) and `bytes_delivered` says how far it got.
  boost::asio::awaitable<result<HttpResponse>> async_call_streaming(
      std::string service, HttpRequest req, CallOptions opts, transport::BodyChunkHandler on_body,
      Diagnostics& diag, std::uint64_t* bytes_delivered = nullptr);

  /// The credentials provider in use (chain + roles, or the injected one).
  CredentialsProvider& credentials() noexcept;

  /// The HTTPS transport (shared keep-alive pool).
  transport::HttpsClient& http() noexcept;

  /// Current correction added to the local clock when signing (from clock-skew answers).
  std::chrono::seconds clock_offset() const noexcept;

  AwsClientStats stats() const noexcept;

 private:
  explicit AwsClient(std::shared_ptr<detail::AwsClientImpl> impl);
  void launch_call(std::string service, HttpRequest req, CallOptions opts, Diagnostics& diag,
                   completion_handler<HttpResponse> handler);

  std::shared_ptr<detail::AwsClientImpl> impl_;
};

/// STS GetCallerIdentity through `client` (its STS endpoint and credentials): who the
/// credentials chain and roles resolve to. `client.credentials().describe()` then says which
/// provider and roles were used.
boost::asio::awaitable<result<sts::CallerIdentity>> async_get_caller_identity(AwsClient& client,
                                                                              Diagnostics& diag);

namespace detail {
void launch_get_caller_identity(AwsClient& client, Diagnostics& diag,
                                completion_handler<sts::CallerIdentity> handler);
}

/// async_get_caller_identity through any completion token: `void(error_code,
/// sts::CallerIdentity)`, `diag` (which must outlive the operation) naming the failure.
/// Cancellation as AwsClient::async_call(..., token): terminal ends the call with
/// `asio::error::operation_aborted`.
template <BOOST_ASIO_COMPLETION_TOKEN_FOR(void(error_code, sts::CallerIdentity)) CompletionToken>
auto async_get_caller_identity(AwsClient& client, Diagnostics& diag, CompletionToken&& token) {
  return detail::initiate_erased<sts::CallerIdentity>(
      std::forward<CompletionToken>(token),
      [c = &client, d = &diag](completion_handler<sts::CallerIdentity> handler) {
        detail::launch_get_caller_identity(*c, *d, std::move(handler));
      });
}

}  // namespace ctsqs
