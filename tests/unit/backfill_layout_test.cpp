// CloudTrail's key layout under a trail prefix that itself holds an `AWSLogs/` segment: the key
// is read from its end (file, day, month, year, region, kind, account, [org], AWSLogs), so the
// prefix may be anything (issue 17, item 2).
#include "ctsqs/backfill/backfill.hpp"

#include "catch.hpp"
#include "ctsqs/collector/notification.hpp"

using namespace ctsqs;

TEST_CASE("backfill: a trail prefix with an AWSLogs segment", "[backfill]") {
  for (std::string prefix : {"AWSLogs/", "x/AWSLogs/archive/", "AWSLogs/o-abc/", "AWSLogs/111122223333/"}) {
    for (std::string org : {"", "o-zz9/"}) {
      INFO(prefix << " " << org);
      const std::string day = prefix + "AWSLogs/" + org + "222233334444/CloudTrail/eu-west-1/2026/09/01/";
      const std::string key = day + "222233334444_CloudTrail_eu-west-1_20260901T0605Z_abc.json.gz";
      auto k = parse_log_key(key);
      REQUIRE(k);
      CHECK(k->prefix == prefix);
      CHECK(k->org_id == (org.empty() ? "" : "o-zz9"));
      CHECK(k->account == "222233334444");
      CHECK(k->kind == "CloudTrail");
      CHECK(k->region == "eu-west-1");
      CHECK(k->day_prefix == day);
      CHECK(k->file_time);
      CHECK(cloudtrail_key_account(key) == "222233334444");
    }
  }
  // A key with too few segments is still no log; the plain layouts keep working.
  CHECK_FALSE(parse_log_key("AWSLogs/222233334444/CloudTrail/eu-west-1/2026/09/x.json.gz"));
  CHECK_FALSE(parse_log_key("AWSLogs/AWSLogs/CloudTrail/eu-west-1/2026/09/01/x.json.gz"));
  CHECK(parse_log_key("AWSLogs/222233334444/CloudTrail/eu-west-1/2026/09/01/x.json.gz"));
  CHECK(cloudtrail_key_account("AWSLogs/AWSLogs/222233334444/CloudTrail/x.json.gz") == "222233334444");
  CHECK(cloudtrail_key_account("AWSLogs/222233334444/CloudTrail/x.json.gz") == "222233334444");
}
