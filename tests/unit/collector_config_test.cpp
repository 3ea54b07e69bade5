// Unit tests of the collector file: Devo's template verbatim, the ctsqs section, validation
// messages, warnings, redaction, and table-driven good/bad files from tests/data/config.
#include "ctsqs/collector/config.hpp"

#include "catch.hpp"
#include "test_paths.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

using namespace ctsqs;
using namespace std::chrono_literals;

namespace {

// Devo's Cloud Collector parameters template exactly as the issue gives it.
constexpr std::string_view devo_template =
    R"({"inputs":{"sqs_collector":{"id":"12345","services":{"aws_sqs_cloudtrail":{}},"credentials":{"aws_cross_account_role":"arn:aws:iam::123456789012:role/R","aws_external_id":"X"},"region":"us-east-1","base_url":"https://sqs.us-east-1.amazonaws.com/123456789012/q"}}})";

CollectorConfig parse_ok(std::string_view json) {
  Diagnostics d;
  auto r = parse_collector_config(json, "test.json", d);
  INFO(d.message);
  REQUIRE(r.has_value());
  return std::move(*r);
}

std::string parse_error(std::string_view json) {
  Diagnostics d;
  auto r = parse_collector_config(json, "test.json", d);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error() == make_error_code(client_errc::invalid_argument));
  return d.message;
}

/// The template with `inner` spliced into inputs.sqs_collector (replacing nothing).
std::string with_collector(std::string_view extra, std::string_view after_root = "") {
  std::string s = R"({"inputs":{"sqs_collector":{"id":"12345","services":{"aws_sqs_cloudtrail":{}},)"
                  R"("region":"us-east-1","base_url":"https://sqs.us-east-1.amazonaws.com/123456789012/q")";
  if (!extra.empty()) s += std::string(",") + std::string(extra);
  s += "}}";
  if (!after_root.empty()) s += std::string(",") + std::string(after_root);
  s += "}";
  return s;
}

std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace

TEST_CASE("the Devo template works as it is", "[config]") {
  auto c = parse_ok(devo_template);
  CHECK(c.id == "12345");
  CHECK(c.enabled);
  CHECK(c.queue_url == "https://sqs.us-east-1.amazonaws.com/123456789012/q");
  CHECK(c.aws.region == "us-east-1");
  CHECK(c.credentials.cross_account_role == "arn:aws:iam::123456789012:role/R");
  CHECK(c.credentials.external_id == "X");
  CHECK(c.credentials.access_key_id.empty());
  REQUIRE(c.services.size() == 1);
  CHECK(c.services[0].name == "aws_sqs_cloudtrail");
  CHECK(c.services[0].routing_template == "cloud.aws.cloudtrail.{service}");
  CHECK(c.services[0].aws_services.empty());
  CHECK(c.warnings.empty());
  // ctsqs defaults when the ctsqs section is absent
  CHECK(c.outputs.empty());
  CHECK(c.sqs.wait_time == 20s);
  CHECK(c.sqs.max_messages == 10);
  CHECK(c.on_permanent_error.delete_after_receives == 0);  // "leave"
  CHECK(c.concurrency.messages_in_flight == 128);
  CHECK(c.ack_messages);
  CHECK(c.source_name == "test.json");
}

