// Unit tests for the Devo sink options: validation, region endpoints, devo:// URLs, backoff.
#include "ctsqs/sink/devo_sink_options.hpp"

#include "catch.hpp"

using ctsqs::DevoSinkOptions;
using ctsqs::Diagnostics;
using namespace std::chrono_literals;

namespace {
DevoSinkOptions good() {
  DevoSinkOptions o;
  o.region = "eu";
  o.cert_file = "domain.crt";
  o.key_file = "domain.key";
  return o;
}
}  // namespace

TEST_CASE("Devo regions map to the collector hosts", "[devo]") {
  CHECK(ctsqs::devo_region_host("us") == "collector-us.devo.io");
  CHECK(ctsqs::devo_region_host("EU") == "collector-eu.devo.io");
  CHECK(ctsqs::devo_region_host("ca") == "collector-ca.devo.io");
  CHECK(ctsqs::devo_region_host("apac") == "collector-ap.devo.io");
  CHECK(ctsqs::devo_region_host("ap") == "collector-ap.devo.io");
  CHECK_FALSE(ctsqs::devo_region_host("mars"));
  CHECK_FALSE(ctsqs::devo_region_host(""));

  Diagnostics d;
  DevoSinkOptions o = good();
  CHECK(ctsqs::devo_endpoint_host(o, d).value() == "collector-eu.devo.io");
  o.address = "relay.internal";
  CHECK(ctsqs::devo_endpoint_host(o, d).value() == "relay.internal");  // address wins
}

TEST_CASE("Devo options validation names the field", "[devo]") {
  Diagnostics d;
  CHECK(ctsqs::validate(good(), d));
  CHECK(d.message.empty());

  auto expect = [&](DevoSinkOptions o, const std::string& message) {
    INFO(message);
    CHECK_FALSE(ctsqs::validate(o, d));
    CHECK(d.message == message);
  };
  auto o = good();
  o.region.clear();
  expect(o, "devo: set an address or a region (us, eu, ca, apac)");
  o.region = "mars";
  expect(o, "devo: unknown region 'mars' (known: us, eu, ca, apac)");
  o = good();
  o.cert_file.clear();
  expect(o, "devo: cert_file is required with TLS");
  o.tls = false;  // a relay needs no certificate
  CHECK(ctsqs::validate(o, d));
  o = good();
  o.key_file.clear();
  expect(o, "devo: key_file is required with TLS");
  o = good();
  o.port = 0;
  expect(o, "devo: port must be 1..65535");
  o = good();
  o.priority = 192;
  expect(o, "devo: priority must be 0..191 (facility*8 + severity), got 192");
  o = good();
  o.buffer_bytes = 1000;
  expect(o, "devo: buffer_bytes must be at least 4096, got 1000");
  o.buffer_bytes = 4096;  // smaller than batch_bytes: the sink uses half of it per batch
  CHECK(ctsqs::validate(o, d));
  o = good();
  o.hostname = "my host";
  expect(o, "devo: hostname must not contain spaces, got 'my host'");
  o = good();
  o.batch_bytes = 0;
  expect(o, "devo: batch_bytes must be positive");
  o = good();
  o.flush_timeout = 0ms;
  expect(o, "devo: flush_timeout must be positive");
  o = good();
  o.connect_timeout = -1ms;
  expect(o, "devo: connect_timeout must be positive");
  o = good();
  o.backoff_max = 10ms;
  o.backoff_initial = 20ms;
  expect(o, "devo: backoff_max must be at least backoff_initial");
  o = good();
  o.reconnect_every = -1s;
  expect(o, "devo: reconnect_every must not be negative");
}

TEST_CASE("devo:// URLs give address and port", "[devo]") {
  Diagnostics d;
  DevoSinkOptions o;
  o.cert_file = "keep.crt";
  REQUIRE(ctsqs::parse_devo_url("devo://collector-us.devo.io:443", o, d));
  CHECK(o.address == "collector-us.devo.io");
  CHECK(o.port == 443);
  CHECK(o.cert_file == "keep.crt");  // other fields untouched
  REQUIRE(ctsqs::parse_devo_url("devo://relay.local:13000/", o, d));
  CHECK(o.address == "relay.local");
  CHECK(o.port == 13000);
  REQUIRE(ctsqs::parse_devo_url("devo://10.0.0.5", o, d));
  CHECK(o.address == "10.0.0.5");
  CHECK(o.port == 443);
  REQUIRE(ctsqs::parse_devo_url("DEVO://[::1]:6514", o, d));
  CHECK(o.address == "::1");
  CHECK(o.port == 6514);

  for (const char* bad : {"collector-us.devo.io:443", "https://x:443", "devo://", "devo://h:0",
                          "devo://h:65536", "devo://h:12x", "devo://u@h:1", "devo://h:1/path",
                          "devo://h:1?q", ""}) {
    INFO(bad);
    DevoSinkOptions before;
    CHECK_FALSE(ctsqs::parse_devo_url(bad, before, d));
    CHECK(d.message.find("devo: '") == 0);
    CHECK(before.address.empty());
  }
}

TEST_CASE("Reconnect backoff doubles, is capped, and jitters in the upper half", "[devo]") {
  using ctsqs::devo_backoff_delay;
  // Without jitter (random 0) the delay is half the exponential step; with ~1 the full step.
  CHECK(devo_backoff_delay(0, 200ms, 30s, 0.0) == 100ms);
  CHECK(devo_backoff_delay(0, 200ms, 30s, 0.999999) == 199ms);
  CHECK(devo_backoff_delay(1, 200ms, 30s, 0.0) == 200ms);
  CHECK(devo_backoff_delay(2, 200ms, 30s, 0.5) == 600ms);  // 800/2 + 800/2*0.5
  CHECK(devo_backoff_delay(3, 200ms, 30s, 0.0) == 800ms);
  // Capped: 200ms * 2^10 > 30 s.
  CHECK(devo_backoff_delay(10, 200ms, 30s, 0.0) == 15s);
  CHECK(devo_backoff_delay(10, 200ms, 30s, 1.0) == 30s);
  CHECK(devo_backoff_delay(1000, 200ms, 30s, 1.0) == 30s);  // no overflow on huge attempts
  // Out-of-range random numbers are clamped.
  CHECK(devo_backoff_delay(0, 200ms, 30s, -5.0) == 100ms);
  CHECK(devo_backoff_delay(0, 200ms, 30s, 7.0) == 200ms);
  // Monotone in the attempt for a fixed random value.
  for (unsigned a = 0; a < 20; ++a)
    CHECK(devo_backoff_delay(a, 200ms, 30s, 0.3) <= devo_backoff_delay(a + 1, 200ms, 30s, 0.3));
}
