// Unit tests for CloudTrailDecoder: splitting, flattening, compression, skips and every error case.
#include "ctsqs/decode/cloudtrail_decoder.hpp"

#include "catch.hpp"
#include "gzip_helper.hpp"

#include <sys/mman.h>
#include <zlib.h>

#include <cstring>
#include <span>

#include <stdexcept>
#include <string>
#include <vector>

namespace {
ctsqs::Diagnostics scratch;  // the detail of calls whose message is not checked
}  // namespace

using namespace ctsqs;
using ctsqs::test::gzip;

namespace {

struct Collected {
  std::vector<Event> events;
  result<ObjectSummary> summary = make_error_code(client_errc::invalid_argument);
  Diagnostics diag;
};

// Streams `data` in chunks of `chunk` bytes (0 = one feed).
Collected decode_once(std::string_view name, std::string_view data, std::size_t chunk,
                      DecoderOptions opt) {
  Collected c;
  CloudTrailDecoder d(opt);
  auto h = [&](Event& e) { c.events.push_back(e); };
  d.begin(name);
  if (chunk == 0) chunk = data.size() + 1;
  for (std::size_t i = 0; i < data.size(); i += chunk) {
    auto r = d.feed(data.substr(i, chunk), h, c.diag);
    if (!r) {
      c.summary = r.error();
      CHECK(d.summary().events == c.events.size());
      return c;
    }
  }
  c.summary = d.finish(h, c.diag);
  return c;
}

// Streams with gzip gathering (the default) and without (pure zlib streaming): both must agree.
Collected decode(std::string_view name, std::string_view data, std::size_t chunk = 0,
                 DecoderOptions opt = {}) {
  Collected gathered = decode_once(name, data, chunk, opt);
  opt.gather_bytes = 0;
  Collected streamed = decode_once(name, data, chunk, opt);
  CHECK(static_cast<bool>(gathered.summary) == static_cast<bool>(streamed.summary));
  if (!gathered.summary && !streamed.summary) {
    CHECK(gathered.summary.error() == streamed.summary.error());
    CHECK(gathered.diag.message == streamed.diag.message);
  }
  REQUIRE(gathered.events.size() == streamed.events.size());
  for (std::size_t i = 0; i < streamed.events.size(); ++i) {
    CHECK(gathered.events[i].record == streamed.events[i].record);
    CHECK(gathered.events[i].columns == streamed.events[i].columns);
  }
  return streamed;
}

Collected decode_whole(std::string_view name, std::string_view data, DecoderOptions opt = {}) {
  Collected c;
  CloudTrailDecoder d(opt);
  c.summary = d.decode_buffer(name, data, [&](Event& e) { c.events.push_back(e); }, c.diag);
  return c;
}

const std::string two_records = R"({"Records":[
 {"eventVersion":"1.08","userIdentity":{"type":"AssumedRole","sessionContext":{"sessionIssuer":{"arn":"arn:aws:iam::1:role/r"}}},
  "eventSource":"s3.amazonaws.com","eventName":"GetObject","awsRegion":"us-east-1","eventType":"AwsApiCall",
  "requestParameters":{"Host":"b.s3.amazonaws.com","bucketName":"b"},"resources":[{"ARN":"arn:aws:s3:::b/k","type":"AWS::S3::Object"}],
  "readOnly":true,"bytes":1.50e3,"count":-7,"big":18446744073709551615,"none":null,"recipientAccountId":"111122223333"},
 {"eventSource":"iam.amazonaws.com","eventType":"AwsApiCall","x":{}, "y":[], "z":[[1,2],{"a":"q\"uote"}],"s":"caf\u00e9 \\ tab\t"}
]})";

}  // namespace

