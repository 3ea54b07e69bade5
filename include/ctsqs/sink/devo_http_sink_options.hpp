// DevoHttpSinkOptions: where and how the Devo HTTP sink POSTs gzipped batches (Devo's HTTP
// ingestion, stream mode), plus the pure helpers around it (regional endpoints, the request path,
// validation, how an answer is classified, Retry-After).
#pragma once

#include "ctsqs/error.hpp"
#include "ctsqs/transport/proxy.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace ctsqs {

/// Devo's documented limit on one HTTP ingestion request (32 MB).
inline constexpr std::size_t devo_http_max_request_bytes = 32u * 1000u * 1000u;

/// Devo HTTP output settings (`outputs.devo_http` in the collector file).
///
/// Wire format (Devo's "HTTP endpoint" page, stream mode): `POST
/// <endpoint>/stream/<domain>/token!<token>/<host>/<tag>` with `Content-Encoding: gzip` and one
/// event per line in the body. The token is a secret: it is part of the request path, so the
/// sink never prints a request path or URL; `operator<<` is deliberately not provided.
struct DevoHttpSinkOptions {
  /// Base URL, e.g. "https://http-eu.devo.io" or "https://collector-ap.devo.io:8443" (a path
  /// prefix is kept); empty = the endpoint of `region`.
  std::string endpoint;
  std::string region;    ///< "us", "us3", "eu", "ca", "apac" (Singapore), "apac2" (Sydney)
  std::string domain;    ///< the Devo domain events go to
  std::string token;     ///< the domain's HTTP ingestion token (a secret)
  std::string hostname;  ///< the `<host>` path segment; empty = this machine's name
  std::string ca_bundle; ///< PEM file of CAs trusted besides the system store (a test receiver)
  /// Verify the server certificate (chain and name). Only turn off for a test receiver.
  bool verify_server = true;
  /// Proxies; unset = HTTPS_PROXY / NO_PROXY of the process environment (as the AWS calls).
  std::optional<transport::ProxyConfig> proxy;
  /// A tag's batch is sent once it holds this many bytes of lines (before gzip); a flush sends
  /// every non-empty batch. At most devo_http_max_request_bytes.
  std::size_t batch_bytes = 4u << 20;
  /// Bounded memory: lines queued or in flight; `write` blocks while this is exceeded.
  std::size_t buffer_bytes = 64u << 20;
  /// gzip level 1..12 (libdeflate's scale). 1 by default: on CloudTrail-like text it sends ~6 %
  /// more bytes than 6 for less than half the CPU (docs/devo.md has the figures).
  int compression_level = 1;
  std::chrono::milliseconds connect_timeout{10000};  ///< TCP + proxy CONNECT + TLS, per try
  std::chrono::milliseconds request_timeout{30000};  ///< send the body and read the answer, per try
  /// How long a batch is retried (5xx, 429, resets, timeouts), and how long `flush` waits for
  /// every batch written before it to be answered 2xx, before it fails.
  std::chrono::milliseconds flush_timeout{60000};
  std::chrono::milliseconds backoff_initial{200};  ///< first retry delay (before jitter)
  std::chrono::milliseconds backoff_max{30000};    ///< retry delays never exceed this...
  /// ...unless Devo asks for longer with Retry-After, up to this.
  std::chrono::milliseconds retry_after_max{120000};
  /// Where warnings about the settings go when the sink is created; unset: stderr.
  std::function<void(std::string_view line)> log;
};

/// The base URL of a Devo region's HTTP ingestion ("eu" -> "https://http-eu.devo.io"), or
/// nullopt. Case-insensitive; "ap"/"apac" and "ap2"/"apac2" name the two APAC collectors.
std::optional<std::string> devo_http_region_endpoint(std::string_view region);

/// The endpoint the sink posts to: `endpoint` when set, else the region's; fails naming
/// `region` when neither gives one.
result<std::string> devo_http_endpoint(const DevoHttpSinkOptions& options, Diagnostics& diag);

/// A base URL split for the transport.
struct DevoHttpTarget {
  std::string scheme;     ///< "https" (or "http" for a test receiver)
  std::string host;       ///< host[:port] as the Host header carries it
  std::string base_path;  ///< path prefix without a trailing '/' (usually empty)
};

/// Parse `https://HOST[:PORT][/PREFIX]`; no user info, query or fragment. Errors name the URL.
result<DevoHttpTarget> parse_devo_http_endpoint(std::string_view url, Diagnostics& diag);

/// `<base_path>/stream/<domain>/token!<token>/<host>/<tag>` with each part percent-encoded
/// (RFC 3986 unreserved characters kept). Holds the token: never log it.
std::string devo_http_stream_path(std::string_view base_path, std::string_view domain,
                                  std::string_view token, std::string_view host,
                                  std::string_view tag);

/// Check the options: a destination (endpoint or known region), domain, token (no
/// placeholder), sizes and durations in range. The message names the field, never the token.
result<void> validate(const DevoHttpSinkOptions& options, Diagnostics& diag);

/// What an HTTP status from Devo means for the batch.
enum class DevoHttpAnswer {
  delivered,  ///< 2xx: Devo received the batch
  retry,      ///< 408, 429, 5xx: try again after a delay
  refused,    ///< any other status: a request Devo will not take (token, domain, size)
};

/// Classify `status` (pure).
DevoHttpAnswer classify_devo_http_status(int status) noexcept;

/// The delay a Retry-After header asks for: delta-seconds ("120") or an IMF-fixdate
/// ("Sun, 06 Nov 1994 08:49:37 GMT", relative to `now`; a past date is 0). nullopt when the
/// value is neither (pure; `value` is untrusted).
std::optional<std::chrono::milliseconds> parse_retry_after(std::string_view value,
                                                           std::chrono::system_clock::time_point now);

/// A short name for a refused or failing status, with a hint for the usual causes
/// ("401 Unauthorized: check domain and token"); never holds the token.
std::string describe_devo_http_status(int status);

}  // namespace ctsqs
