// AwsClient: credentials → SigV4 → HTTPS exchange → error mapping, with standard-mode retries.
#include "ctsqs/aws/client.hpp"

#include "ctsqs/aws/error_response.hpp"
#include "ctsqs/aws/credentials/chain.hpp"
#include "ctsqs/aws/sigv4/signer.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <atomic>
#include <charconv>
#include <iostream>
#include <map>

namespace ctsqs {
namespace {

namespace asio = boost::asio;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

}  // namespace

struct detail::AwsClientImpl {
  asio::any_io_executor executor;
  AwsClientOptions options;
  std::string region;
  std::unique_ptr<transport::HttpsClient> http;
  std::shared_ptr<CredentialsProvider> provider;
  RetryQuota quota;
  /// Server time − local time (s), from clock-skew answers; shared with the credentials
  /// providers (their STS calls correct it too, and expiry is judged on the corrected clock).
  std::shared_ptr<std::atomic<std::int64_t>> clock_offset_s = std::make_shared<std::atomic<std::int64_t>>(0);
  std::atomic<std::uint64_t> calls{0}, attempts{0}, retries{0}, skew_fixes{0}, forced_refreshes{0};

  AwsClientImpl(asio::any_io_executor ex, AwsClientOptions opts)
      : executor(std::move(ex)), options(std::move(opts)), quota(options.retry) {}

