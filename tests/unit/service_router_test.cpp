// Unit tests of ServiceRouter: several services in one collector, each object or inline event
// claimed by key, EventBridge source or content; unclaimed payloads fail, naming what and the rules.
#include "ctsqs/decode/service_router.hpp"
#include "../../lib/detail/decompressed_head.hpp"

#include "catch.hpp"
#include "gzip_helper.hpp"

using namespace ctsqs;
using ctsqs::test::gzip;

namespace {

/// A second service for the router to choose: one JSON finding per line, recognised by a
/// leading `{"schemaVersion"`, tagged `findings`.
class FindingsHandler final : public ServiceHandler {
 public:
  std::string_view name() const override { return "test_findings"; }
  std::vector<std::string> aliases() const override { return {}; }
  std::string_view description() const override { return "findings, one per line"; }
  std::string_view default_routing_template() const override { return "test.findings"; }
  result<ServiceSettings> parse_options(ServiceOptions&, Diagnostics&) const override { return ServiceSettings{}; }
  result<void> check(const ServiceSettings&, std::string_view, Diagnostics&) const override { return {}; }
  ClaimRule default_claim_rule() const override {
    ClaimRule r;
    r.key_contains = {"/GuardDuty/"};
    r.event_sources = {"aws.guardduty"};
    return r;
  }
  bool recognizes(std::string_view head) const override { return head.starts_with(R"({"schemaVersion")"); }

  class Lines final : public PayloadDecoder {
   public:
    result<void> feed(std::string_view chunk, std::vector<Event>&, Diagnostics&) override {
      text_ += chunk;
      return {};
    }
    result<void> finish(std::vector<Event>& out, Diagnostics&) override {
      std::size_t start = 0;
      for (auto nl = text_.find('\n'); nl != std::string::npos; start = nl + 1, nl = text_.find('\n', start))
        out.push_back(Event{"test.findings", text_.substr(start, nl - start), "", "", "", "", ""});
      return {};
    }

   private:
    std::string text_;
  };
  result<std::unique_ptr<PayloadDecoder>> make_payload_decoder(const ServiceSettings&, const DecoderOptions&,
                                                               Diagnostics&) const override {
    return std::unique_ptr<PayloadDecoder>(std::make_unique<Lines>());
  }
};

ConfiguredService cloudtrail() {
  auto h = ServiceHandlerRegistry::builtin().find("aws_sqs_cloudtrail");
  ServiceSettings s;
  s.name = s.configured_name = "aws_sqs_cloudtrail";
  s.routing_template = std::string(h->default_routing_template());
  s.claim = h->default_claim_rule();
  return {h, s};
}

ConfiguredService findings() {
  auto h = std::make_shared<const FindingsHandler>();
  ServiceSettings s;
  s.name = s.configured_name = "test_findings";
  s.routing_template = "test.findings";
  s.claim = h->default_claim_rule();
  return {h, s};
}

const std::string kTrail =
    R"({"Records":[{"eventVersion":"1.08","eventSource":"s3.amazonaws.com","eventName":"GetObject","eventID":"e1"},)"
    R"({"eventVersion":"1.08","eventSource":"iam.amazonaws.com","eventName":"CreateUser","eventID":"e2"}]})";
const std::string kFindings = "{\"schemaVersion\":\"2.0\",\"id\":\"f1\"}\n{\"schemaVersion\":\"2.0\",\"id\":\"f2\"}\n";

struct Decoded {
  result<void> r;
  std::vector<Event> events;
  Diagnostics diag;
};

/// Feeds `bytes` in chunks of `chunk` (so content recognition sees them arrive piece by piece).
Decoded decode(ServiceRouter& router, const ObjectRef& obj, std::string_view source, std::string_view bytes,
               std::size_t chunk = 7) {
  Decoded d;
  auto dec = router.make_factory()(obj, source);
  for (std::size_t i = 0; i < bytes.size() && d.r; i += chunk) d.r = dec->feed(bytes.substr(i, chunk), d.events, d.diag);
  if (d.r) d.r = dec->finish(d.events, d.diag);
  return d;
}

ObjectRef object(std::string key) {
  ObjectRef o;
  o.bucket = "bucket";
  o.key = std::move(key);
  return o;
}

// A router of `services` that must be valid.
std::shared_ptr<ServiceRouter> make_router(std::vector<ConfiguredService> services) {
  Diagnostics diag;
  auto r = ServiceRouter::create(std::move(services), {}, diag);
  INFO(diag.message);
  REQUIRE(r.has_value());
  return *r;
}

}  // namespace

TEST_CASE("router: create refuses no services, a service without handler and unusable settings", "[service_router]") {
  Diagnostics diag;
  auto none = ServiceRouter::create({}, {}, diag);
  REQUIRE_FALSE(none.has_value());
  CHECK(none.error() == client_errc::invalid_argument);
  CHECK(diag.message == "no service configured");
  auto orphan = findings();
  orphan.handler = nullptr;
  orphan.settings.configured_name = "orphan";
  CHECK_FALSE(ServiceRouter::create({cloudtrail(), orphan}, {}, diag).has_value());
  CHECK(diag.message == "service orphan has no handler");
  auto bad = cloudtrail();
  bad.settings.routing_template = "cloud.aws.{bucket}";
  CHECK_FALSE(ServiceRouter::create({bad}, {}, diag).has_value());
  CHECK(diag.message.find("routing_template") != std::string::npos);
}

