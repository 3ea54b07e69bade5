// Unit tests of LedgerAudit's report lines and of what create() refuses before any request.
#include "ctsqs/ledger/audit.hpp"

#include "unit/catch_result.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>

#include <filesystem>

using namespace ctsqs;
namespace asio = boost::asio;

TEST_CASE("an audit record is one JSON line in the style of verify's report", "[ledger][audit]") {
  AuditRecord r;
  r.uri = "s3://b/AWSLogs/1/CloudTrail/us-east-1/2026/11/02/f \"x\".json.gz";
  r.digest = "s3://b/AWSLogs/1/CloudTrail-Digest/us-east-1/2026/11/02/d.json.gz";
  const auto line = to_json_line(r);
  CHECK(line.find('\n') == std::string::npos);
  auto v = boost::json::parse(line).as_object();
  CHECK(v.at("type").as_string() == "undelivered");
  CHECK(v.at("uri").as_string() == r.uri);
  CHECK(v.at("digest").as_string() == r.digest);
  CHECK_FALSE(v.contains("reason"));

  r.type = AuditRecord::Type::healed;
  CHECK(boost::json::parse(to_json_line(r)).as_object().at("type").as_string() == "healed");
  r.type = AuditRecord::Type::undelivered;
  r.reason = "read 3 times and given up";
  CHECK(boost::json::parse(to_json_line(r)).as_object().at("reason").as_string() == r.reason);
}

TEST_CASE("an audit needs a ledger, and one that exists", "[ledger][audit]") {
  asio::io_context ioc;
  CollectorConfig cfg;
  AuditOptions o;
  o.verify.bucket = "b";
  o.verify.since = std::chrono::system_clock::now() - std::chrono::hours(2);
  Diagnostics d;
  auto none = LedgerAudit::create(cfg, ioc.get_executor(), o, d);
  REQUIRE_FALSE(none);
  CHECK(d.message.find("ledger") != std::string::npos);

  const auto path = std::filesystem::temp_directory_path() / "ctsqs-audit-test-no-such-ledger.db";
  std::filesystem::remove(path);
  cfg.ledger = path.string();
  Diagnostics d2;
  auto missing = LedgerAudit::create(cfg, ioc.get_executor(), o, d2);
  REQUIRE_FALSE(missing);
  CHECK(d2.message.find(path.string()) != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(path));
}