TEST_CASE("the template's fuller form: enabled, keys, base role, ack_messages, per-service options",
          "[config]") {
  auto c = parse_ok(R"({
    "global_overrides": {"debug": true},
    "inputs": {"sqs_collector": {
      "id": 12351, "enabled": false,
      "credentials": {"aws_access_key_id": "AKIAIOSFODNN7EXAMPLE",
                      "aws_secret_access_key": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
                      "aws_base_account_role": "arn:aws:iam::837131528613:role/devo-xaccount-cs-role",
                      "aws_cross_account_role": "arn:aws-us-gov:iam::123456789012:role/path/to/Devo",
                      "aws_external_id": "ABCDEFGHIJKL0123"},
      "ack_messages": false, "direct_mode": false, "do_not_send": true, "compressed_events": false,
      "sqs_visibility_timeout": 300, "sqs_wait_timeout": 10, "sqs_max_messages": 5,
      "base_url": "https://us-west-1.queue.amazonaws.com/123456789012/name-of-queue",
      "services": {"cloudtrail": {"routing_template": "my.app.aws.{service}",
                                  "aws_services": ["S3", "iam.amazonaws.com"],
                                  "ack_messages": true}}
    }}})");
  CHECK(c.id == "12351");
  CHECK_FALSE(c.enabled);
  CHECK(c.debug);
  CHECK(c.credentials.access_key_id == "AKIAIOSFODNN7EXAMPLE");
  CHECK(c.credentials.base_account_role == "arn:aws:iam::837131528613:role/devo-xaccount-cs-role");
  CHECK_FALSE(c.ack_messages);
  CHECK(c.do_not_send);
  CHECK(c.aws.region == "us-west-1");  // derived from the legacy queue URL
  CHECK(c.sqs.visibility_timeout == 300s);
  CHECK(c.sqs.wait_time == 10s);
  CHECK(c.sqs.max_messages == 5);
  REQUIRE(c.services.size() == 1);
  CHECK(c.services[0].name == "aws_sqs_cloudtrail");
  CHECK(c.services[0].configured_name == "cloudtrail");
  CHECK(c.services[0].routing_template == "my.app.aws.{service}");
  CHECK(c.services[0].aws_services == std::vector<std::string>{"s3", "iam"});
  CHECK(c.services[0].ack_messages == true);
}

TEST_CASE("visibility extension follows the visibility timeout unless set", "[config]") {
  auto c = parse_ok(with_collector(R"("sqs_visibility_timeout": 30)"));
  CHECK(c.sqs.visibility_timeout == 30s);
  CHECK(c.sqs.extension_interval() == 10s);
  c = parse_ok(with_collector("", R"("ctsqs":{"sqs":{"visibility_timeout":"1h"}})"));
  CHECK(c.sqs.extension_interval() == 1200s);
  c = parse_ok(with_collector("", R"("ctsqs":{"sqs":{"visibility_timeout":2}})"));
  CHECK(c.sqs.extension_interval() == 1s);
  c = parse_ok(with_collector("", R"("ctsqs":{"sqs":{"visibility_timeout":300,"visibility_extension_interval":"4m"}})"));
  CHECK(c.sqs.extension_interval() == 240s);
}

TEST_CASE("a UTF-8 byte order mark is accepted", "[config]") {
  auto c = parse_ok(std::string("\xEF\xBB\xBF") + std::string(devo_template));
  CHECK(c.id == "12345");
}