TEST_CASE("plain log: records split, compact record, routing fields", "[decoder]") {
  auto c = decode("k.json", two_records);
  REQUIRE(c.summary);
  CHECK(c.summary->events == 2);
  CHECK(c.summary->compression == Compression::none);
  CHECK(c.summary->skipped == SkipReason::none);
  CHECK(c.summary->uncompressed_bytes == two_records.size());
  REQUIRE(c.events.size() == 2);
  const Event& a = c.events[0];
  CHECK(a.event_source == "s3.amazonaws.com");
  CHECK(a.event_type == "AwsApiCall");
  CHECK(a.aws_region == "us-east-1");
  CHECK(a.recipient_account == "111122223333");
  CHECK(a.tag.empty());
  CHECK(a.record.rfind(R"({"eventVersion":"1.08","userIdentity":{"type":"AssumedRole",)", 0) == 0);
  CHECK(a.record.find(R"("resources":[{"ARN":"arn:aws:s3:::b/k","type":"AWS::S3::Object"}])") != std::string::npos);
  CHECK(a.record.find(R"("bytes":1.50e3,"count":-7,"big":18446744073709551615,"none":null)") != std::string::npos);
  CHECK(c.events[1].event_source == "iam.amazonaws.com");
  CHECK(c.events[1].aws_region.empty());
}

TEST_CASE("flattening: nested objects joined with _, arrays as JSON text, scalars typed", "[decoder]") {
  auto c = decode("k.json", two_records);
  REQUIRE(c.events.size() == 2);
  const std::string& a = c.events[0].columns;
  CHECK(a == R"("eventVersion":"1.08","userIdentity_type":"AssumedRole",)"
             R"("userIdentity_sessionContext_sessionIssuer_arn":"arn:aws:iam::1:role/r",)"
             R"("eventSource":"s3.amazonaws.com","eventName":"GetObject","awsRegion":"us-east-1",)"
             R"("eventType":"AwsApiCall","requestParameters_Host":"b.s3.amazonaws.com",)"
             R"("requestParameters_bucketName":"b",)"
             R"("resources":"[{\"ARN\":\"arn:aws:s3:::b/k\",\"type\":\"AWS::S3::Object\"}]",)"
             R"("readOnly":true,"bytes":1.50e3,"count":-7,"big":18446744073709551615,"none":null,)"
             R"("recipientAccountId":"111122223333")");
  const std::string& b = c.events[1].columns;
  CHECK(b == R"("eventSource":"iam.amazonaws.com","eventType":"AwsApiCall","x":"{}","y":"[]",)"
             R"("z":"[[1,2],{\"a\":\"q\\\"uote\"}]","s":"café \\ tab\t")");
  CHECK(c.events[1].record ==
        R"({"eventSource":"iam.amazonaws.com","eventType":"AwsApiCall","x":{},"y":[],"z":[[1,2],{"a":"q\"uote"}],"s":"café \\ tab\t"})");
}

TEST_CASE("escapes in member names, values and array text survive any chunking, once or twice escaped", "[decoder]") {
  // Strings the parser unescaped are escaped again; inside an array, whose text is one column
  // value, twice. The empty member name adds no `_` to an empty prefix.
  const std::string doc = R"({"Records":[{"eventSource":"s3.amazonaws.com","k\"e\\y":{"n\u0001":"v\"1","":{"e":"\t"}},)"
                          R"("":{"":{"x":1}},"a":["p\"q",{"r\\s":["\\\"",{}],"t":{}},[],"\u00e9\/"],"o":{}}]})";
  const std::string record =
      R"({"eventSource":"s3.amazonaws.com","k\"e\\y":{"n\u0001":"v\"1","":{"e":"\t"}},"":{"":{"x":1}},)"
      R"("a":["p\"q",{"r\\s":["\\\"",{}],"t":{}},[],"é/"],"o":{}})";
  const std::string columns =
      R"("eventSource":"s3.amazonaws.com","k\"e\\y_n\u0001":"v\"1","k\"e\\y__e":"\t","x":1,)"
      R"("a":"[\"p\\\"q\",{\"r\\\\s\":[\"\\\\\\\"\",{}],\"t\":{}},[],\"é/\"]","o":"{}")";
  DecoderOptions cols_only;
  cols_only.build_record = false;
  const std::string gz = gzip(doc);
  for (std::size_t chunk : {0u, 1u, 2u, 3u, 5u, 7u, 13u}) {
    for (const std::string* data : {&doc, &gz}) {
      auto both = decode("k", *data, chunk);
      REQUIRE(both.summary);
      REQUIRE(both.events.size() == 1);
      CHECK(both.events[0].record == record);
      CHECK(both.events[0].columns == columns);
      auto c = decode("k", *data, chunk, cols_only);
      REQUIRE(c.events.size() == 1);
      CHECK(c.events[0].columns == columns);
    }
  }
}

