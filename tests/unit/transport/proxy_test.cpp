// Unit tests for proxy selection (HTTPS_PROXY / HTTP_PROXY / NO_PROXY).
#include "ctsqs/transport/proxy.hpp"

#include "catch.hpp"
#include "../catch_result.hpp"

#include <map>

using namespace ctsqs;
using namespace ctsqs::transport;

namespace {
EnvLookup env_of(std::map<std::string, std::string, std::less<>> m) {
  return [m](std::string_view k) -> std::optional<std::string> {
    auto it = m.find(k);
    if (it == m.end()) return std::nullopt;
    return it->second;
  };
}
}  // namespace

TEST_CASE("proxy settings come from the environment, upper case first, empty = unset", "[proxy]") {
  auto cfg = proxy_config_from_environment(env_of({{"HTTPS_PROXY", "http://p:3128"},
                                                   {"https_proxy", "http://lower:1"},
                                                   {"HTTP_PROXY", ""},
                                                   {"http_proxy", "http://h:8080"},
                                                   {"no_proxy", "localhost,.internal"}}));
  CHECK(cfg.https_proxy == "http://p:3128");
  CHECK(cfg.http_proxy == "http://h:8080");
  CHECK(cfg.no_proxy == "localhost,.internal");
  CHECK(proxy_config_from_environment(env_of({})).https_proxy.empty());
}

TEST_CASE("NO_PROXY matches hosts, domain suffixes, IPs, ports and *", "[proxy]") {
  CHECK(matches_no_proxy("*", "sqs.us-east-1.amazonaws.com", "443"));
  CHECK(matches_no_proxy("amazonaws.com", "sqs.us-east-1.amazonaws.com", "443"));
  CHECK(matches_no_proxy(".amazonaws.com", "sqs.us-east-1.amazonaws.com", "443"));
  CHECK(matches_no_proxy("*.amazonaws.com", "s3.amazonaws.com", "443"));
  CHECK(matches_no_proxy("a.com, 169.254.169.254", "169.254.169.254", "80"));
  CHECK(matches_no_proxy("LOCALHOST", "localhost", "80"));
  CHECK(matches_no_proxy("example.com:8443", "example.com", "8443"));
  CHECK_FALSE(matches_no_proxy("example.com:8443", "example.com", "443"));
  CHECK_FALSE(matches_no_proxy("mazonaws.com", "sqs.amazonaws.com", "443"));
  CHECK_FALSE(matches_no_proxy("", "sqs.amazonaws.com", "443"));
  CHECK_FALSE(matches_no_proxy("other.com,,", "sqs.amazonaws.com", "443"));
  CHECK(matches_no_proxy("::1", "[::1]", "80"));
}

TEST_CASE("NO_PROXY entries without a host (\":80\", \".\") match nothing and do not crash", "[proxy]") {
  // ":80" read front() of the empty host (a crash with _GLIBCXX_ASSERTIONS, undefined otherwise).
  CHECK_FALSE(matches_no_proxy(":80", "example.com", "80"));
  CHECK_FALSE(matches_no_proxy(":", "example.com", "80"));
  CHECK_FALSE(matches_no_proxy(".", "example.com", "80"));
  CHECK_FALSE(matches_no_proxy("[]:80", "example.com", "80"));
  CHECK(matches_no_proxy(":443, example.com", "example.com", "443"));
}

TEST_CASE("select_proxy picks by scheme, honours NO_PROXY and parses credentials", "[proxy]") {
  ProxyConfig cfg;
  cfg.https_proxy = "http://user:p%40ss@proxy.local:3128";
  cfg.http_proxy = "proxy2.local:8080";
  cfg.no_proxy = "169.254.169.254,.internal";
  Diagnostics diag;
  auto a = select_proxy(cfg, "https", "sqs.eu-west-1.amazonaws.com", "443", diag);
  REQUIRE(a);
  REQUIRE(a->has_value());
  CHECK((*a)->host == "proxy.local");
  CHECK((*a)->port == "3128");
  CHECK((*a)->authorization == "Basic dXNlcjpwQHNz");  // user:p@ss
  auto b = select_proxy(cfg, "http", "example.com", "80", diag);
  REQUIRE(b);
  REQUIRE(b->has_value());
  CHECK((*b)->host == "proxy2.local");
  CHECK((*b)->port == "8080");
  CHECK((*b)->authorization.empty());
  auto c = select_proxy(cfg, "http", "169.254.169.254", "80", diag);
  REQUIRE(c);
  CHECK_FALSE(c->has_value());
  auto d = select_proxy(cfg, "https", "db.internal", "443", diag);
  REQUIRE(d);
  CHECK_FALSE(d->has_value());
  ProxyConfig none;
  auto e = select_proxy(none, "https", "x.com", "443", diag);
  REQUIRE(e);
  CHECK_FALSE(e->has_value());
}

TEST_CASE("select_proxy rejects proxies it cannot use, naming the variable", "[proxy]") {
  ProxyConfig cfg;
  cfg.https_proxy = "socks5://proxy:1080";
  Diagnostics diag;
  auto r = select_proxy(cfg, "https", "x.com", "443", diag);
  REQUIRE(r.has_error());
  CHECK(r.error() == client_errc::invalid_argument);
  CHECK(diag.message.find("HTTPS_PROXY") != std::string::npos);
  CHECK(diag.message.find("socks5") != std::string::npos);
}

TEST_CASE("proxy credentials never appear in error messages", "[proxy]") {
  ProxyConfig cfg;
  cfg.https_proxy = "ftp://user:topsecret@proxy:21";
  Diagnostics diag;
  auto r = select_proxy(cfg, "https", "x.com", "443", diag);
  REQUIRE(r.has_error());
  CHECK(diag.message.find("topsecret") == std::string::npos);
}