  std::chrono::system_clock::time_point now() const {
    return options.clock() + std::chrono::seconds(clock_offset_s->load());
  }
};

namespace {

/// `client_errc::invalid_argument` with `diag.message` saying what is wrong.
result<void> invalid(Diagnostics& diag, std::string message) {
  diag.clear();
  diag.message = std::move(message);
  return make_error_code(client_errc::invalid_argument);
}

/// max_attempts as the AWS SDKs settle it: the configuration, else AWS_MAX_ATTEMPTS, else the
/// profile's max_attempts, else 3; AWS_RETRY_MODE / retry_mode must name a mode the SDKs know
/// (ctsqs runs "standard" for all three). Bad values are `invalid_argument`, naming the
/// variable or profile.
result<void> resolve_retry_settings(AwsClientOptions& options, Diagnostics& diag) {
  auto& attempts = options.endpoints.max_attempts;
  if (attempts < 0) return invalid(diag, "max_attempts must be at least 1, got " + std::to_string(attempts));
  std::map<std::string, std::string> profile;
  std::string profile_name;
  if (attempts == 0 || !env_value(options.env, "AWS_RETRY_MODE")) {
    // A malformed file is reported by the credentials chain, which reads the same files.
    Diagnostics ignored;
    if (auto files = load_shared_config(options.env, options.read_file, ignored)) {
      profile_name = effective_profile_name(options.env, options.credentials.profile);
      if (auto it = files->profiles.find(profile_name); it != files->profiles.end())
        profile.insert(it->second.begin(), it->second.end());
    }
  }
  auto parse_attempts = [&diag](const std::string& text, const std::string& where) -> result<int> {
    int n = 0;
    const auto* end = text.data() + text.size();
    auto [ptr, ec] = std::from_chars(text.data(), end, n);
    if (ec != std::errc() || ptr != end || n < 1) {
      auto r = invalid(diag, where + " '" + text + "' is not a whole number of attempts >= 1");
      return r.error();
    }
    return n;
  };
  if (attempts == 0) {
    result<int> n = 3;
    if (auto v = env_value(options.env, "AWS_MAX_ATTEMPTS"))
      n = parse_attempts(*v, "AWS_MAX_ATTEMPTS");
    else if (auto it = profile.find("max_attempts"); it != profile.end())
      n = parse_attempts(it->second, "max_attempts of profile '" + profile_name + "'");
    if (!n) return n.error();
    attempts = *n;
  }
  std::optional<std::string> mode = env_value(options.env, "AWS_RETRY_MODE");
  std::string where = "AWS_RETRY_MODE";
  if (!mode)
    if (auto it = profile.find("retry_mode"); it != profile.end()) {
      mode = it->second;
      where = "retry_mode of profile '" + profile_name + "'";
    }
  if (mode && *mode != "standard" && *mode != "legacy" && *mode != "adaptive")
    return invalid(diag, where + " '" + *mode + "' is not one of standard, legacy, adaptive");
  return {};
}

}  // namespace

AwsClient::AwsClient(std::shared_ptr<detail::AwsClientImpl> impl) : impl_(std::move(impl)) {}

result<std::unique_ptr<AwsClient>> AwsClient::create(asio::any_io_executor executor, AwsClientOptions options,
                                                     Diagnostics& diag) {
  if (!options.env) options.env = [](std::string_view) -> std::optional<std::string> { return std::nullopt; };
  if (!options.jitter) options.jitter = default_jitter();
  if (!options.clock) options.clock = system_wall_clock();
  if (!options.read_file) options.read_file = real_file_reader();
  if (auto r = resolve_retry_settings(options, diag); !r) return r.error();
  options.retry.max_attempts = options.endpoints.max_attempts;

  // Transport settings: explicit configuration first, then the environment.
  auto& http = options.http;
  http.verify_tls = http.verify_tls && options.endpoints.verify_tls;
  if (!http.verify_tls) {
    const std::string warning =
        "ctsqs: warning: TLS certificate verification is OFF for AWS endpoints (endpoints.verify_tls: false): "
        "whoever is on the path can read and alter every request, signed credentials included; "
        "only for a local emulator";
    if (options.log)
      options.log(warning);
    else
      std::cerr << warning << '\n';
  }
  if (http.ca_bundle.empty()) http.ca_bundle = options.endpoints.ca_bundle;
  if (http.ca_bundle.empty()) http.ca_bundle = env_value(options.env, "AWS_CA_BUNDLE").value_or("");
  if (http.proxy.https_proxy.empty() && http.proxy.http_proxy.empty() && http.proxy.no_proxy.empty())
    http.proxy = transport::proxy_config_from_environment(options.env);

  auto impl = std::make_shared<detail::AwsClientImpl>(executor, std::move(options));
  auto& o = impl->options;
  impl->region = o.endpoints.region;
  if (impl->region.empty()) impl->region = env_value(o.env, "AWS_REGION").value_or("");
  if (impl->region.empty()) impl->region = env_value(o.env, "AWS_DEFAULT_REGION").value_or("");
  if (impl->region.empty()) {
    // The AWS SDKs also take the region from the profile (a malformed file is reported by the
    // credentials chain, which reads the same files).
    Diagnostics ignored;
    if (auto files = load_shared_config(o.env, o.read_file, ignored)) {
      auto it = files->profiles.find(effective_profile_name(o.env, o.credentials.profile));
      if (it != files->profiles.end())
        if (auto r = it->second.find("region"); r != it->second.end()) impl->region = r->second;
    }
  }
  auto http_client = transport::HttpsClient::create(executor, o.http, diag);
  if (!http_client) return http_client.error();
  impl->http = std::make_unique<transport::HttpsClient>(std::move(*http_client));

  if (o.credentials_provider) {
    impl->provider = o.credentials_provider;
  } else {
    CredentialsContext ctx;
    ctx.executor = executor;
    ctx.http = impl->http.get();
    ctx.env = o.env;
    ctx.read_file = o.read_file;
    ctx.clock = [clock = o.clock, offset = impl->clock_offset_s] {
      return clock() + std::chrono::seconds(offset->load());
    };
    ctx.clock_offset_s = impl->clock_offset_s;
    ctx.region = impl->region;
    ctx.endpoints = o.endpoints;
    auto p = make_credentials_provider(o.credentials, ctx, diag);
    if (!p) {
      if (diag.message.empty()) diag.message = p.error().message();
      return p.error();
    }
    impl->provider = std::move(*p);
  }
  return std::unique_ptr<AwsClient>(new AwsClient(std::move(impl)));
}

AwsClient::~AwsClient() = default;

asio::any_io_executor AwsClient::get_executor() const { return impl_->executor; }
const std::string& AwsClient::region() const noexcept { return impl_->region; }
const AwsEndpointConfig& AwsClient::endpoint_config() const noexcept { return impl_->options.endpoints; }
const EnvLookup& AwsClient::env() const noexcept { return impl_->options.env; }
CredentialsProvider& AwsClient::credentials() noexcept { return *impl_->provider; }
transport::HttpsClient& AwsClient::http() noexcept { return *impl_->http; }
std::chrono::seconds AwsClient::clock_offset() const noexcept {
  return std::chrono::seconds(impl_->clock_offset_s->load());
}

result<Endpoint> AwsClient::endpoint(AwsService service, std::string_view region, Diagnostics& diag) const {
  const std::string r = region.empty() ? impl_->region : std::string(region);
  return resolve_endpoint(service, r, impl_->options.endpoints, impl_->options.env, diag);
}

AwsClientStats AwsClient::stats() const noexcept {
  AwsClientStats s;
  s.calls = impl_->calls.load();
  s.attempts = impl_->attempts.load();
  s.retries = impl_->retries.load();
  s.clock_skew_corrections = impl_->skew_fixes.load();
  s.credential_refreshes_forced = impl_->forced_refreshes.load();
  return s;
}

namespace {

/// Counts what the streaming handler handed on, so a failure after the first byte is not
/// replayed (the consumer already has those bytes).
struct DeliveryCounter {
  std::uint64_t bytes = 0;
};

asio::awaitable<result<void>> counting_handler(std::shared_ptr<DeliveryCounter> counter,
                                               transport::BodyChunkHandler* inner,
                                               std::span<const std::byte> chunk) {
  result<void> r = co_await (*inner)(chunk);
  if (r) counter->bytes += chunk.size();
  co_return r;
}

asio::awaitable<result<HttpResponse>> run_call(std::shared_ptr<detail::AwsClientImpl> self,
                                               std::string service, HttpRequest req,
                                               CallOptions opts,
                                               transport::BodyChunkHandler* on_body,
                                               Diagnostics& diag, std::uint64_t* delivered) {
  self->calls.fetch_add(1);
  const auto& o = self->options;
  const std::string region = opts.region.empty() ? self->region : opts.region;
  const std::string context = service + (opts.operation.empty() ? "" : " " + opts.operation);
  if (req.host.empty()) {
    diag.message = context + ": the request has no host (resolve the endpoint first)";
    co_return make_error_code(client_errc::invalid_argument);
  }
  if (region.empty()) {
    diag.message = context + ": no region (set region in the configuration, AWS_REGION, or use a queue URL that names one)";
    co_return make_error_code(client_errc::invalid_argument);
  }
  const int max_attempts = opts.max_attempts > 0 ? opts.max_attempts : o.retry.max_attempts;
  transport::ExchangeOptions xopts;
  xopts.connect_timeout = o.endpoints.connect_timeout;
  xopts.read_timeout = opts.read_timeout.count() > 0 ? opts.read_timeout : o.endpoints.read_timeout;
  xopts.max_body_bytes = opts.max_body_bytes;
  xopts.on_header = opts.on_stream_header;

  auto counter = std::make_shared<DeliveryCounter>();
  transport::BodyChunkHandler wrapped;
  if (on_body) {
    wrapped = [counter, on_body](std::span<const std::byte> chunk) {
      return counting_handler(counter, on_body, chunk);
    };
  }

  int acquired = 0;  // retry-quota tokens taken by this call
  for (int attempt = 1;; ++attempt) {
    diag.clear();
    self->attempts.fetch_add(1);
    result<Credentials> creds = co_await self->provider->async_get(diag);
    if (!creds) {
      diag.message = context + ": no credentials: " + diag.message;
      co_return creds.error();
    }
    HttpRequest signed_req = req;
    sigv4::SigningParams sp;
    sp.region = region;
    sp.service = service;
    sp.time = self->now();
    sp.normalize_path = service != "s3";
    sp.sign_body = service == "s3";
    sp.unsigned_payload = opts.unsigned_payload;
    if (auto s = sigv4::sign(signed_req, *creds, sp, diag); !s) {
      diag.message = context + ": signing failed: " + diag.message;
      co_return s.error();
    }

    // No co_await inside ?: — g++ 12 miscompiles it.
    result<HttpResponse> r = make_error_code(client_errc::cancelled);
    if (on_body)
      r = co_await self->http->async_exchange_streaming(std::move(signed_req), xopts, wrapped, diag);
    else
      r = co_await self->http->async_exchange(std::move(signed_req), xopts, diag);
    if (delivered) *delivered = counter->bytes;

    error_code ec;
    std::optional<std::chrono::seconds> skew;
    if (!r) {
      ec = r.error();
      diag.message = context + ": " + diag.message;
    } else if (r->status / 100 == 2) {
      self->quota.release(acquired);
      co_return std::move(*r);
    } else {
      AwsError err = parse_aws_error(*r);
      ec = aws_error_to_code(err, context, diag);
      skew = clock_skew_offset(r->header("Date"), o.clock());
      // RequestExpired means "signed too long ago": with a skewed clock that is clock skew.
      if (ec == aws_errc::expired_token && err.code == "RequestExpired" && skew &&
          std::chrono::abs(*skew - std::chrono::seconds(self->clock_offset_s->load())) >
              std::chrono::minutes(4))
        ec = make_error_code(aws_errc::clock_skew);
      if (ec == aws_errc::clock_skew && skew) {
        self->clock_offset_s->store(skew->count());
        self->skew_fixes.fetch_add(1);
      }
      if (ec == aws_errc::expired_token) {
        self->provider->invalidate();
        self->forced_refreshes.fetch_add(1);
      }
    }
    const bool body_started = counter->bytes > 0;
    const bool redirect = ec == aws_errc::permanent_redirect || ec == aws_errc::temporary_redirect ||
                          ec == aws_errc::wrong_region;  // the caller must re-target these
    if (!is_retryable(ec) || redirect || attempt >= max_attempts || body_started) {
      if (attempt > 1) diag.message += " (after " + std::to_string(attempt) + " attempts)";
      co_return ec;
    }
    if (!self->quota.try_acquire(ec)) {
      diag.message += " (not retried: retry quota exhausted)";
      co_return ec;
    }
    acquired += self->quota.cost(ec);
    self->retries.fetch_add(1);
    // Clock skew and expired credentials are fixed by now: retry at once.
    const bool fixed = ec == aws_errc::clock_skew || ec == aws_errc::expired_token;
    if (!fixed) {
      auto delay = backoff_delay(o.retry, attempt, ec, o.jitter());
      if (delay.count() > 0) {
        asio::steady_timer timer(self->executor);
        timer.expires_after(delay);
        auto [tec] = co_await timer.async_wait(use_tuple);
        if (tec) co_return make_error_code(client_errc::cancelled);
      }
    }
  }
}

}  // namespace

asio::awaitable<result<HttpResponse>> AwsClient::async_call(std::string service, HttpRequest req,
                                                            CallOptions opts, Diagnostics& diag) {
  auto self = impl_;
  co_return co_await run_call(std::move(self), std::move(service), std::move(req), std::move(opts),
                              nullptr, diag, nullptr);
}

asio::awaitable<result<HttpResponse>> AwsClient::async_call_streaming(
    std::string service, HttpRequest req, CallOptions opts, transport::BodyChunkHandler on_body,
    Diagnostics& diag, std::uint64_t* bytes_delivered) {
  auto self = impl_;
  co_return co_await run_call(std::move(self), std::move(service), std::move(req), std::move(opts),
                              &on_body, diag, bytes_delivered);
}

asio::awaitable<result<sts::CallerIdentity>> async_get_caller_identity(AwsClient& client,
                                                                       Diagnostics& diag) {
  auto ep = client.endpoint(AwsService::sts, {}, diag);
  if (!ep) co_return ep.error();
  sts::StsTarget target{ep->scheme, ep->host, ep->base_path};
  CallOptions opts;
  opts.operation = "GetCallerIdentity";
  if (!ep->signing_region.empty()) opts.region = ep->signing_region;
  auto resp = co_await client.async_call("sts", sts::make_get_caller_identity_request(target), opts, diag);
  if (!resp) co_return resp.error();
  co_return sts::parse_get_caller_identity_response(*resp, diag);
}

}  // namespace ctsqs
