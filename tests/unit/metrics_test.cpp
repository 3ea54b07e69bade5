// Unit tests of Metrics: snapshot, Prometheus text, progress line, heartbeat event.
#include "ctsqs/collector/metrics.hpp"

#include "catch.hpp"

#include <boost/json.hpp>

using namespace ctsqs;
using namespace std::chrono_literals;

TEST_CASE("metrics: snapshot copies every counter", "[metrics]") {
  Metrics m;
  m.messages_received = 7;
  m.events_delivered = 1234;
  m.queue_lag_ms = 2500;
  m.last_event_unix_ms = 1'700'000'000'000;
  auto s = m.snapshot();
  CHECK(s.messages_received == 7);
  CHECK(s.events_delivered == 1234);
  CHECK(s.queue_lag_ms == 2500);
  REQUIRE(s.last_event_time);
  CHECK(format_iso8601(*s.last_event_time) == "2023-11-14T22:13:20.000Z");
  Metrics fresh;
  CHECK_FALSE(fresh.snapshot().last_event_time);
}

TEST_CASE("metrics: Prometheus text has HELP, TYPE and a labelled sample per series", "[metrics]") {
  MetricsSnapshot s;
  s.messages_deleted = 42;
  s.events_delivered = 9000;
  s.messages_in_flight = 3;
  s.queue_lag_ms = 1500;
  const auto text = to_prometheus(s, "col\"1");
  CHECK(text.find("# TYPE ctsqs_messages_deleted_total counter\n") != std::string::npos);
  CHECK(text.find("ctsqs_messages_deleted_total{collector_id=\"col\\\"1\"} 42\n") != std::string::npos);
  CHECK(text.find("ctsqs_events_delivered_total{collector_id=\"col\\\"1\"} 9000\n") != std::string::npos);
  CHECK(text.find("# TYPE ctsqs_messages_in_flight gauge\n") != std::string::npos);
  CHECK(text.find("ctsqs_queue_lag_seconds{collector_id=\"col\\\"1\"} 1.5\n") != std::string::npos);
  // Label values know only \\, \" and \n: a tab stays a tab (JSON's \t would be read literally).
  const auto tabbed = to_prometheus(s, "a\tb\nc\\d");
  CHECK(tabbed.find("ctsqs_messages_deleted_total{collector_id=\"a\tb\\nc\\\\d\"} 42\n") != std::string::npos);
  // Every sample line is preceded by its HELP and TYPE.
  std::size_t samples = 0, types = 0, helps = 0, pos = 0;
  while (pos < text.size()) {
    auto eol = text.find('\n', pos);
    REQUIRE(eol != std::string::npos);
    auto line = text.substr(pos, eol - pos);
    if (line.rfind("# HELP ", 0) == 0) ++helps;
    else if (line.rfind("# TYPE ", 0) == 0) ++types;
    else ++samples;
    pos = eol + 1;
  }
  CHECK(samples == types);
  CHECK(samples == helps);
  CHECK(samples > 20);
}

TEST_CASE("metrics: progress line shows counts, rate and lag", "[metrics]") {
  MetricsSnapshot prev, now;
  prev.events_delivered = 1000;
  now.events_delivered = 21000;
  now.messages_received = 12;
  now.messages_deleted = 10;
  now.objects_fetched = 11;
  now.bytes_fetched = 5'500'000;
  now.queue_lag_ms = 3200;
  now.messages_in_flight = 2;
  const auto line = format_progress(now, prev, 2s);
  CHECK(line.find("messages 10 done/12 recv") != std::string::npos);
  CHECK(line.find("objects 11") != std::string::npos);
  CHECK(line.find("events 21.0k (10.0k/s") != std::string::npos);
  CHECK(line.find("5.5MB") != std::string::npos);
  CHECK(line.find("lag 3.2s") != std::string::npos);
  CHECK(line.find("failures") == std::string::npos);
  now.sink_failures = 1;
  CHECK(format_progress(now, prev, 2s).find("failures") != std::string::npos);
}

TEST_CASE("metrics: heartbeat event carries id, counts and last event time", "[metrics]") {
  HeartbeatOptions opts;
  opts.tag = "my.app.test.heartbeat";
  MetricsSnapshot s;
  s.events_delivered = 77;
  s.messages_deleted = 5;
  const auto t = std::chrono::system_clock::time_point(std::chrono::milliseconds(1'700'000'000'123));
  auto e = make_heartbeat_event(opts, "12345", "running", s, t);
  CHECK(e.tag == "my.app.test.heartbeat");
  auto v = boost::json::parse(e.record).as_object();
  CHECK(v.at("collector_id").as_string() == "12345");
  CHECK(v.at("time").as_string() == "2023-11-14T22:13:20.123Z");
  CHECK(v.at("status").as_string() == "running");
  CHECK(v.at("events_delivered").as_int64() == 77);
  CHECK(v.at("messages_deleted").as_int64() == 5);
  CHECK(v.at("last_event_time").is_null());
  // columns is the inside of the same object
  CHECK(boost::json::parse("{" + e.columns + "}") == boost::json::value(v));

  s.last_event_time = t - 60s;
  auto e2 = make_heartbeat_event(opts, "id", "running", s, t);
  CHECK(boost::json::parse(e2.record).as_object().at("last_event_time").as_string() == "2023-11-14T22:12:20.123Z");
}

TEST_CASE("format_si and format_duration, for progress lines") {
  CHECK(ctsqs::format_si(999) == "999");
  CHECK(ctsqs::format_si(12345678, "B") == "12.3MB");
  CHECK(ctsqs::format_si(2100, " ev/s") == "2.1k ev/s");
  CHECK(ctsqs::format_duration(42) == "42s");
  CHECK(ctsqs::format_duration(185) == "3m05s");
  CHECK(ctsqs::format_duration(7800) == "2h10m");
}