TEST_CASE("only the representations asked for are built", "[decoder]") {
  DecoderOptions rec_only;
  rec_only.build_columns = false;
  auto r = decode("k", two_records, 0, rec_only);
  REQUIRE(r.events.size() == 2);
  CHECK(r.events[0].columns.empty());
  CHECK_FALSE(r.events[0].record.empty());
  DecoderOptions cols_only;
  cols_only.build_record = false;
  auto c = decode("k", two_records, 0, cols_only);
  auto full = decode("k", two_records);
  REQUIRE(c.events.size() == 2);
  CHECK(c.events[0].record.empty());
  CHECK(c.events[0].columns == full.events[0].columns);
  CHECK(c.events[1].columns == full.events[1].columns);
  CHECK(c.events[1].event_source == "iam.amazonaws.com");
  DecoderOptions none = cols_only;
  none.build_columns = false;
  Diagnostics diag;
  CHECK_FALSE(validate(none, diag));
  CHECK(diag.message == "DecoderOptions: build_record and build_columns are both false");
}

TEST_CASE("any chunking gives the same events (plain and gzip)", "[decoder]") {
  auto ref = decode("k", two_records);
  REQUIRE(ref.events.size() == 2);
  const std::string gz = gzip(two_records);
  for (std::size_t chunk : {1u, 2u, 3u, 7u, 64u, 1000u}) {
    auto p = decode("k", two_records, chunk);
    auto g = decode("k.gz", gz, chunk);
    REQUIRE(p.summary);
    REQUIRE(g.summary);
    CHECK(g.summary->compression == Compression::gzip);
    REQUIRE(p.events.size() == 2);
    REQUIRE(g.events.size() == 2);
    for (std::size_t i = 0; i < 2; ++i) {
      CHECK(p.events[i].record == ref.events[i].record);
      CHECK(p.events[i].columns == ref.events[i].columns);
      CHECK(g.events[i].record == ref.events[i].record);
      CHECK(g.events[i].columns == ref.events[i].columns);
    }
  }
}

TEST_CASE("multi-member gzip, streamed and whole (libdeflate)", "[decoder]") {
  const std::string half = two_records.substr(0, 200);
  const std::string gz = gzip(half) + gzip(two_records.substr(200, 5)) + gzip("") +
                         gzip(two_records.substr(205), 1);
  auto s = decode("k", gz, 5);
  auto w = decode_whole("k", gz);
  REQUIRE(s.summary);
  REQUIRE(w.summary);
  CHECK(s.summary->events == 2);
  CHECK(w.summary->events == 2);
  CHECK(w.summary->compression == Compression::gzip);
  CHECK(w.summary->compressed_bytes == gz.size());
  CHECK(w.summary->uncompressed_bytes == two_records.size());
  REQUIRE(w.events.size() == 2);
  CHECK(w.events[1].columns == s.events[1].columns);
  // A whole-buffer limit too small for the object: decode_buffer streams instead.
  DecoderOptions small;
  small.whole_buffer_limit = 16;
  auto st = decode_whole("k", gz, small);
  REQUIRE(st.summary);
  CHECK(st.summary->events == 2);
}