TEST_CASE("router: objects go to the service whose key rule claims them", "[service_router]") {
  auto router = make_router({cloudtrail(), findings()});
  CHECK(router->claim_key("AWSLogs/123456789012/CloudTrail/eu-west-1/2026/12/01/x.json.gz") == 0u);
  CHECK(router->claim_key("AWSLogs/123456789012/CloudTrail-Insight/eu-west-1/2026/12/01/x.json.gz") == 0u);
  CHECK(router->claim_key("AWSLogs/123456789012/GuardDuty/eu-west-1/2026/12/01/u.jsonl.gz") == 1u);
  CHECK_FALSE(router->claim_key("firehose/2026/12/01/stream-1").has_value());
  CHECK(router->claim_source("aws.cloudtrail") == 0u);
  CHECK(router->claim_source("aws.guardduty") == 1u);
  CHECK_FALSE(router->claim_source("aws.s3").has_value());

  auto ct = decode(*router, object("AWSLogs/1/CloudTrail/r/2026/12/01/a.json.gz"), "", gzip(kTrail));
  REQUIRE(ct.r.has_value());
  REQUIRE(ct.events.size() == 2);
  CHECK(ct.events[0].tag == "cloud.aws.cloudtrail.s3");
  auto gd = decode(*router, object("AWSLogs/1/GuardDuty/r/2026/12/01/u.jsonl.gz"), "", kFindings);
  REQUIRE(gd.r.has_value());
  CHECK(gd.events.size() == 2);
  const auto counts = router->counts();
  CHECK(counts[0].service == "aws_sqs_cloudtrail");
  CHECK((counts[0].objects == 1 && counts[0].events == 2));
  CHECK((counts[1].objects == 1 && counts[1].events == 2));
}

TEST_CASE("router: a key no rule takes is claimed by its content, plain or gzip, in any chunking", "[service_router]") {
  auto router = make_router({cloudtrail(), findings()});
  for (std::size_t chunk : {1, 3, 100, 100000}) {
    INFO("chunk " << chunk);
    // (the test's findings decoder reads plain text; CloudTrail's gunzips)
    auto plain = decode(*router, object("firehose/a"), "", kFindings, chunk);
    REQUIRE(plain.r.has_value());
    REQUIRE(plain.events.size() == 2);
    CHECK(plain.events[0].record == R"({"schemaVersion":"2.0","id":"f1"})");
    auto ct = decode(*router, object("firehose/b"), "", gzip(kTrail), chunk);
    REQUIRE(ct.r.has_value());
    CHECK(ct.events.size() == 2);
    auto ct_plain = decode(*router, object("firehose/c"), "", kTrail, chunk);
    REQUIRE(ct_plain.r.has_value());
    CHECK(ct_plain.events.size() == 2);
  }
}

TEST_CASE("router: what no service claims fails, naming the object or source and the rules", "[service_router]") {
  auto router = make_router({cloudtrail(), findings()});
  auto d = decode(*router, object("firehose/c"), "", gzip(R"({"messageType":"DATA_MESSAGE"})"));
  // (gzip: the head that decides is the decompressed one)
  REQUIRE_FALSE(d.r.has_value());
  CHECK(d.events.empty());
  CHECK(d.diag.message ==
        "no service claims object firehose/c by its key or content (aws_sqs_cloudtrail: key contains /CloudTrail/ "
        "or /CloudTrail-Insight/ or /CloudTrail-Digest/; EventBridge source aws.cloudtrail; else content; "
        "test_findings: key contains /GuardDuty/; EventBridge source aws.guardduty; else content)");
  // A decode error: permanent for its message, as a corrupt object is.
  CHECK(d.r.error() == decode_errc::unclaimed);
  auto inline_events = decode(*router, ObjectRef{}, "aws.securityhub", R"({"Records":[{}]})");
  REQUIRE_FALSE(inline_events.r.has_value());
  CHECK(inline_events.diag.message.starts_with(
      "no service claims events from EventBridge source \"aws.securityhub\" (aws_sqs_cloudtrail:"));
  // Content recognition turned off: the key must match.
  auto no_content = findings();
  no_content.settings.claim.by_content = false;
  auto strict = make_router({cloudtrail(), no_content});
  CHECK_FALSE(decode(*strict, object("firehose/d"), "", kFindings).r.has_value());
  CHECK(strict->counts()[1].objects == 0);
}

TEST_CASE("router: a single service takes everything, whatever its rule", "[service_router]") {
  auto router = make_router({cloudtrail()});
  auto d = decode(*router, object("any/key/without/the/layout.json"), "", kTrail);
  REQUIRE(d.r.has_value());
  CHECK(d.events.size() == 2);
  auto inl = decode(*router, ObjectRef{}, "aws.cloudtrail", kTrail);
  REQUIRE(inl.r.has_value());
  CHECK(inl.events.size() == 2);
}

TEST_CASE("decompressed_head inflates the start of a gzip object, passes other bytes through", "[service_router]") {
  std::string text;  // hardly compressible, so that a prefix of the gzip holds a prefix of the text
  for (std::uint32_t x = 1; text.size() < 10000;) text += static_cast<char>('a' + (x = x * 1103515245u + 12345u) % 26);
  const auto gz = gzip(text);
  CHECK(decompressed_head(gz, 4096) == text.substr(0, 4096));
  const auto part = decompressed_head(gz.substr(0, 200), 4096);  // only what those bytes hold
  CHECK(part.size() < 4096);
  CHECK(text.starts_with(part));
  CHECK(decompressed_head("plain text", 5) == "plain");
  CHECK(decompressed_head(std::string("\x1f\x8b\x00garbage", 10), 100).empty());
}
