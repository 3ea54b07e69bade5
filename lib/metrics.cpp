// Metrics: snapshot, Prometheus text, progress line, summary and heartbeat event.
#include "ctsqs/collector/metrics.hpp"

#include "detail/json_escape.hpp"

#include <cstdio>
#include <ctime>

namespace ctsqs {
namespace {

std::uint64_t ld(const std::atomic<std::uint64_t>& a) { return a.load(std::memory_order_relaxed); }

// A Prometheus label value: the text format knows only \\, \" and \n.
std::string prometheus_label(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      default: out += c;
    }
  }
  return out;
}

std::string lag_text(std::int64_t ms) {
  if (ms < 0) return "-";
  char buf[32];
  if (ms < 60'000)
    std::snprintf(buf, sizeof buf, "%.1fs", static_cast<double>(ms) / 1000.0);
  else if (ms < 3'600'000)
    std::snprintf(buf, sizeof buf, "%.1fm", static_cast<double>(ms) / 60'000.0);
  else
    std::snprintf(buf, sizeof buf, "%.1fh", static_cast<double>(ms) / 3'600'000.0);
  return buf;
}

}  // namespace

std::string format_si(double v, std::string_view unit) {
  const char* suffix[] = {"", "k", "M", "G", "T"};
  int i = 0;
  while (v >= 1000.0 && i < 4) {
    v /= 1000.0;
    ++i;
  }
  char buf[48];
  std::snprintf(buf, sizeof buf, i ? "%.1f%s" : "%.0f%s", v, suffix[i]);
  return buf + std::string(unit);
}

std::string format_duration(double s) {
  char buf[32];
  if (s < 60)
    std::snprintf(buf, sizeof buf, "%.0fs", s);
  else if (s < 3600)
    std::snprintf(buf, sizeof buf, "%dm%02ds", static_cast<int>(s) / 60, static_cast<int>(s) % 60);
  else
    std::snprintf(buf, sizeof buf, "%dh%02dm", static_cast<int>(s) / 3600, static_cast<int>(s) % 3600 / 60);
  return buf;
}

MetricsSnapshot Metrics::snapshot() const {
  MetricsSnapshot s;
  s.receives = ld(receives);
  s.empty_receives = ld(empty_receives);
  s.messages_received = ld(messages_received);
  s.messages_deleted = ld(messages_deleted);
  s.messages_released = ld(messages_released);
  s.messages_failed = ld(messages_failed);
  s.messages_ignored = ld(messages_ignored);
  s.objects_fetched = ld(objects_fetched);
  s.objects_failed = ld(objects_failed);
  s.objects_skipped = ld(objects_skipped);
  s.duplicates_skipped = ld(duplicates_skipped);
  s.ledger_records = ld(ledger_records);
  s.ledger_errors = ld(ledger_errors);
  s.events_written = ld(events_written);
  s.events_delivered = ld(events_delivered);
  s.events_dropped = ld(events_dropped);
  s.events_retagged = ld(events_retagged);
  s.bytes_fetched = ld(bytes_fetched);
  s.visibility_extensions = ld(visibility_extensions);
  s.sqs_errors = ld(sqs_errors);
  s.s3_errors = ld(s3_errors);
  s.sink_flushes = ld(sink_flushes);
  s.sink_failures = ld(sink_failures);
  s.messages_in_flight = ld(messages_in_flight);
  s.objects_in_flight = ld(objects_in_flight);
  s.objects_in_flight_limit = ld(objects_in_flight_limit);
  s.integrity_digests_verified = ld(integrity_digests_verified);
  s.integrity_findings = ld(integrity_findings);
  s.holes_found = ld(holes_found);
  s.holes_healed = ld(holes_healed);
  s.evidence_missing = ld(evidence_missing);
  s.queue_lag_ms = queue_lag_ms.load(std::memory_order_relaxed);
  if (auto ms = last_event_unix_ms.load(std::memory_order_relaxed); ms > 0)
    s.last_event_time = std::chrono::system_clock::time_point(std::chrono::milliseconds(ms));
  return s;
}

std::string to_prometheus(const MetricsSnapshot& s, std::string_view collector_id) {
  std::string out;
  const std::string label = "{collector_id=\"" + prometheus_label(collector_id) + "\"}";
  auto series = [&](const char* name, const char* type, const char* help, double value) {
    out += "# HELP ctsqs_";
    out += name;
    out += ' ';
    out += help;
    out += "\n# TYPE ctsqs_";
    out += name;
    out += ' ';
    out += type;
    out += "\nctsqs_";
    out += name;
    out += label;
    char buf[64];
    std::snprintf(buf, sizeof buf, " %.17g\n", value);
    out += buf;
  };
  auto counter = [&](const char* name, const char* help, std::uint64_t v) {
    series(name, "counter", help, static_cast<double>(v));
  };
  counter("receives_total", "ReceiveMessage calls answered.", s.receives);
  counter("empty_receives_total", "ReceiveMessage calls that returned no message.", s.empty_receives);
  counter("messages_received_total", "SQS messages received (redeliveries count again).", s.messages_received);
  counter("messages_deleted_total", "SQS messages deleted after delivery.", s.messages_deleted);
  counter("messages_released_total", "SQS messages left to come back (retryable failure or shutdown).", s.messages_released);
  counter("messages_failed_total", "SQS messages with a permanent failure.", s.messages_failed);
  counter("messages_ignored_total", "Test events and notifications without work, deleted.", s.messages_ignored);
  counter("objects_fetched_total", "S3 objects fetched and decoded.", s.objects_fetched);
  counter("objects_failed_total", "S3 objects that failed.", s.objects_failed);
  counter("objects_skipped_total", "S3 objects without events (digests, empty files).", s.objects_skipped);
  counter("duplicates_skipped_total", "Announced S3 objects the ledger says were delivered already (not fetched).",
          s.duplicates_skipped);
  counter("ledger_records_total", "Objects recorded in the delivery ledger.", s.ledger_records);
  counter("ledger_errors_total", "Ledger lookups or writes that failed.", s.ledger_errors);
  counter("events_written_total", "Events handed to the sink.", s.events_written);
  counter("events_delivered_total", "Events covered by a successful sink flush.", s.events_delivered);
  counter("events_dropped_total", "Events dropped by the service filter.", s.events_dropped);
  counter("events_retagged_total", "Events sent to service unknown by a tag length or count limit.",
          s.events_retagged);
  counter("bytes_fetched_total", "S3 object bytes received.", s.bytes_fetched);
  counter("visibility_extensions_total", "Visibility timeout extensions sent.", s.visibility_extensions);
  counter("sqs_errors_total", "SQS calls that failed after retries.", s.sqs_errors);
  counter("s3_errors_total", "S3 GetObject calls that failed after retries.", s.s3_errors);
  counter("sink_flushes_total", "Successful sink flushes.", s.sink_flushes);
  counter("sink_failures_total", "Failed sink writes or flushes.", s.sink_failures);
  counter("integrity_digests_verified_total", "CloudTrail digests verified in the drain.", s.integrity_digests_verified);
  counter("integrity_findings_total", "Integrity findings: invalid digests, mismatched or unlisted log files.",
          s.integrity_findings);
  counter("holes_found_total", "Log files a verified digest lists that no notification brought, taken on for a heal.",
          s.holes_found);
  counter("holes_healed_total", "Holes delivered and recorded by the heal.", s.holes_healed);
  counter("evidence_missing_total", "Holes whose log file no longer exists in the bucket (given up, reported).",
          s.evidence_missing);
  series("messages_in_flight", "gauge", "Messages being worked on.", static_cast<double>(s.messages_in_flight));
  series("objects_in_flight", "gauge", "Objects being fetched and decoded.", static_cast<double>(s.objects_in_flight));
  series("objects_in_flight_limit", "gauge", "Adaptive limit on objects in flight (0: fixed).",
         static_cast<double>(s.objects_in_flight_limit));
  series("queue_lag_seconds", "gauge", "Age of the last message received (now - SentTimestamp); -1 unknown.",
         s.queue_lag_ms < 0 ? -1.0 : static_cast<double>(s.queue_lag_ms) / 1000.0);
  series("last_event_timestamp_seconds", "gauge", "Unix time of the last delivered event; 0 none.",
         s.last_event_time ? std::chrono::duration<double>(s.last_event_time->time_since_epoch()).count() : 0.0);
  return out;
}

std::string format_progress(const MetricsSnapshot& now, const MetricsSnapshot& prev,
                            std::chrono::duration<double> elapsed) {
  const double secs = elapsed.count() > 0 ? elapsed.count() : 1.0;
  const double ev_rate = static_cast<double>(now.events_delivered - prev.events_delivered) / secs;
  const double msg_rate = static_cast<double>(now.messages_deleted - prev.messages_deleted) / secs;
  std::string line = "ctsqs: messages " + std::to_string(now.messages_deleted) + " done/" +
                     std::to_string(now.messages_received) + " recv, objects " +
                     std::to_string(now.objects_fetched) + ", events " + format_si(static_cast<double>(now.events_delivered)) +
                     " (" + format_si(ev_rate, "/s") + ", " + format_si(msg_rate, " msg/s") + "), " +
                     format_si(static_cast<double>(now.bytes_fetched), "B") + ", lag " + lag_text(now.queue_lag_ms) +
                     ", in flight " + std::to_string(now.messages_in_flight) + " msg/" +
                     std::to_string(now.objects_in_flight) + " obj";
  if (now.objects_in_flight_limit) line += " (limit " + std::to_string(now.objects_in_flight_limit) + ")";
  if (now.messages_failed + now.objects_failed + now.sqs_errors + now.sink_failures > 0)
    line += ", failures " + std::to_string(now.messages_failed) + " msg/" + std::to_string(now.objects_failed) +
            " obj/" + std::to_string(now.sqs_errors) + " sqs/" + std::to_string(now.sink_failures) + " sink";
  return line;
}

std::string format_summary(const MetricsSnapshot& s, std::chrono::duration<double> elapsed) {
  const double secs = elapsed.count() > 0 ? elapsed.count() : 1.0;
  char buf[1024];
  std::snprintf(buf, sizeof buf,
                "ctsqs: summary after %.1fs\n"
                "  messages: %llu received, %llu deleted, %llu released for retry, %llu failed permanently, %llu ignored (test events)\n"
                "  objects:  %llu fetched, %llu skipped, %llu failed, %s fetched\n"
                "  events:   %llu delivered (%s/s), %llu dropped by filter\n"
                "  sqs: %llu receives (%llu empty), %llu visibility extensions, %llu errors; sink: %llu flushes, %llu failures\n",
                secs, (unsigned long long)s.messages_received, (unsigned long long)s.messages_deleted,
                (unsigned long long)s.messages_released, (unsigned long long)s.messages_failed,
                (unsigned long long)s.messages_ignored, (unsigned long long)s.objects_fetched,
                (unsigned long long)s.objects_skipped, (unsigned long long)s.objects_failed,
                format_si(static_cast<double>(s.bytes_fetched), "B").c_str(), (unsigned long long)s.events_delivered,
                format_si(static_cast<double>(s.events_delivered) / secs).c_str(), (unsigned long long)s.events_dropped,
                (unsigned long long)s.receives, (unsigned long long)s.empty_receives,
                (unsigned long long)s.visibility_extensions, (unsigned long long)s.sqs_errors,
                (unsigned long long)s.sink_flushes, (unsigned long long)s.sink_failures);
  std::string out = buf;
  if (s.duplicates_skipped || s.ledger_records || s.ledger_errors)
    out += "  ledger: " + std::to_string(s.ledger_records) + " objects recorded, " +
           std::to_string(s.duplicates_skipped) + " duplicates skipped, " + std::to_string(s.ledger_errors) +
           " errors\n";
  if (s.holes_found || s.evidence_missing)
    out += "  heal: " + std::to_string(s.holes_found) + " holes found, " + std::to_string(s.holes_healed) + " healed, " +
           std::to_string(s.evidence_missing) + " missing from the bucket\n";
  return out;
}

std::string format_iso8601(std::chrono::system_clock::time_point t) {
  using namespace std::chrono;
  const auto ms = duration_cast<milliseconds>(t.time_since_epoch()).count();
  std::int64_t secs = ms / 1000;
  std::int64_t frac = ms % 1000;
  if (frac < 0) {
    frac += 1000;
    secs -= 1;
  }
  const std::time_t tt = static_cast<std::time_t>(secs);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(frac));
  return buf;
}