TEST_CASE("a duplicated key: the last one counts", "[config]") {
  auto c = parse_ok(R"({"inputs":{"sqs_collector":{"id":"<ID>","id":"777","services":{"aws_sqs_cloudtrail":{}},)"
                    R"("base_url":"https://sqs.us-east-1.amazonaws.com/123456789012/q"}}})");
  CHECK(c.id == "777");
}

TEST_CASE("the ctsqs section sets every group", "[config]") {
  auto c = parse_ok(with_collector("", R"("ctsqs": {
      "outputs": {"stdout": {"format": "raw"}, "directory": {"path": "out", "format": "devo"},
                  "devo": {"address": "relay.example", "port": 13000, "tls": false,
                           "hostname": "ctsqs-1", "connect_timeout": "2s", "batch_bytes": "16KiB",
                           "flush_timeout": "2m", "backoff_initial": "100ms", "backoff_max": "10s",
                           "accept_wait": 0, "server_name": "collector", "verify_server": false}},
      "concurrency": {"messages_in_flight": 64, "objects_in_flight": 16, "receives_in_flight": 4},
      "sqs": {"wait_time": "15s", "max_messages": 7, "visibility_timeout": "10m",
              "visibility_extension_interval": 120},
      "on_permanent_error": {"delete_after_receives": 5},
      "drain": {"empty_polls": 3},
      "run": {"shutdown_grace": "1m"},
      "heartbeat": {"enabled": true, "interval": "30s", "tag": "my.app.ctsqs.beat"},
      "metrics": {"listen": "127.0.0.1:9464"},
      "endpoints": {"sqs": "http://127.0.0.1:4566", "s3": "http://127.0.0.1:4568", "sts": "https://sts.example:8443",
                    "ca_bundle": "/etc/ca.pem", "use_fips": true, "use_dualstack": true,
                    "s3_force_path_style": true, "verify_tls": false,
                    "connect_timeout": "1500ms", "read_timeout": 45, "max_attempts": 5},
      "credentials": {"session_name": "my-session", "session_duration": "2h", "profile": "prod"},
      "decoder": {"max_object_bytes": "2GiB", "max_record_bytes": 1048576}
    })"));
  REQUIRE(c.outputs.standard_output);
  CHECK(c.outputs.standard_output->format == OutputFormat::raw);
  REQUIRE(c.outputs.directory);
  CHECK(c.outputs.directory->path == "out");
  CHECK(c.outputs.directory->format == OutputFormat::devo);
  REQUIRE(c.outputs.devo);
  CHECK(c.outputs.devo->address == "relay.example");
  CHECK(c.outputs.devo->port == 13000);
  CHECK_FALSE(c.outputs.devo->tls);
  CHECK(c.outputs.devo->hostname == "ctsqs-1");
  CHECK(c.outputs.devo->connect_timeout == 2000ms);
  CHECK(c.outputs.devo->batch_bytes == 16384u);
  CHECK(c.outputs.devo->flush_timeout == 120s);
  CHECK(c.outputs.devo->backoff_initial == 100ms);
  CHECK(c.outputs.devo->backoff_max == 10s);
  CHECK(c.outputs.devo->accept_wait == 0ms);
  CHECK(c.outputs.devo->server_name == "collector");
  CHECK_FALSE(c.outputs.devo->verify_server);
  CHECK(c.concurrency.messages_in_flight == 64);
  CHECK(c.concurrency.objects_in_flight == 16);
  CHECK(c.concurrency.receives_in_flight == 4);
  CHECK(c.sqs.wait_time == 15s);
  CHECK(c.sqs.max_messages == 7);
  CHECK(c.sqs.visibility_timeout == 600s);
  CHECK(c.sqs.extension_interval() == 120s);
  CHECK(c.on_permanent_error.delete_after_receives == 5);
  CHECK(c.drain.empty_polls == 3);
  CHECK(c.run.shutdown_grace == 60s);
  CHECK(c.heartbeat.interval == 30s);
  CHECK(c.heartbeat.tag == "my.app.ctsqs.beat");
  CHECK(c.metrics.listen == "127.0.0.1:9464");
  CHECK(c.aws.sqs_endpoint == "http://127.0.0.1:4566");
  CHECK(c.aws.s3_endpoint == "http://127.0.0.1:4568");
  CHECK(c.aws.sts_endpoint == "https://sts.example:8443");
  CHECK(c.aws.ca_bundle == "/etc/ca.pem");
  CHECK(c.aws.use_fips);
  CHECK(c.aws.use_dualstack);
  CHECK(c.aws.s3_force_path_style);
  CHECK_FALSE(c.aws.verify_tls);
  CHECK(c.aws.connect_timeout == 1500ms);
  CHECK(c.aws.read_timeout == 45s);
  CHECK(c.aws.max_attempts == 5);
  CHECK(c.credentials.session_name == "my-session");
  CHECK(c.credentials.session_duration == 7200s);
  CHECK(c.credentials.profile == "prod");
  CHECK(c.decoder.max_object_bytes == (2ull << 30));
  CHECK(c.decoder.max_record_bytes == 1048576u);
  CHECK(c.warnings.empty());
}

TEST_CASE("unknown keys warn with their JSON path", "[config]") {
  auto c = parse_ok(with_collector(R"("debug_md5": true, "colour": "blue")",
                                   R"("extra": 1, "ctsqs": {"sqs": {"wait": 5}})"));
  auto has = [&](std::string_view path) {
    return std::any_of(c.warnings.begin(), c.warnings.end(),
                       [&](const ConfigWarning& w) { return w.path == path; });
  };
  CHECK(has("inputs.sqs_collector.debug_md5"));
  CHECK(has("inputs.sqs_collector.colour"));
  CHECK(has("extra"));
  CHECK(has("ctsqs.sqs.wait"));
  CHECK(c.warnings.size() == 4);
}

TEST_CASE("a misspelt key is suggested, also next to the error it causes", "[config]") {
  auto c = parse_ok(with_collector(R"("ack_mesages": false, "Region": "us-east-1")"));
  REQUIRE(c.warnings.size() == 2);
  CHECK(c.warnings[0].message == "unknown key, ignored (did you mean \"ack_messages\"?)");
  CHECK(c.warnings[1].message == "unknown key, ignored (did you mean \"region\"?)");
  auto m = parse_error(R"({"inputs":{"sqs_collector":{"id":"1","services":{"aws_sqs_cloudtrail":{}},)"
                       R"("base_ulr":"https://sqs.us-east-1.amazonaws.com/123456789012/q"}}})");
  CHECK(m.find("test.json: inputs.sqs_collector.base_url: missing") == 0);
  CHECK(m.find("\ntest.json: warning: inputs.sqs_collector.base_ulr: unknown key, ignored (did you mean \"base_url\"?)") !=
        std::string::npos);
  // Far from every known key: no suggestion.
  c = parse_ok(with_collector(R"("colour": 1)"));
  CHECK(c.warnings.at(0).message == "unknown key, ignored");
}

TEST_CASE("an unknown service is an error listing the known ones", "[config]") {
  auto m = parse_error(R"({"inputs":{"sqs_collector":{"id":"1","services":{"aws_sqs_guard_dutyy":{}},)"
                       R"("base_url":"https://sqs.us-east-1.amazonaws.com/123456789012/q"}}})");
  CHECK(m.find("test.json: inputs.sqs_collector.services.aws_sqs_guard_dutyy: unknown service") == 0);
  CHECK(m.find("aws_sqs_cloudtrail (alias cloudtrail)") != std::string::npos);
}

TEST_CASE("JSON syntax errors carry line and column", "[config]") {
  auto m = parse_error("{\n  \"inputs\": {\n    \"sqs_collector\": {\"id\": \"1\",, }\n  }\n}\n");
  CHECK(m.find("test.json:3:") == 0);
  CHECK(m.find("invalid JSON") != std::string::npos);
  CHECK(parse_error("").find("test.json:1:1: invalid JSON") == 0);
}

TEST_CASE("validation names the JSON path and what is expected", "[config]") {
  struct Case {
    std::string json;
    std::string expected;  // a substring of the error
  };
  const std::string prefix = R"({"inputs":{"sqs_collector":{"services":{"aws_sqs_cloudtrail":{}},)";
  const std::vector<Case> cases = {
      {prefix + R"("id":"<FIVE_UNIQUE_DIGITS>","base_url":"https://sqs.us-east-1.amazonaws.com/123456789012/q"}}})",
       "inputs.sqs_collector.id: still holds a template placeholder \"<FIVE_UNIQUE_DIGITS>\""},
      {prefix + R"("id":"1","region":"<REGION>","base_url":"https://sqs.<REGION>.amazonaws.com/<YOUR_AWS_ACCOUNT_NUMBER>/<QUEUE_NAME>"}}})",
       "inputs.sqs_collector.base_url: still holds a template placeholder"},
      {prefix + R"("id":"1","base_url":"https://sqs.us-east-1.amazonaws.com/123456789012/q","credentials":{"aws_cross_account_role":"arn:aws:iam::12345:role/R"}}}})",
       "inputs.sqs_collector.credentials.aws_cross_account_role: expected an IAM role ARN"},
      {prefix + R"("id":"1","base_url":"https://sqs.us-east-1.amazonaws.com/123456789012/q","credentials":{"aws_external_id":"abc"}}}})",
       "inputs.sqs_collector.credentials.aws_external_id: an external id needs aws_cross_account_role"},
      {prefix + R"("id":"1","region":"us-east-9x","base_url":"https://sqs.us-east-1.amazonaws.com/123456789012/q"}}})",
       "inputs.sqs_collector.region: expected an AWS region"},
      {prefix + R"("id":"1","region":"eu-west-1","base_url":"https://sqs.us-east-1.amazonaws.com/123456789012/q"}}})",
       "does not match base_url's region \"us-east-1\""},
      {prefix + R"("id":"1","base_url":"sqs.us-east-1.amazonaws.com/123456789012/q"}}})",
       "inputs.sqs_collector.base_url: expected an absolute URL"},
      {prefix + R"("id":"1","base_url":"https://sqs.us-east-1.amazonaws.com/1234/q"}}})",
       "expected a 12-digit AWS account id"},
      {prefix + R"("id":"1","base_url":"http://127.0.0.1:4566/000000000000/q"}}})",
       "inputs.sqs_collector.region: missing: base_url names no AWS region"},
      {prefix + R"("base_url":"https://sqs.us-east-1.amazonaws.com/123456789012/q"}}})",
       "inputs.sqs_collector.id: missing"},
      {prefix + R"("id":"1"}}})", "inputs.sqs_collector.base_url: missing"},
      {R"({"inputs":{"sqs_collector":{"id":"1","base_url":"https://sqs.us-east-1.amazonaws.com/123456789012/q"}}})",
       "inputs.sqs_collector.services: missing: at least one service"},
      {R"({"inputs":{}})", "inputs.sqs_collector: missing"},
      {R"([1])", "(root): expected an object"},
      {prefix + R"("id":"1","enabled":"yes","base_url":"https://sqs.us-east-1.amazonaws.com/123456789012/q"}}})",
       "inputs.sqs_collector.enabled: expected true or false, got a string"},
      {prefix + R"("id":"1","base_url":"https://sqs.us-east-1.amazonaws.com/123456789012/q","credentials":{"aws_access_key_id":"AKIAIOSFODNN7EXAMPLE"}}}})",
       "inputs.sqs_collector.credentials.aws_secret_access_key: missing"},
      {R"({"inputs":{"sqs_collector":{"id":"1","services":{"aws_sqs_cloudtrail":{"routing_template":"cloud.aws.{nope}"}},"base_url":"https://sqs.us-east-1.amazonaws.com/123456789012/q"}}})",
       "inputs.sqs_collector.services.aws_sqs_cloudtrail.routing_template: unknown placeholder {nope}"},
      {R"({"inputs":{"sqs_collector":{"id":"1","services":{"aws_sqs_cloudtrail":{"aws_services":[1]}},"base_url":"https://sqs.us-east-1.amazonaws.com/123456789012/q"}}})",
       "inputs.sqs_collector.services.aws_sqs_cloudtrail.aws_services[0]: expected a string"},
      {R"({"inputs":{"sqs_collector":{"id":"1","services":{"aws_sqs_cloudtrail":[]},"base_url":"https://sqs.us-east-1.amazonaws.com/123456789012/q"}}})",
       "inputs.sqs_collector.services.aws_sqs_cloudtrail: expected an object of service options"},
      {with_collector("", R"("ctsqs":{"sqs":{"wait_time":30}})"), "ctsqs.sqs.wait_time: expected 0 to 20 seconds"},
      {with_collector("", R"("ctsqs":{"sqs":{"max_messages":11}})"), "ctsqs.sqs.max_messages: expected an integer between 1 and 10, got 11"},
      {with_collector("", R"("ctsqs":{"sqs":{"visibility_timeout":60,"visibility_extension_interval":60}})"),
       "ctsqs.sqs.visibility_extension_interval: expected at least 1 s and less than visibility_timeout"},
      {with_collector("", R"("ctsqs":{"sqs":{"wait_time":"soon"}})"), "ctsqs.sqs.wait_time: expected a duration"},
      {with_collector("", R"("ctsqs":{"on_permanent_error":"delete"})"), "ctsqs.on_permanent_error: expected \"leave\""},
      {with_collector("", R"("ctsqs":{"metrics":{"listen":"0.0.0.0:9464"}})"), "ctsqs.metrics.listen: expected a loopback address"},
      {with_collector("", R"("ctsqs":{"outputs":{"stdout":{"format":"csv"}}})"), "ctsqs.outputs.stdout.format: expected \"flat\", \"raw\" or \"devo\""},
      {with_collector("", R"("ctsqs":{"outputs":{"devo":{"region":"eu"}}})"), "ctsqs.outputs.devo.cert: missing"},
      {with_collector("", R"("ctsqs":{"outputs":{"devo":{}}})"), "ctsqs.outputs.devo: missing: set address"},
      {with_collector("", R"("ctsqs":{"outputs":{"devo":{"region":"mars","cert":"c","key":"k"}}})"),
       "ctsqs.outputs.devo.region: expected a Devo region: \"us\", \"eu\", \"ca\" or \"apac\", got \"mars\""},
      {with_collector("", R"("ctsqs":{"outputs":{"devo":{"address":"relay"}}})"),
       "ctsqs.outputs.devo.cert: missing: TLS to Devo needs the domain's client certificate"},
      {with_collector("", R"("ctsqs":{"outputs":{"devo":{"address":"relay","tls":false,"backoff_initial":"5s","backoff_max":"1s"}}})"),
       "ctsqs.outputs.devo: backoff_max must be at least backoff_initial"},
      {with_collector("", R"("ctsqs":{"endpoints":{"sqs":"ftp://x"}})"), "ctsqs.endpoints.sqs: expected an http:// or https:// URL"},
      {with_collector("", R"("ctsqs":{"heartbeat":{"tag":"beat"}})"), "ctsqs.heartbeat.tag: expected a Devo tag of at least two levels"},
      {with_collector("", R"("ctsqs":{"credentials":{"session_duration":60}})"), "ctsqs.credentials.session_duration: expected 900 s to 43200 s"},
  };
  for (const auto& c : cases) {
    INFO(c.json);
    auto m = parse_error(c.json);
    INFO(m);
    CHECK(m.find(c.expected) != std::string::npos);
    CHECK(m.rfind("test.json", 0) == 0);
  }
}

TEST_CASE("validate reports every issue, one per line", "[config]") {
  Diagnostics d;
  ConfigParseOptions o;
  o.validate = false;
  auto r = parse_collector_config(
      R"({"inputs":{"sqs_collector":{"id":"<ID>","services":{"cloudtrail":{}},"region":"<REGION>","base_url":"https://sqs.<REGION>.amazonaws.com/<ACCOUNT>/<QUEUE>"}}})",
      "t.json", d, o);
  REQUIRE(r.has_value());
  auto issues = validation_issues(*r);
  CHECK(issues.size() == 3);
  auto v = validate(*r, d);
  CHECK_FALSE(v.has_value());
  CHECK(std::count(d.message.begin(), d.message.end(), '\n') == 2);
}

TEST_CASE("validate after overrides still shows the warnings", "[config]") {
  Diagnostics d;
  ConfigParseOptions o;
  o.validate = false;
  auto r = parse_collector_config(
      R"({"inputs":{"sqs_collector":{"id":"1","services":{"cloudtrail":{}},"regoin":"eu-west-1","base_url":"http://127.0.0.1:4566/000000000000/q"}}})",
      "t.json", d, o);
  REQUIRE(r.has_value());
  r->sqs.max_messages = 10;  // an override, as the CLI applies them
  REQUIRE_FALSE(validate(*r, d).has_value());
  CHECK(d.message.find("t.json: inputs.sqs_collector.region: missing") == 0);
  CHECK(d.message.find("\nt.json: warning: inputs.sqs_collector.regoin: unknown key, ignored (did you mean \"region\"?)") !=
        std::string::npos);
  r->aws.region = "eu-west-1";
  CHECK(validate(*r, d).has_value());
}

TEST_CASE("describe() redacts secrets", "[config]") {
  auto c = parse_ok(with_collector(
      R"("credentials":{"aws_access_key_id":"AKIAIOSFODNN7EXAMPLE","aws_secret_access_key":"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"})"));
  auto s = describe(c);
  CHECK(s.find("wJalrXUtnFEMI") == std::string::npos);
  CHECK(s.find("AKIAIOSFODNN7EXAMPLE") == std::string::npos);
  CHECK(s.find("AKIA...") != std::string::npos);
  CHECK(s.find("12345") != std::string::npos);
  CHECK(s.find("cloud.aws.cloudtrail.{service}") != std::string::npos);
  // A short (emulator) key id is not shown at all.
  c = parse_ok(with_collector(R"("credentials":{"aws_access_key_id":"test","aws_secret_access_key":"test"})"));
  s = describe(c);
  CHECK(s.find("static key (redacted) (secret redacted)") != std::string::npos);
  CHECK(s.find("decoder: max object 4294967296 bytes (default), max record 16777216 bytes (default)") != std::string::npos);
}

TEST_CASE("a placeholder left in the secret key is reported without echoing it", "[config]") {
  auto m = parse_error(with_collector(
      R"("credentials":{"aws_access_key_id":"AKIAIOSFODNN7EXAMPLE","aws_secret_access_key":"<SECRET-abc123>"})"));
  CHECK(m.find("aws_secret_access_key: still holds a template placeholder") != std::string::npos);
  CHECK(m.find("abc123") == std::string::npos);
}

TEST_CASE("region is derived from every form of base_url", "[config]") {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"https://sqs.eu-west-1.amazonaws.com/123456789012/q", "eu-west-1"},
      {"https://ap-south-1.queue.amazonaws.com/123456789012/q", "ap-south-1"},
      {"https://queue.amazonaws.com/123456789012/q", "us-east-1"},
      {"https://sqs.cn-north-1.amazonaws.com.cn/123456789012/q", "cn-north-1"},
      {"https://sqs-fips.us-gov-west-1.amazonaws.com/123456789012/q", "us-gov-west-1"},
      {"https://vpce-0abc-xyz.sqs.us-east-2.vpce.amazonaws.com/123456789012/q", "us-east-2"},
  };
  for (const auto& [url, region] : cases) {
    INFO(url);
    auto c = parse_ok(R"({"inputs":{"sqs_collector":{"id":"1","services":{"aws_sqs_cloudtrail":{}},"base_url":")" +
                      url + R"("}}})");
    CHECK(c.aws.region == region);
  }
}

