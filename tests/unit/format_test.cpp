// Unit tests for the output line formats (flat, raw, devo).
#include "ctsqs/sink/format.hpp"

#include "catch.hpp"

#include <chrono>

using namespace ctsqs;

namespace {
Event sample() {
  Event e;
  e.tag = "cloud.aws.cloudtrail.s3";
  e.record = R"({"eventSource":"s3.amazonaws.com","a":{"b":1}})";
  e.columns = R"("eventSource":"s3.amazonaws.com","a_b":1)";
  return e;
}
}  // namespace

TEST_CASE("parse_output_format accepts the three names only", "[format]") {
  CHECK(parse_output_format("flat") == OutputFormat::flat);
  CHECK(parse_output_format("raw") == OutputFormat::raw);
  CHECK(parse_output_format("devo") == OutputFormat::devo);
  CHECK_FALSE(parse_output_format("FLAT"));
  CHECK_FALSE(parse_output_format(""));
  CHECK_FALSE(parse_output_format("json"));
  for (auto f : {OutputFormat::flat, OutputFormat::raw, OutputFormat::devo})
    CHECK(parse_output_format(to_string(f)) == f);
}

TEST_CASE("flat line is the tag plus the columns", "[format]") {
  std::string out = "x";
  append_line(out, sample(), OutputFormat::flat, {});
  CHECK(out == "x{\"tag\":\"cloud.aws.cloudtrail.s3\",\"eventSource\":\"s3.amazonaws.com\",\"a_b\":1}\n");
  Event empty;
  empty.tag = "t\"q";
  out.clear();
  append_line(out, empty, OutputFormat::flat, {});
  CHECK(out == "{\"tag\":\"t\\\"q\"}\n");
}

TEST_CASE("raw line wraps the record", "[format]") {
  std::string out;
  append_line(out, sample(), OutputFormat::raw, {});
  CHECK(out == "{\"tag\":\"cloud.aws.cloudtrail.s3\",\"event\":{\"eventSource\":\"s3.amazonaws.com\",\"a\":{\"b\":1}}}\n");
}

TEST_CASE("devo line is the syslog line Devo's sender writes, in UTC", "[format]") {
  using namespace std::chrono;
  LineOptions o;
  o.hostname = "collector-1";
  // 2024-03-05T07:08:09Z
  o.time = sys_days{year{2024} / 3 / 5} + hours{7} + minutes{8} + seconds{9} + milliseconds{999};
  std::string out;
  append_line(out, sample(), OutputFormat::devo, o);
  CHECK(out == "<14>Mar 05 07:08:09 collector-1 cloud.aws.cloudtrail.s3: "
               "{\"eventSource\":\"s3.amazonaws.com\",\"a\":{\"b\":1}}\n");
  o.priority = 134;
  o.time = sys_days{year{1999} / 12 / 31} + hours{23} + minutes{59} + seconds{59};
  out.clear();
  append_line(out, sample(), OutputFormat::devo, o);
  CHECK(out.rfind("<134>Dec 31 23:59:59 collector-1 ", 0) == 0);
}
