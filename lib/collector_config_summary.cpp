// The redacted summary of a collector file (describe): what `ctsqs check-config` prints.
#include "ctsqs/collector/config.hpp"


#include <algorithm>
#include <cctype>
#include <limits>
#include <sstream>

#include "detail/config_text.hpp"

namespace ctsqs {

using std::chrono::milliseconds;
using std::chrono::seconds;
using namespace config_text;

// ---------------------------------------------------------------------------------------------
// Summary

namespace {
std::string secs(seconds s) { return std::to_string(s.count()) + "s"; }
std::string msecs(milliseconds m) {
  return m.count() % 1000 == 0 ? std::to_string(m.count() / 1000) + "s" : std::to_string(m.count()) + "ms";
}
const char* yn(bool b) { return b ? "true" : "false"; }
std::string or_unset(const std::string& s, const char* unset = "(unset)") { return s.empty() ? unset : s; }
}  // namespace

std::string describe(const CollectorConfig& c) {
  std::ostringstream os;
  os << "collector " << or_unset(c.id) << " from " << or_unset(c.source_name, "(memory)")
     << (c.enabled ? "" : " [DISABLED]") << '\n';
  os << "  queue: " << or_unset(c.queue_url) << " (region " << or_unset(c.aws.region) << ")\n";
  const auto& cr = c.credentials;
  os << "  credentials: ";
  if (!cr.access_key_id.empty()) {
    // A real key id is 16+ characters; its first four say only the kind (AKIA, ASIA).
    os << "static key "
       << (cr.access_key_id.size() >= 16 ? cr.access_key_id.substr(0, 4) + "..." : std::string("(redacted)"))
       << " (secret " << (cr.secret_access_key.empty() ? "missing" : "redacted") << ")";
  } else {
    os << "default chain" << (cr.profile.empty() ? "" : " (profile " + cr.profile + ")");
  }
  if (!cr.base_account_role.empty()) os << "; base role " << cr.base_account_role;
  if (!cr.cross_account_role.empty()) os << "; cross-account role " << cr.cross_account_role;
  // The external id guards against the confused deputy: shown as present, never its value.
  if (!cr.external_id.empty()) os << " (with external id)";
  os << "; session " << cr.session_name << " for " << secs(cr.session_duration) << '\n';
  os << "  services:";
  // With several services, each on its own line with the rule that decides what it takes.
  const bool several = c.services.size() > 1;
  for (const auto& s : c.services) {
    os << (several ? "\n    " : " ") << s.name;
    if (s.configured_name != s.name && !s.configured_name.empty()) os << " (as " << s.configured_name << ")";
    os << " -> " << s.routing_template;
    // The AWS service filter is CloudTrail's (findings have no AWS service to filter by).
    if (!s.aws_services.empty() || s.routing_template.find("{service}") != std::string::npos) {
      os << " [";
      if (s.aws_services.empty()) os << "all AWS services";
      for (std::size_t i = 0; i < s.aws_services.size(); ++i) os << (i ? "," : "") << s.aws_services[i];
      os << ']';
    }
    if (s.ack_messages) os << " ack_messages=" << yn(*s.ack_messages);
    if (several) os << "; claims: " << describe(s.claim);
  }
  os << '\n';
  os << "  flags: ack_messages=" << yn(c.ack_messages) << " direct_mode=" << yn(c.direct_mode)
     << " do_not_send=" << yn(c.do_not_send) << " compressed_events=" << yn(c.compressed_events)
     << " debug=" << yn(c.debug) << '\n';
  os << "  outputs:";
  if (c.outputs.empty()) os << " stdout (flat, default)";
  if (c.outputs.standard_output) os << " stdout (" << to_string(c.outputs.standard_output->format) << ")";
  if (c.outputs.directory)
    os << " directory " << c.outputs.directory->path.string() << " (" << to_string(c.outputs.directory->format) << ")";
  if (c.outputs.devo) {
    const auto& d = *c.outputs.devo;
    os << " devo " << (d.address.empty() ? "region " + or_unset(d.region) : d.address) << ':' << d.port
       << (d.tls ? " tls" : " tcp");
    if (!d.cert_file.empty()) os << " cert " << d.cert_file;
  }
  if (c.outputs.devo_http) {
    const auto& d = *c.outputs.devo_http;
    os << " devo_http " << (d.endpoint.empty() ? "region " + or_unset(d.region) : d.endpoint) << " domain "
       << or_unset(d.domain) << " (token " << (d.token.empty() ? "missing" : "redacted") << ")";
  }
  os << '\n';
  os << "  concurrency: messages " << c.concurrency.messages_in_flight << ", objects ";
  if (c.concurrency.adaptive_objects_in_flight)
    os << "auto (from " << c.concurrency.objects_in_flight << ", at most " << c.concurrency.max_objects_in_flight << ")";
  else
    os << c.concurrency.objects_in_flight;
  os << ", receives " << c.concurrency.receives_in_flight << ", decode threads "
     << (c.concurrency.decode_threads ? std::to_string(c.concurrency.decode_threads) : std::string("every core")) << '\n';
  os << "  sqs: wait " << secs(c.sqs.wait_time) << ", max " << c.sqs.max_messages << " messages, visibility "
     << secs(c.sqs.visibility_timeout) << " extended every " << secs(c.sqs.extension_interval()) << '\n';
  os << "  on permanent error: "
     << (c.on_permanent_error.delete_after_receives == 0
             ? std::string("leave for the dead-letter queue")
             : "delete after " + std::to_string(c.on_permanent_error.delete_after_receives) + " receives")
     << '\n';
  os << "  on sink failure: "
     << (c.on_sink_failure.give_up_after_flushes == 0
             ? std::string("keep trying")
             : "give up after " + std::to_string(c.on_sink_failure.give_up_after_flushes) +
                   " failed flushes in a row over at least " + secs(c.on_sink_failure.give_up_after))
     << '\n';
  os << "  drain: stop after " << c.drain.empty_polls << " empty polls; run: shutdown grace "
     << secs(c.run.shutdown_grace) << '\n';
  os << "  heartbeat: "
     << (c.heartbeat.enabled ? "every " + secs(c.heartbeat.interval) + " tag " + c.heartbeat.tag : std::string("off"))
     << "; metrics: " << (c.metrics.listen ? *c.metrics.listen : std::string("off")) << '\n';
  os << "  integrity: verify_digests " << (c.integrity.verify_digests ? "on" : "off") << ", heal "
     << (c.integrity.heal ? "on (grace " + secs(c.integrity.heal_grace) + ")" : std::string("off")) << '\n';
  const auto& e = c.aws;
  os << "  endpoints: sqs " << or_unset(e.sqs_endpoint, "(default)") << ", s3 " << or_unset(e.s3_endpoint, "(default)")
     << ", sts " << or_unset(e.sts_endpoint, "(default)") << "; fips=" << yn(e.use_fips)
     << " dualstack=" << yn(e.use_dualstack) << " path_style=" << yn(e.s3_force_path_style)
     << " verify_tls=" << yn(e.verify_tls) << (e.ca_bundle.empty() ? "" : " ca_bundle " + e.ca_bundle)
     << "; timeouts connect " << msecs(e.connect_timeout) << " read " << msecs(e.read_timeout)
     << ", attempts " << (e.max_attempts == 0 ? std::string("AWS_MAX_ATTEMPTS / profile / 3") : std::to_string(e.max_attempts))
     << '\n';
  const auto dec = apply(c.decoder);
  os << "  decoder: max object " << dec.max_object_bytes << " bytes"
     << (c.decoder.max_object_bytes ? "" : " (default)") << ", max record " << dec.max_record_bytes
     << " bytes" << (c.decoder.max_record_bytes ? "" : " (default)") << '\n';
  const auto kept = c.ledger_retention.count();
  os << "  ledger: "
     << (c.ledger ? *c.ledger + " (records kept " +
                        (kept % 86400 == 0 ? std::to_string(kept / 86400) + " days)" : std::to_string(kept) + " s)")
                  : std::string("off"))
     << '\n';
  return os.str();
}


}  // namespace ctsqs