TEST_CASE("digest, ConfigWritabilityCheckFile and empty objects are skipped with a reason", "[decoder]") {
  const std::string digest =
      R"({"awsAccountId":"111122223333","digestStartTime":"2024-01-01T00:00:00Z","logFiles":[{"s3Object":"x"}]})";
  auto k = decode("AWSLogs/1/CloudTrail-Digest/us-east-1/2024/01/01/1_CloudTrail-Digest_x.json.gz",
                  "not even json");
  REQUIRE(k.summary);
  CHECK(k.summary->skipped == SkipReason::digest);
  CHECK(k.events.empty());
  auto byc = decode("renamed.json", gzip(digest), 3);
  REQUIRE(byc.summary);
  CHECK(byc.summary->skipped == SkipReason::digest);
  auto cfg = decode("AWSLogs/1/CloudTrail/ConfigWritabilityCheckFile", "");
  REQUIRE(cfg.summary);
  CHECK(cfg.summary->skipped == SkipReason::config_writability_check);
  for (std::string e : {std::string(), std::string(" \n\t "), gzip(""), gzip("\n\n")}) {
    auto r = decode("empty.json", e, 1);
    REQUIRE(r.summary);
    CHECK(r.summary->skipped == SkipReason::empty);
    auto w = decode_whole("empty.json", e);
    REQUIRE(w.summary);
    CHECK(w.summary->skipped == SkipReason::empty);
  }
  auto none = decode("x.json", R"({"Records":[]})");
  REQUIRE(none.summary);
  CHECK(none.summary->skipped == SkipReason::none);
  CHECK(none.summary->events == 0);
  CHECK(to_string(SkipReason::config_writability_check) == "config-writability-check");
}

TEST_CASE("an Insights file decodes like a log file", "[decoder]") {
  const std::string insights =
      R"({"Records":[{"eventVersion":"1.07","eventType":"AwsCloudTrailInsight","insightDetails":{"state":"Start","eventSource":"ec2.amazonaws.com","insightContext":{"statistics":{"baseline":{"average":0.0},"insight":{"average":2.5}}}}}]})";
  auto c = decode("AWSLogs/1/CloudTrail-Insight/us-east-1/2024/x.json.gz", gzip(insights));
  REQUIRE(c.summary);
  REQUIRE(c.events.size() == 1);
  CHECK(c.events[0].event_type == "AwsCloudTrailInsight");
  CHECK(c.events[0].event_source.empty());
  CHECK(c.events[0].columns.find(R"("insightDetails_insightContext_statistics_insight_average":2.5)") !=
        std::string::npos);
}

namespace {
void check_error(const Collected& c, decode_errc want, std::string_view name, std::size_t emitted,
                 std::string_view detail) {
  REQUIRE_FALSE(c.summary);
  CHECK(c.summary.error() == make_error_code(want));
  CHECK(c.events.size() == emitted);
  INFO(c.diag.message);
  CHECK(c.diag.message.rfind(std::string(name) + ": ", 0) == 0);
  CHECK(c.diag.message.find(std::to_string(emitted) + (emitted == 1 ? " event" : " events")) !=
        std::string::npos);
  CHECK(c.diag.message.find(detail) != std::string::npos);
}
}  // namespace

