// Conformance of CloudTrailDecoder + TagRouter over the shared third-party CloudTrail data: record
// counts per file (corpus-small/INDEX.tsv), tags, and every leaf flattened — checked against an
// independent Boost.JSON DOM walk of the same input. Skips when ../shared/testdata is absent.
#include "ctsqs/decode/cloudtrail_decoder.hpp"
#include "ctsqs/decode/tag_router.hpp"

#include "catch.hpp"
#include "test_paths.hpp"

#include <boost/json.hpp>
#include <zlib.h>

#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace json = boost::json;
namespace {
ctsqs::Diagnostics scratch;  // the detail of calls whose message is not checked
}  // namespace

using namespace ctsqs;

namespace {

std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Independent gunzip (zlib, all members) for the reference side.
std::string gunzip(const std::string& in) {
  std::string out;
  z_stream zs{};
  REQUIRE(inflateInit2(&zs, 15 + 32) == Z_OK);
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  char buf[65536];
  for (;;) {
    zs.next_out = reinterpret_cast<Bytef*>(buf);
    zs.avail_out = sizeof buf;
    const int r = inflate(&zs, Z_NO_FLUSH);
    out.append(buf, sizeof buf - zs.avail_out);
    if (r == Z_STREAM_END) {
      if (zs.avail_in == 0) break;
      inflateReset(&zs);
      continue;
    }
    REQUIRE(r == Z_OK);
  }
  inflateEnd(&zs);
  return out;
}

json::value parse_json(std::string_view s) {
  json::parse_options po;
  po.max_depth = 1000;
  return json::parse(s, {}, po);
}

// The expected columns of a record: one per leaf, name = path joined with '_'.
void expected_leaves(const json::object& o, const std::string& prefix,
                     std::vector<std::pair<std::string, json::value>>& out) {
  for (const auto& kv : o) {
    const std::string name = prefix.empty() ? std::string(kv.key()) : prefix + "_" + std::string(kv.key());
    const json::value& v = kv.value();
    if (v.is_object() && !v.get_object().empty()) {
      expected_leaves(v.get_object(), name, out);
    } else if (v.is_object() || v.is_array()) {
      out.emplace_back(name, v);  // arrays (and empty objects) are kept as JSON text
    } else {
      out.emplace_back(name, v);
    }
  }
}

std::string expected_service(const json::object& rec) {
  if (auto* t = rec.if_contains("eventType"); t && t->is_string() && t->get_string() == "AwsCloudTrailInsight")
    return "insights";
  auto* s = rec.if_contains("eventSource");
  if (!s || !s->is_string() || s->get_string().empty()) return "unknown";
  std::string src(s->get_string());
  const std::string suf = ".amazonaws.com";
  if (src.size() >= suf.size() && src.compare(src.size() - suf.size(), suf.size(), suf) == 0)
    src.resize(src.size() - suf.size());
  for (char& c : src) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) c = '_';
  }
  return src;
}

// Decodes `bytes` (whole and streamed) and checks every event against `records`.
void check_object(const std::string& name, const std::string& bytes, const json::array& records) {
  INFO(name);
  std::vector<Event> whole, streamed;
  CloudTrailDecoder dec;
  Diagnostics diag;
  auto r = dec.decode_buffer(name, bytes, [&](Event& e) { whole.push_back(e); }, diag);
  INFO(diag.message);
  REQUIRE(r);
  CHECK(r->skipped == SkipReason::none);
  REQUIRE(whole.size() == records.size());
  dec.begin(name);
  for (std::size_t i = 0; i < bytes.size(); i += 4093)
    REQUIRE(dec.feed(std::string_view(bytes).substr(i, 4093), [&](Event& e) { streamed.push_back(e); }, scratch));
  REQUIRE(dec.finish([&](Event& e) { streamed.push_back(e); }, scratch));
  REQUIRE(streamed.size() == records.size());

  TagRouter router;
  for (std::size_t i = 0; i < records.size(); ++i) {
    INFO("record index " << i);
    const json::object& rec = records[i].as_object();
    Event& e = whole[i];
    CHECK(e.record == streamed[i].record);
    CHECK(e.columns == streamed[i].columns);
    // The raw record is the input record.
    CHECK(parse_json(e.record) == records[i]);
    // Tag.
    REQUIRE(router.route(e));
    CHECK(e.tag == "cloud.aws.cloudtrail." + expected_service(rec));
    CHECK(std::count(e.tag.begin(), e.tag.end(), '.') == 3);
    // Every leaf, in order, with its JSON type.
    std::vector<std::pair<std::string, json::value>> want;
    expected_leaves(rec, "", want);
    const json::object got = parse_json("{" + e.columns + "}").as_object();
    CHECK(got.size() == want.size());
    for (const auto& [col, v] : want) {
      INFO("column " << col);
      const json::value* g = got.if_contains(col);
      REQUIRE(g);
      if (v.is_array() || v.is_object()) {
        REQUIRE(g->is_string());
        CHECK(parse_json(std::string_view(g->get_string())) == v);
      } else {
        CHECK(*g == v);
      }
    }
  }
}

}  // namespace

