// CredentialsProvider: where signing credentials come from, plus the caching provider that
// refreshes temporary credentials before they expire, once for all concurrent callers.
#pragma once

#include "ctsqs/aws/credentials.hpp"
#include "ctsqs/environment.hpp"
#include "ctsqs/error.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace ctsqs {

/// The keys of the environment, as the default chain's first provider reads them:
/// AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN for temporary ones),
/// provider "environment". nullopt when either key is unset or empty.
std::optional<Credentials> credentials_from_environment(const EnvLookup& env);

/// A source of AWS credentials. Implementations never put secrets into diagnostics.
class CredentialsProvider {
 public:
  virtual ~CredentialsProvider() = default;

  /// Current credentials, fetched or refreshed when needed.
  virtual boost::asio::awaitable<result<Credentials>> async_get(Diagnostics& diag) = 0;

  /// AWS answered ExpiredToken (or similar): drop cached credentials so the next async_get
  /// fetches new ones. The default does nothing (long-term keys cannot be refreshed).
  virtual void invalidate() noexcept {}

  /// Which provider (and roles) this is, e.g. "assume-role arn:... <- environment"; no secrets.
  virtual std::string describe() const = 0;
};

/// Fixed credentials (configuration keys, environment keys, or a test).
class StaticCredentialsProvider final : public CredentialsProvider {
 public:
  explicit StaticCredentialsProvider(Credentials creds) : creds_(std::move(creds)) {}
  boost::asio::awaitable<result<Credentials>> async_get(Diagnostics& diag) override;
  std::string describe() const override { return creds_.provider; }

 private:
  Credentials creds_;
};

/// Fetches a new set of temporary credentials (one network round trip, typically).
using CredentialsFetcher = std::function<boost::asio::awaitable<result<Credentials>>(Diagnostics& diag)>;

/// Settings of a CachingCredentialsProvider.
struct CachingOptions {
  /// Refresh this long before expiration, bounded by half the credentials' lifetime (so
  /// 15-minute credentials are not refreshed on every call).
  std::chrono::seconds refresh_margin{300};
  /// After a failed refresh while the cached credentials are still valid, wait this long
  /// before trying again (the cached ones are used meanwhile).
  std::chrono::seconds retry_after_failure{10};
  /// How often a caller that waits for another caller's refresh checks for its end.
  std::chrono::milliseconds wait_poll{10};
};

/// Caches what a fetcher returns and refreshes it before it expires: single-flight (one fetch
/// at a time, whatever the number of concurrent callers; the others wait for it, or keep using
/// the still-valid credentials), and at once after invalidate().
///
/// Thread-safe. `executor` runs the waiting timers; `clock` is the wall clock (injectable).
class CachingCredentialsProvider final : public CredentialsProvider {
 public:
  CachingCredentialsProvider(boost::asio::any_io_executor executor, CredentialsFetcher fetcher,
                             std::string description, WallClock clock = system_wall_clock(),
                             CachingOptions options = {});
  ~CachingCredentialsProvider() override;

  boost::asio::awaitable<result<Credentials>> async_get(Diagnostics& diag) override;
  void invalidate() noexcept override;
  std::string describe() const override;

  /// How many times the fetcher ran (tests and metrics).
  std::size_t fetch_count() const noexcept;

 private:
  struct State;
  std::shared_ptr<State> state_;
};

}  // namespace ctsqs