TEST_CASE("ARN, region and placeholder checks", "[config]") {
  CHECK(is_valid_role_arn("arn:aws:iam::123456789012:role/R"));
  CHECK(is_valid_role_arn("arn:aws-cn:iam::123456789012:role/service-role/My.Role@x"));
  CHECK(is_valid_role_arn("arn:aws-us-gov:iam::123456789012:role/a/b/c"));
  CHECK_FALSE(is_valid_role_arn("arn:aws:iam::123456789012:user/R"));
  CHECK_FALSE(is_valid_role_arn("arn:aws:iam::12345678901:role/R"));
  CHECK_FALSE(is_valid_role_arn("arn:aws:iam:us-east-1:123456789012:role/R"));
  CHECK_FALSE(is_valid_role_arn("arn:azure:iam::123456789012:role/R"));
  CHECK_FALSE(is_valid_role_arn("arn:aws:iam::123456789012:role/"));
  CHECK_FALSE(is_valid_role_arn("arn:aws:sts::123456789012:role/R"));
  CHECK(is_region_name("us-east-1"));
  CHECK(is_region_name("us-gov-west-1"));
  CHECK(is_region_name("ap-southeast-3"));
  CHECK_FALSE(is_region_name("US-EAST-1"));
  CHECK_FALSE(is_region_name("us-east"));
  CHECK_FALSE(is_region_name("useast1"));
  CHECK_FALSE(is_region_name("virginia"));
  CHECK(is_placeholder("<REGION>"));
  CHECK(is_placeholder("https://sqs.<REGION>.amazonaws.com/x/y"));
  CHECK_FALSE(is_placeholder("a > b"));
  CHECK_FALSE(is_placeholder("plain"));
}