Event make_heartbeat_event(const HeartbeatOptions& options, std::string_view collector_id,
                           std::string_view status, const MetricsSnapshot& s,
                           std::chrono::system_clock::time_point now) {
  std::string members;
  auto str = [&](const char* k, std::string_view v) {
    if (!members.empty()) members += ',';
    members += '"';
    members += k;
    members += "\":";
    detail::append_json_string(members, v);
  };
  auto num = [&](const char* k, std::int64_t v) {
    if (!members.empty()) members += ',';
    members += '"';
    members += k;
    members += "\":";
    members += std::to_string(v);
  };
  str("collector_id", collector_id);
  str("time", format_iso8601(now));
  str("status", status);
  num("messages_received", static_cast<std::int64_t>(s.messages_received));
  num("messages_deleted", static_cast<std::int64_t>(s.messages_deleted));
  num("messages_failed", static_cast<std::int64_t>(s.messages_failed));
  num("objects_fetched", static_cast<std::int64_t>(s.objects_fetched));
  num("objects_failed", static_cast<std::int64_t>(s.objects_failed));
  num("events_delivered", static_cast<std::int64_t>(s.events_delivered));
  num("bytes_fetched", static_cast<std::int64_t>(s.bytes_fetched));
  num("queue_lag_ms", s.queue_lag_ms);
  if (s.last_event_time) {
    str("last_event_time", format_iso8601(*s.last_event_time));
  } else {
    members += ",\"last_event_time\":null";
  }
  Event e;
  e.tag = options.tag;
  e.record = "{" + members + "}";
  e.columns = members;
  return e;
}

}  // namespace ctsqs