TEST_CASE("untrusted input: every error names the object, the place and what was emitted", "[decoder]") {
  const std::string one = R"({"Records":[{"eventSource":"s3.amazonaws.com"},)";
  SECTION("truncated gzip") {
    std::string gz = gzip(two_records);
    gz.resize(gz.size() - 10);
    // Every record was inflated before the end went missing: they are out, and said so.
    check_error(decode("t.gz", gz, 16), decode_errc::truncated_gzip, "t.gz", 2, "ends inside gzip member 1");
    check_error(decode_whole("t.gz", gz), decode_errc::truncated_gzip, "t.gz", 2, "gzip member");
    gz.resize(gz.size() / 2);
    auto half = decode("t.gz", gz);
    REQUIRE_FALSE(half.summary);
    CHECK(half.summary.error() == make_error_code(decode_errc::truncated_gzip));
    CHECK(half.events.size() < 2);
  }
  SECTION("corrupt gzip") {
    std::string gz = gzip(two_records);
    gz[gz.size() - 6] ^= 0x55;  // CRC mismatch
    check_error(decode("c.gz", gz), decode_errc::corrupt_gzip, "c.gz", 2, "compressed byte");
    std::string g2 = gzip(two_records);
    g2[12] = static_cast<char>(0xff);
    auto c = decode_whole("c.gz", g2);
    REQUIRE_FALSE(c.summary);
    CHECK((c.summary.error() == make_error_code(decode_errc::corrupt_gzip) ||
           c.summary.error() == make_error_code(decode_errc::invalid_json)));
  }
  SECTION("garbage after a gzip member") {
    check_error(decode("g.gz", gzip(two_records) + "junk!"), decode_errc::corrupt_gzip, "g.gz", 2,
                "not another gzip member");
    // Whatever the inflater (ISA-L waits for a whole 10-byte header), fed a byte at a time.
    check_error(decode("g.gz", gzip(two_records) + "\x1fjunk!", 1), decode_errc::corrupt_gzip, "g.gz",
                2, "not another gzip member");
    check_error(decode("g.gz", gzip(two_records) + "\x1f", 1), decode_errc::truncated_gzip, "g.gz", 2,
                "ends inside gzip member 2");
  }
  SECTION("other compressions") {
    check_error(decode("b.bz2", "BZh91AY&SY"), decode_errc::unsupported_compression, "b.bz2", 0, "bzip2");
    check_error(decode("z.zst", "\x28\xb5\x2f\xfd\x00\x00"), decode_errc::unsupported_compression, "z.zst", 0, "zstd");
  }
  SECTION("invalid JSON inside a record") {
    check_error(decode("j.json", one + R"({"a":tru})"), decode_errc::invalid_json, "j.json", 1,
                "record index 1");
  }
  SECTION("truncated JSON") {
    check_error(decode("t.json", one, 4), decode_errc::truncated_json, "t.json", 1, "record index 1");
    check_error(decode("t.json.gz", gzip(one)), decode_errc::truncated_json, "t.json.gz", 1, "ends inside the JSON");
  }
  SECTION("Records missing") {
    check_error(decode("m.json", R"({"records":[{}]})"), decode_errc::records_missing, "m.json", 0, "no Records");
  }
  SECTION("Records not an array") {
    check_error(decode("n.json", R"({"Records":{"a":1}})"), decode_errc::records_not_array, "n.json", 0, "not an array");
    check_error(decode("n.json", R"({"Records":"x"})"), decode_errc::records_not_array, "n.json", 0, "not an array");
  }
  SECTION("a record that is not an object") {
    check_error(decode("r.json", one + R"(42])"), decode_errc::record_not_object, "r.json", 1, "index 1");
    check_error(decode("r.json", R"({"Records":[[1]]})"), decode_errc::record_not_object, "r.json", 0, "index 0");
    check_error(decode("r.json", R"({"Records":["s"]})"), decode_errc::record_not_object, "r.json", 0, "index 0");
  }
  SECTION("document not an object") {
    check_error(decode("a.json", "[1,2]"), decode_errc::not_an_object, "a.json", 0, "not an object");
    check_error(decode("a.json", "\"x\""), decode_errc::not_an_object, "a.json", 0, "not an object");
  }
  SECTION("invalid UTF-8") {
    check_error(decode("u.json", one + "{\"a\":\"\xc3\x28\"}]}"), decode_errc::invalid_json, "u.json", 1, "invalid JSON");
  }
  SECTION("trailing data") {
    check_error(decode("d.json", R"({"Records":[]} {})"), decode_errc::trailing_data, "d.json", 0, "byte 15");
    check_error(decode("d.json", R"({"Records":[]}   x)", 1), decode_errc::trailing_data, "d.json", 0, "byte 17");
    auto ok = decode("d.json", "{\"Records\":[]} \n", 1);
    CHECK(ok.summary);
  }
  SECTION("oversized record") {
    DecoderOptions o;
    o.max_record_bytes = 100;
    const std::string big = one + "{\"a\":\"" + std::string(200, 'x') + "\"}]}";
    check_error(decode("o.json", big, 0, o), decode_errc::record_too_large, "o.json", 1, "record index 1");
    check_error(decode("o.json", big, 9, o), decode_errc::record_too_large, "o.json", 1, "exceeds 100 bytes");
  }
  SECTION("object over the uncompressed cap (gzip bomb)") {
    DecoderOptions o;
    o.max_object_bytes = 1000;
    std::string body = R"({"Records":[)";
    for (int i = 0; i < 100; ++i) body += R"({"eventSource":"s3.amazonaws.com"},)";
    body += "{}]}";
    auto c = decode("bomb.gz", gzip(body), 0, o);
    REQUIRE_FALSE(c.summary);
    CHECK(c.summary.error() == make_error_code(decode_errc::object_too_large));
    CHECK(c.events.size() < 100);
    auto w = decode_whole("bomb.gz", gzip(body), o);
    REQUIRE_FALSE(w.summary);
    CHECK(w.summary.error() == make_error_code(decode_errc::object_too_large));
  }
  SECTION("nesting too deep") {
    std::string deep = R"({"Records":[{"a":)" + std::string(500, '[') + std::string(500, ']') + "}]}";
    check_error(decode("deep.json", deep), decode_errc::invalid_json, "deep.json", 0, "invalid JSON");
  }
}