TEST_CASE("good and bad files in tests/data/config", "[config]") {
  namespace fs = std::filesystem;
  const auto dir = ctsqs::test::data_dir() / "config";
  std::size_t good = 0, bad = 0;
  for (const auto& e : fs::directory_iterator(dir / "good")) {
    if (e.path().extension() != ".json") continue;
    INFO(e.path());
    Diagnostics d;
    auto r = load_collector_config(e.path(), d);
    INFO(d.message);
    CHECK(r.has_value());
    ++good;
  }
  // Each bad file has a sibling .expect holding a substring of the error message.
  for (const auto& e : fs::directory_iterator(dir / "bad")) {
    if (e.path().extension() != ".json") continue;
    INFO(e.path());
    auto expect = read_file(fs::path(e.path()).replace_extension(".expect"));
    while (!expect.empty() && (expect.back() == '\n' || expect.back() == '\r')) expect.pop_back();
    REQUIRE_FALSE(expect.empty());
    Diagnostics d;
    auto r = load_collector_config(e.path(), d);
    REQUIRE_FALSE(r.has_value());
    INFO(d.message);
    CHECK(d.message.find(expect) != std::string::npos);
    CHECK(d.message.find(e.path().string()) == 0);
    ++bad;
  }
  CHECK(good >= 5);
  CHECK(bad >= 10);
}

