// JsonValueSplitter: NDJSON and concatenated values (`}{`, as Firehose writes them) fed in every
// chunking, braces and escaped quotes inside strings, bounds (value size, depth) and named errors.
#include "ctsqs/json_stream.hpp"

#include "catch.hpp"
#include "catch_result.hpp"

#include <string>
#include <vector>

using namespace ctsqs;

namespace {

struct Split {
  std::vector<std::string> values;
  std::vector<std::uint64_t> offsets;
  result<void> r;
  Diagnostics diag;
};

// Feeds `text` in chunks of `chunk` bytes (0: all at once), then finishes.
Split split(const std::string& text, std::size_t chunk, JsonValueSplitter::Options o = {}) {
  Split out;
  JsonValueSplitter s(o);
  auto on_value = [&](std::string_view v, std::uint64_t index, std::uint64_t offset) -> result<void> {
    REQUIRE(index == out.values.size());
    out.values.emplace_back(v);
    out.offsets.push_back(offset);
    return {};
  };
  const std::size_t step = chunk == 0 ? std::max<std::size_t>(1, text.size()) : chunk;
  for (std::size_t i = 0; i < text.size(); i += step) {
    out.r = s.feed(std::string_view(text).substr(i, step), on_value, out.diag);
    if (!out.r) return out;
  }
  out.r = s.finish(out.diag);
  return out;
}

}  // namespace

TEST_CASE("json stream: NDJSON and concatenated values in any chunking", "[json_stream]") {
  const std::vector<std::string> values = {
      R"({"a":1,"s":"}{ ] [ \"quoted\" \\"})", R"([1,{"b":[2,3]},"x"])", R"({})",
      R"({"detail":{"service":{"action":{"awsApiCallAction":{"api":"GetObject"}}}}})"};
  const std::string ndjson = values[0] + "\n" + values[1] + "\r\n" + values[2] + "\n\n" + values[3] + "\n";
  const std::string concatenated = values[0] + values[1] + values[2] + values[3];
  const std::string with_bom = "\xEF\xBB\xBF" + ndjson;
  for (const auto* text : {&ndjson, &concatenated, &with_bom}) {
    for (std::size_t chunk : {0, 1, 2, 3, 7, 64}) {
      INFO("chunk " << chunk << ": " << *text);
      auto s = split(*text, chunk);
      INFO(s.diag.message);
      REQUIRE(s.r);
      CHECK(s.values == values);
      for (std::size_t k = 0; k < values.size(); ++k) CHECK(text->substr(s.offsets[k], values[k].size()) == values[k]);
    }
  }
  CHECK(split("", 0).values.empty());
  CHECK(split(" \n\t ", 1).r);
}

TEST_CASE("json stream: errors name the offset and the value", "[json_stream]") {
  struct Bad {
    std::string text, says;
  } cases[] = {
      {"{\"a\":1} 42", "expected an object or array, got '4' at byte 8 (value 2)"},
      {"{\"a\":1}\nnull", "got 'n' at byte 8"},
      {"[1,2}", "'}' where ']' closes the open array at byte 4 (value 1)"},
      {"{\"a\":[1}", "'}' where ']' closes the open array"},
      {"{\"a\":1}{\"b\":", "ended inside value 2 (begun at byte 7, 1 bracket(s) open)"},
      {"{\"a\":\"x", "inside a string"},
      {"\xEF\xBB{}", "an incomplete byte order mark"},
      {"{}\xEF\xBB\xBF{}", "got byte 0xef at byte 2"},
  };
  for (const auto& c : cases) {
    for (std::size_t chunk : {0, 1, 4}) {
      INFO(c.text << " in chunks of " << chunk);
      auto s = split(c.text, chunk);
      CHECK_FALSE(s.r);
      CHECK(s.diag.message.find(c.says) != std::string::npos);
      CHECK(s.diag.message.find("JSON stream: ") == 0);
    }
  }
}

TEST_CASE("json stream: memory is bounded by the largest value, nesting by a depth", "[json_stream]") {
  JsonValueSplitter::Options o;
  o.max_value_bytes = 32;
  auto ok = split("{\"k\":\"" + std::string(20, 'x') + "\"}\n{\"k\":1}", 5, o);
  INFO(ok.diag.message);
  CHECK(ok.r);
  CHECK(ok.values.size() == 2);
  auto big = split("{\"k\":1}{\"k\":\"" + std::string(40, 'x') + "\"}", 5, o);
  CHECK_FALSE(big.r);
  CHECK(big.diag.message.find("a value longer than 32 bytes") != std::string::npos);
  CHECK(big.diag.message.find("(value 2)") != std::string::npos);
  CHECK(big.values.size() == 1);  // the good value before it was handed on

  JsonValueSplitter::Options d;
  d.max_depth = 4;
  CHECK(split("[[[[1]]]]", 1, d).r);
  auto deep = split("[[[[[1]]]]]", 1, d);
  CHECK_FALSE(deep.r);
  CHECK(deep.diag.message.find("nesting deeper than 4 levels") != std::string::npos);
}

TEST_CASE("json stream: a handler's error stops the split and is returned", "[json_stream]") {
  JsonValueSplitter s;
  Diagnostics diag;
  int seen = 0;
  auto r = s.feed("{}{}{}", [&](std::string_view, std::uint64_t, std::uint64_t) -> result<void> {
    if (++seen == 2) return make_error_code(client_errc::limit_exceeded);
    return {};
  }, diag);
  CHECK(r.error() == client_errc::limit_exceeded);
  CHECK(seen == 2);
}
