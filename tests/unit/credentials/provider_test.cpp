// Unit tests for CachingCredentialsProvider: refresh margin, single-flight, invalidate, failures.
// The wall clock is injected; coroutines interleave on one io_context without timers or sockets.
#include "ctsqs/aws/credentials/provider.hpp"

#include "catch.hpp"
#include "../catch_result.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <vector>

using namespace ctsqs;
using namespace std::chrono;
namespace asio = boost::asio;

namespace {

struct FakeFetcher {
  system_clock::time_point* now;
  seconds ttl{3600};
  int calls = 0;
  bool fail = false;
  int yields = 5;  // suspend a few times so concurrent callers really overlap

  CredentialsFetcher fn(asio::any_io_executor ex) {
    return [this, ex](Diagnostics& d) { return run(this, ex, d); };
  }
  static asio::awaitable<result<Credentials>> run(FakeFetcher* self, asio::any_io_executor ex, Diagnostics& d) {
    int n = ++self->calls;
    for (int i = 0; i < self->yields; ++i) co_await asio::post(ex, asio::use_awaitable);
    if (self->fail) {
      d.message = "fetch failed";
      co_return make_error_code(client_errc::io_error);
    }
    Credentials c;
    c.access_key_id = "AKID" + std::to_string(n);
    c.secret_access_key = "secret";
    c.expiration = *self->now + self->ttl;
    c.provider = "fake";
    co_return c;
  }
};

struct Harness {
  asio::io_context io;
  system_clock::time_point now = sys_days(year{2026} / 11 / 28) + 20h;
  FakeFetcher fetcher{&now};
  std::shared_ptr<CachingCredentialsProvider> provider;

  Harness() {
    provider = std::make_shared<CachingCredentialsProvider>(io.get_executor(), fetcher.fn(io.get_executor()),
                                                            "fake", [this] { return now; });
  }

  /// Runs `n` concurrent async_get calls to completion; returns their results in order.
  std::vector<result<Credentials>> get(int n) {
    std::vector<result<Credentials>> out(static_cast<std::size_t>(n), make_error_code(client_errc::cancelled));
    for (int i = 0; i < n; ++i)
      asio::co_spawn(io, one(provider, &out[static_cast<std::size_t>(i)]), asio::detached);
    io.restart();
    io.run();
    return out;
  }
  static asio::awaitable<void> one(std::shared_ptr<CachingCredentialsProvider> p, result<Credentials>* out) {
    Diagnostics d;
    *out = co_await p->async_get(d);
  }
};

}  // namespace

TEST_CASE("concurrent callers share one fetch (single-flight)", "[credentials]") {
  Harness h;
  auto rs = h.get(20);
  CHECK(h.fetcher.calls == 1);
  CHECK(h.provider->fetch_count() == 1);
  for (auto& r : rs) {
    REQUIRE(r);
    CHECK(r->access_key_id == "AKID1");
  }
}

TEST_CASE("cached until the refresh margin, then refreshed once", "[credentials]") {
  Harness h;  // 1 h credentials: margin 5 min
  REQUIRE(h.get(1)[0]->access_key_id == "AKID1");
  h.now += 54min;
  CHECK(h.get(3)[0]->access_key_id == "AKID1");
  CHECK(h.fetcher.calls == 1);
  h.now += 2min;  // 4 min before expiry: inside the margin
  auto rs = h.get(10);
  CHECK(h.fetcher.calls == 2);
  // The first caller refreshes; the others keep using the still-valid credentials meanwhile.
  CHECK(rs[0]->access_key_id == "AKID2");
  for (auto& r : rs) REQUIRE(r);
  CHECK(h.get(1)[0]->access_key_id == "AKID2");
}

TEST_CASE("short-lived credentials: the margin is bounded by half their lifetime", "[credentials]") {
  Harness h;
  h.fetcher.ttl = 10s;
  h.get(1);
  h.now += 4s;
  h.get(1);
  CHECK(h.fetcher.calls == 1);  // not refreshed on every call
  h.now += 2s;                  // past half the lifetime
  h.get(1);
  CHECK(h.fetcher.calls == 2);
}

TEST_CASE("expired credentials make every caller wait for the one refresh", "[credentials]") {
  Harness h;
  h.get(1);
  h.now += 2h;
  auto rs = h.get(8);
  CHECK(h.fetcher.calls == 2);
  for (auto& r : rs) {
    REQUIRE(r);
    CHECK(r->access_key_id == "AKID2");
  }
}

TEST_CASE("invalidate() forces a refresh at the next call", "[credentials]") {
  Harness h;
  h.get(1);
  h.provider->invalidate();
  auto rs = h.get(5);
  CHECK(h.fetcher.calls == 2);
  for (auto& r : rs) CHECK(r->access_key_id == "AKID2");
}

TEST_CASE("a failed first fetch is reported to every waiter, fetched once", "[credentials]") {
  Harness h;
  h.fetcher.fail = true;
  auto rs = h.get(6);
  CHECK(h.fetcher.calls == 1);
  for (auto& r : rs) {
    REQUIRE(r.has_error());
    CHECK(r.error() == client_errc::io_error);
  }
  h.fetcher.fail = false;
  CHECK(h.get(1)[0]->access_key_id == "AKID2");
}

TEST_CASE("a failed refresh keeps serving valid credentials and backs off", "[credentials]") {
  Harness h;
  h.get(1);
  h.now += 57min;  // inside the margin, still valid
  h.fetcher.fail = true;
  auto rs = h.get(3);
  CHECK(h.fetcher.calls == 2);
  for (auto& r : rs) CHECK(r->access_key_id == "AKID1");
  h.now += 5s;  // within retry_after_failure (10 s): no new attempt
  h.get(1);
  CHECK(h.fetcher.calls == 2);
  h.now += 10s;
  h.fetcher.fail = false;
  CHECK(h.get(1)[0]->access_key_id == "AKID3");
}

TEST_CASE("credentials print without secrets", "[credentials]") {
  Credentials c{"AKIDPRINT", "very-secret-key", "session-token-value", std::nullopt, "test"};
  std::ostringstream os;
  os << c;
  CHECK(os.str().find("AKIDPRINT") != std::string::npos);
  CHECK(os.str().find("very-secret-key") == std::string::npos);
  CHECK(os.str().find("session-token-value") == std::string::npos);
}