TEST_CASE("the shipped examples parse", "[config]") {
  const std::filesystem::path src = CTSQS_SOURCE_DIR;
  for (auto name : {"collector.json", "collector-local.json"}) {
    Diagnostics d;
    auto r = load_collector_config(src / "examples" / name, d);
    INFO(name << ": " << d.message);
    REQUIRE(r.has_value());
    for (const auto& w : r->warnings) FAIL_CHECK(name << ": unexpected warning " << w.path << ": " << w.message);
  }
}

TEST_CASE("a directory is not a collector file", "[config]") {
  Diagnostics d;
  auto r = load_collector_config(ctsqs::test::data_dir() / "config", d);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error() == make_error_code(client_errc::io_error));
  CHECK(d.message.find("is a directory") != std::string::npos);
}

TEST_CASE("a file over 4 MiB is refused", "[config]") {
  const auto big = std::filesystem::path(CTSQS_BINARY_DIR) / "collector-config-test-big.json";
  {
    std::ofstream out(big, std::ios::binary | std::ios::trunc);
    out << "{\"pad\":\"" << std::string((4u << 20) + 1, 'x') << "\"}";
  }
  Diagnostics d;
  auto r = load_collector_config(big, d);
  std::filesystem::remove(big);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error() == make_error_code(client_errc::limit_exceeded));
  CHECK(d.message.find("larger than 4 MiB") != std::string::npos);
}