TEST_CASE("conformance: corpus-small delivery files, counts per INDEX.tsv", "[decoder][conformance]") {
  if (!test::has_shared_testdata()) {
    WARN("shared testdata absent: skipped");
    return;
  }
  const auto dir = test::shared_testdata_dir() / "cloudtrail" / "corpus-small";
  std::ifstream index(dir / "INDEX.tsv");
  REQUIRE(index);
  std::string line;
  std::getline(index, line);  // header
  int files = 0;
  while (std::getline(index, line)) {
    if (line.empty()) continue;
    std::istringstream cols(line);
    std::string file, count, size;
    std::getline(cols, file, '\t');
    std::getline(cols, count, '\t');
    std::getline(cols, size, '\t');
    const std::string bytes = slurp(dir / file);
    const std::string text = gunzip(bytes);
    CHECK(text.size() == std::stoull(size));
    const json::value doc = parse_json(text);
    const json::array& records = doc.as_object().at("Records").as_array();
    CHECK(records.size() == std::stoull(count));
    check_object(file, bytes, records);
    ++files;
  }
  CHECK(files > 0);
}

TEST_CASE("conformance: stratus-red-team, panther-analysis and AWS docs records", "[decoder][conformance]") {
  if (!test::has_shared_testdata()) {
    WARN("shared testdata absent: skipped");
    return;
  }
  const auto ct = test::shared_testdata_dir() / "cloudtrail";
  // Detonation logs: each file is a JSON array of records; wrap it as a log file.
  int n = 0;
  for (const auto& f : std::filesystem::directory_iterator(ct / "stratus-red-team/docs/detonation-logs")) {
    const std::string text = slurp(f.path());
    const json::value v = parse_json(text);
    if (!v.is_array()) continue;
    check_object(f.path().filename().string(), "{\"Records\":" + text + "}", v.as_array());
    ++n;
  }
  CHECK(n > 0);
  // Rule-test logs: one record per line under "log".
  for (const char* name : {"rule-test-logs.jsonl", "test-scenarios-cloudtrail.jsonl"}) {
    std::ifstream in(ct / "panther-analysis" / name);
    json::array recs;
    std::string line;
    while (std::getline(in, line)) {
      if (line.empty()) continue;
      const json::value v = parse_json(line);
      if (const auto* log = v.as_object().if_contains("log"); log && log->is_object()) recs.push_back(*log);
    }
    CHECK(!recs.empty());
    check_object(name, json::serialize(json::object{{"Records", recs}}), recs);
  }
  // AWS documentation: two log files, an Insights listing, a digest file.
  for (const char* name : {"cloudtrail-log-file-examples-L44.json", "cloudtrail-log-file-examples-L78.json"}) {
    const std::string text = slurp(ct / "aws-docs-samples" / name);
    const json::value doc = parse_json(text);
    check_object(name, text, doc.as_object().at("Records").as_array());
  }
  const std::string insights = slurp(ct / "aws-docs-samples/view-insights-events-cli-L55.json");
  const json::value listing = parse_json(insights);
  const json::array& events = listing.as_object().at("Events").as_array();
  json::array as_records;
  for (const auto& e : events) {
    const auto& o = e.as_object();
    if (auto* c = o.if_contains("CloudTrailEvent"); c && c->is_string()) as_records.push_back(parse_json(std::string_view(c->get_string())));
    else as_records.push_back(e);
  }
  check_object("insights", json::serialize(json::object{{"Records", as_records}}), as_records);

  CloudTrailDecoder dec;
  auto d = dec.decode_buffer("renamed-digest.json",
                             slurp(ct / "aws-docs-samples/cloudtrail-log-file-validation-digest-file-structure-L28.json"),
                             [](Event&) { FAIL("a digest has no events"); }, scratch);
  REQUIRE(d);
  CHECK(d->skipped == SkipReason::digest);
}
