// Backfill::create checks the run against the collector file before anything is listed: the
// allow-lists (a bucket or account they would refuse object by object; allowed_accounts as the
// default filter) and --services (GuardDuty has no AWS service; "S3" and "s3.amazonaws.com"
// mean "s3"). Issue 17, item 14. Nothing here touches the network: create() only builds.
#include "ctsqs/backfill/backfill.hpp"

#include "catch.hpp"
#include "catch_result.hpp"
#include "ctsqs/collector/config.hpp"

#include <boost/asio/io_context.hpp>

using namespace ctsqs;

namespace {

CollectorConfig config(const std::string& services, const std::string& ctsqs_extra) {
  const std::string text = R"({"inputs": {"sqs_collector": {"id": "1",
      "credentials": {"aws_access_key_id": "test", "aws_secret_access_key": "test"},
      "region": "us-east-1", "services": {)" + services + R"(}}},
    "ctsqs": {"outputs": {"stdout": {"format": "flat"}}, "heartbeat": {"enabled": false},
              "endpoints": {"s3": "http://127.0.0.1:1", "s3_force_path_style": true})" + ctsqs_extra + "}}";
  Diagnostics d;
  ConfigParseOptions po;
  po.validate = false;
  auto c = parse_collector_config(text, "file.json", d, po);
  INFO(d.message);
  REQUIRE(c);
  return *c;
}

BackfillOptions options() {
  BackfillOptions o;
  o.range.bucket = "trail";
  Diagnostics d;
  o.range.since = *parse_backfill_time("2026-09-01", "s", d);
  o.range.until = *parse_backfill_time("2026-09-02", "u", d);
  o.assembly.log = [](std::string_view) {};
  return o;
}

}  // namespace

TEST_CASE("backfill create: the run is checked against the collector file", "[backfill]") {
  boost::asio::io_context ioc;
  const std::string ct = R"("aws_sqs_cloudtrail": {})";
  SECTION("a bucket outside allowed_buckets") {
    Diagnostics d;
    auto b = Backfill::create(config(ct, R"(, "allowed_buckets": ["other"])"), ioc.get_executor(), options(), d);
    CHECK_FALSE(b);
    CHECK(d.message.find("--bucket trail is not in ctsqs.allowed_buckets of file.json (other)") != std::string::npos);
  }
  SECTION("an account outside allowed_accounts") {
    auto o = options();
    o.range.accounts = {"111122223333", "999988887777"};
    Diagnostics d;
    auto b = Backfill::create(config(ct, R"(, "allowed_accounts": ["111122223333"])"), ioc.get_executor(), o, d);
    CHECK_FALSE(b);
    CHECK(d.message.find("account 999988887777 is not in ctsqs.allowed_accounts") != std::string::npos);
  }
  SECTION("allowed_accounts are the default filter") {
    Diagnostics d;
    auto b = Backfill::create(config(ct, R"(, "allowed_accounts": ["111122223333"])"), ioc.get_executor(), options(), d);
    INFO(d.message);
    REQUIRE(b);
    CHECK((*b)->range().accounts == std::vector<std::string>{"111122223333"});
  }
  SECTION("--services with a GuardDuty service") {
    auto o = options();
    o.aws_services = {"s3"};
    Diagnostics d;
    auto b = Backfill::create(config(ct + R"(, "aws_sqs_guard_duty": {})", ""), ioc.get_executor(), o, d);
    CHECK_FALSE(b);
    CHECK(d.message.find("aws_sqs_guard_duty") != std::string::npos);
    CHECK(d.message.find("--services") != std::string::npos);
  }
  SECTION("--services in another case or with the .amazonaws.com suffix") {
    auto o = options();
    o.aws_services = {"S3", "iam.amazonaws.com", "EC2"};
    Diagnostics d;
    auto b = Backfill::create(config(ct, ""), ioc.get_executor(), o, d);
    INFO(d.message);
    REQUIRE(b);
    CHECK((*b)->config().services.at(0).aws_services == std::vector<std::string>{"s3", "iam", "ec2"});
  }
}
