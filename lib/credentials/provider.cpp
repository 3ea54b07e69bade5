// Static and caching credentials providers: refresh before expiry, single-flight, invalidate.
#include "ctsqs/aws/credentials/provider.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/concurrent_channel.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <mutex>
#include <optional>
#include <vector>

namespace ctsqs {
namespace {

namespace asio = boost::asio;
using Channel = asio::experimental::concurrent_channel<void(boost::system::error_code)>;
using std::chrono::system_clock;

}  // namespace

asio::awaitable<result<Credentials>> StaticCredentialsProvider::async_get(Diagnostics& diag) {
  if (creds_.empty()) {
    diag.message = "credentials from " + creds_.provider + " are incomplete";
    co_return make_error_code(client_errc::invalid_argument);
  }
  co_return creds_;
}

struct CachingCredentialsProvider::State {
  asio::any_io_executor executor;
  CredentialsFetcher fetcher;
  std::string description;
  WallClock clock;
  CachingOptions options;

  std::mutex mu;
  std::optional<Credentials> cached;
  system_clock::time_point fetched_at{};
  bool invalidated = false;
  bool refreshing = false;
  system_clock::time_point no_retry_before{};
  std::uint64_t generation = 0;       // completed fetches
  error_code last_error;              // of the last completed fetch (empty when it succeeded)
  Diagnostics last_diag;
  std::vector<std::shared_ptr<Channel>> waiters;
  std::size_t fetches = 0;

  bool usable(system_clock::time_point now) const {
    return cached && !invalidated && (!cached->expiration || now < *cached->expiration);
  }
  bool fresh(system_clock::time_point now) const {
    if (!usable(now)) return false;
    if (!cached->expiration) return true;
    const auto lifetime = *cached->expiration - fetched_at;
    const auto margin = std::min<system_clock::duration>(options.refresh_margin, lifetime / 2);
    return now < *cached->expiration - margin;
  }
};

CachingCredentialsProvider::CachingCredentialsProvider(asio::any_io_executor executor,
                                                       CredentialsFetcher fetcher,
                                                       std::string description, WallClock clock,
                                                       CachingOptions options)
    : state_(std::make_shared<State>()) {
  state_->executor = std::move(executor);
  state_->fetcher = std::move(fetcher);
  state_->description = std::move(description);
  state_->clock = clock ? std::move(clock) : system_wall_clock();
  state_->options = options;
}

CachingCredentialsProvider::~CachingCredentialsProvider() = default;

std::string CachingCredentialsProvider::describe() const { return state_->description; }

std::size_t CachingCredentialsProvider::fetch_count() const noexcept {
  std::lock_guard lock(state_->mu);
  return state_->fetches;
}

void CachingCredentialsProvider::invalidate() noexcept {
  std::lock_guard lock(state_->mu);
  state_->invalidated = true;
  state_->no_retry_before = {};
}

asio::awaitable<result<Credentials>> CachingCredentialsProvider::async_get(Diagnostics& diag) {
  std::shared_ptr<State> st = state_;
  std::uint64_t seen_generation = 0;
  bool waited = false;
  for (;;) {
    std::optional<Credentials> ready;
    std::shared_ptr<Channel> wait_on;
    error_code failed;
    {
      std::lock_guard lock(st->mu);
      const auto now = st->clock();
      if (waited && st->generation != seen_generation && st->last_error && !st->usable(now)) {
        // The refresh we waited for failed: report its error instead of starting another.
        failed = st->last_error;
        diag = st->last_diag;
      } else if (st->fresh(now)) {
        ready = st->cached;
      } else if (!st->refreshing) {
        if (st->usable(now) && now < st->no_retry_before) {
          ready = st->cached;  // a refresh failed recently; the cached ones are still valid
        } else {
          st->refreshing = true;  // this caller fetches (below)
        }
      } else if (st->usable(now)) {
        ready = st->cached;  // someone is refreshing; these are still valid meanwhile
      } else {
        wait_on = std::make_shared<Channel>(st->executor, 1);
        st->waiters.push_back(wait_on);
        seen_generation = st->generation;
      }
    }
    if (failed) co_return failed;
    if (ready) co_return std::move(*ready);
    if (wait_on) {
      waited = true;
      auto [ec] = co_await wait_on->async_receive(asio::as_tuple(asio::use_awaitable));
      if (ec) {  // cancelled (shutdown) while waiting for another caller's refresh
        diag.message = "cancelled while waiting for a credentials refresh (" + st->description + ")";
        co_return make_error_code(client_errc::cancelled);
      }
      continue;
    }
    // This caller refreshes for everybody.
    Diagnostics fetch_diag;
    result<Credentials> got = co_await st->fetcher(fetch_diag);
    std::vector<std::shared_ptr<Channel>> to_wake;
    std::optional<Credentials> fallback;
    {
      std::lock_guard lock(st->mu);
      const auto now = st->clock();
      st->refreshing = false;
      ++st->fetches;
      ++st->generation;
      if (got) {
        st->cached = *got;
        st->fetched_at = now;
        st->invalidated = false;
        st->last_error = {};
        st->last_diag.clear();
      } else {
        st->last_error = got.error();
        st->last_diag = fetch_diag;
        if (st->usable(now)) {
          st->no_retry_before = now + st->options.retry_after_failure;
          fallback = st->cached;
        }
      }
      to_wake.swap(st->waiters);
    }
    for (auto& w : to_wake) w->try_send(boost::system::error_code{});
    if (got) co_return got;
    if (fallback) co_return std::move(*fallback);
    diag = fetch_diag;
    co_return got.error();
  }
}

}  // namespace ctsqs