TEST_CASE("a feed() chunk over 4 GiB reaches zlib whole, not cut to 32 bits", "[decoder]") {
  // One chunk: a gzip member, then 4 GiB of zero bytes (not another member: an error). zlib's
  // avail_in is 32 bits; the chunk used to be cut to its low 32 bits, the member alone, and the
  // zeros were silently never read. The mapping is reserved, not allocated: only the pages
  // holding the member and the few zeros zlib reads are touched.
  const std::string gz = gzip(two_records);
  const std::size_t size = gz.size() + (std::size_t{1} << 32);
  void* map = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (map == MAP_FAILED) {
    WARN("cannot reserve 4 GiB of address space; skipped");
    return;
  }
  std::memcpy(map, gz.data(), gz.size());
  const std::span<const std::byte> chunk(static_cast<const std::byte*>(map), size);
  for (std::size_t gather : {std::size_t{0}, DecoderOptions{}.gather_bytes}) {
    INFO("gather_bytes " << gather);
    DecoderOptions opt;
    opt.gather_bytes = gather;
    CloudTrailDecoder d(opt);
    std::size_t events = 0;
    Diagnostics diag;
    d.begin("big.gz");
    auto r = d.feed(chunk, [&](Event&) { ++events; }, diag);
    REQUIRE_FALSE(r);
    CHECK(r.error() == make_error_code(decode_errc::corrupt_gzip));
    CHECK(diag.message.find("not another gzip member") != std::string::npos);
    CHECK(events == 2);
  }
  munmap(map, size);
}

TEST_CASE("errors are sticky until begin, and the decoder is reusable", "[decoder]") {
  CloudTrailDecoder d;
  std::vector<Event> got;
  auto h = [&](Event& e) { got.push_back(std::move(e)); };
  d.begin("bad.json");
  CHECK_FALSE(d.feed(std::string_view("[[[[[[[["), h, scratch));
  Diagnostics diag;
  CHECK_FALSE(d.feed(std::string_view("{}"), h, diag));
  CHECK(diag.message.rfind("bad.json: ", 0) == 0);
  CHECK_FALSE(d.finish(h, scratch));
  d.begin("good.json");
  REQUIRE(d.feed(std::string_view(two_records), h, scratch));
  auto s = d.finish(h, scratch);
  REQUIRE(s);
  CHECK(s->object_name == "good.json");
  CHECK(s->events == 2);
  REQUIRE(got.size() == 2);
  CHECK(got[1].event_source == "iam.amazonaws.com");  // moved-out events are rebuilt
}

TEST_CASE("a UTF-8 byte order mark before the document is accepted", "[decoder]") {
  auto c = decode("bom.json", "\xEF\xBB\xBF" + two_records);
  REQUIRE(c.summary);
  CHECK(c.summary->events == 2);
}

TEST_CASE("a throwing handler leaves feed, and begin starts over cleanly", "[decoder]") {
  CloudTrailDecoder d;
  int seen = 0;
  auto thrower = [&](Event&) {
    ++seen;
    throw std::runtime_error("sink down");
  };
  d.begin("a.json");
  CHECK_THROWS_AS(d.feed(std::string_view(two_records), thrower, scratch), std::runtime_error);
  CHECK(seen == 1);
  std::vector<Event> got;
  auto r = d.decode_buffer("b.json", two_records, [&](Event& e) { got.push_back(e); }, scratch);
  REQUIRE(r);
  CHECK(got.size() == 2);
}