TEST_CASE("a missing file is an io_error naming the file", "[config]") {
  Diagnostics d;
  auto r = load_collector_config(ctsqs::test::data_dir() / "config" / "does-not-exist.json", d);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error() == make_error_code(client_errc::io_error));
  CHECK(d.message.find("does-not-exist.json: cannot open") != std::string::npos);
}

TEST_CASE("allow-lists and the tag bound are read from the ctsqs section, accounts checked", "[config]") {
  auto c = parse_ok(with_collector("", R"("ctsqs":{"allowed_buckets":["ct-logs","ct-logs-2"],)"
                                       R"("allowed_accounts":"111122223333, 444455556666",)"
                                       R"("allowed_eventbridge_sources":["aws.s3"],"tags":{"max_distinct":50}})"));
  CHECK(c.allow.buckets == std::vector<std::string>{"ct-logs", "ct-logs-2"});
  CHECK(c.allow.accounts == std::vector<std::string>{"111122223333", "444455556666"});
  CHECK(c.allow.eventbridge_sources == std::vector<std::string>{"aws.s3"});
  CHECK(c.max_distinct_tags == std::size_t{50});
  auto d = parse_ok(devo_template);
  CHECK(d.allow.buckets.empty());
  CHECK(d.allow.accounts.empty());
  CHECK_FALSE(d.max_distinct_tags);
  const auto e = parse_error(with_collector("", R"("ctsqs":{"allowed_accounts":["111122223333","12345"]})"));
  CHECK(e.find("ctsqs.allowed_accounts[1]") != std::string::npos);
  CHECK(e.find("12-digit") != std::string::npos);
}
