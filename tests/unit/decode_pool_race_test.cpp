// What the collector's decode threads share, exercised from several at once without the
// collector: the built-in service decoders (one per object) with one TagLimits admitting and
// capping tags, their content observers hashing, chunk jobs of many objects interleaved on a
// DecodePool. Small enough to build with -fsanitize=thread (see docs/benchmarks.md).
#include "../../lib/detail/decode_pool.hpp"

#include "catch.hpp"
#include "catch_result.hpp"
#include "gzip_helper.hpp"
#include "ctsqs/collector/collector.hpp"
#include "ctsqs/integrity/gunzip_sha256.hpp"
#include "ctsqs/decode/service_handler.hpp"
#include "ctsqs/decode/tag_router.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include <mutex>

using namespace ctsqs;
namespace asio = boost::asio;

namespace {

std::string records_json(int f, int n) {
  std::string s = "{\"Records\":[";
  for (int i = 0; i < n; ++i)
    s += std::string(i ? "," : "") + "{\"eventVersion\":\"1.08\",\"eventSource\":\"svc" + std::to_string((f * 5 + i) % 40) +
         ".amazonaws.com\",\"eventName\":\"Get\",\"eventID\":\"" + std::to_string(i) +
         "\",\"recipientAccountId\":\"1111222233" + std::to_string(10 + f) + "\",\"awsRegion\":\"us-east-1\"}";
  return s + "]}";
}

}  // namespace

TEST_CASE("decode pool: service decoders sharing one TagLimits decode many objects at once, each in order",
          "[decode_pool]") {
  constexpr int objects = 16, records = 300;
  auto handler = ServiceHandlerRegistry::builtin().find("aws_sqs_cloudtrail");
  ServiceSettings settings;
  settings.name = "aws_sqs_cloudtrail";
  settings.routing_template = std::string(handler->default_routing_template());
  DecoderOptions dopt;
  dopt.gather_bytes = 0;  // streamed, as the collector does with ISA-L: many jobs per object
  dopt.tag_limits = std::make_shared<TagLimits>(TagLimits::default_max_value_length, 25);
  std::mutex log_mu;
  int log_lines = 0;
  dopt.tag_limits->log = [&](std::string_view) {
    std::lock_guard lk(log_mu);
    ++log_lines;
  };
  Diagnostics made;
  auto factory_made = make_payload_decoder_factory(handler, settings, dopt, made);
  INFO(made.message);
  REQUIRE(factory_made);
  auto factory = std::move(*factory_made);

  asio::io_context ioc;
  detail::DecodePool pool(4);
  std::vector<std::string> json(objects), gz(objects), sha(objects);
  std::vector<std::vector<Event>> out(objects);
  // char, not bool: vector<bool> packs several objects' flags into one word, which jobs on two
  // threads then write at once (ThreadSanitizer found it).
  std::vector<char> ok(objects, 0), observed(objects, 0);
  for (int f = 0; f < objects; ++f) {
    json[static_cast<std::size_t>(f)] = records_json(f, records);
    gz[static_cast<std::size_t>(f)] = test::gzip(json[static_cast<std::size_t>(f)]);
  }
  for (int f = 0; f < objects; ++f) {
    asio::co_spawn(ioc, [&, f]() -> asio::awaitable<void> {
      const auto k = static_cast<std::size_t>(f);
      ObjectRef ref;
      ref.bucket = "b";
      ref.key = "AWSLogs/1/CloudTrail/us-east-1/2026/09/01/f" + std::to_string(f) + ".json.gz";
      auto dec = factory(ref, {});
      integrity::Sha256Stream hash;
      REQUIRE(dec->observe_content([&hash](std::string_view b) { hash.update(b); }));
      Diagnostics d;
      bool good = true;
      for (std::size_t at = 0; at < gz[k].size() && good; at += 700) {
        std::string_view piece(gz[k].data() + at, std::min<std::size_t>(700, gz[k].size() - at));
        auto job = [&] { good = dec->feed(piece, out[k], d).has_value(); };
        co_await pool.run(job);
      }
      auto fin = [&] {
        good = good && dec->finish(out[k], d).has_value();
        observed[k] = dec->content_observed();
        sha[k] = hash.finish_hex();
      };
      co_await pool.run(fin);
      ok[k] = good;
    }, asio::detached);
  }
  ioc.run();
  std::set<std::string> tags;
  for (int f = 0; f < objects; ++f) {
    const auto k = static_cast<std::size_t>(f);
    REQUIRE(ok[k]);
    REQUIRE(out[k].size() == static_cast<std::size_t>(records));
    for (int i = 0; i < records; ++i)
      REQUIRE(out[k][static_cast<std::size_t>(i)].record.find("\"eventID\":\"" + std::to_string(i) + "\"") !=
              std::string::npos);
    for (auto& e : out[k]) tags.insert(e.tag);
    CHECK(observed[k]);
    integrity::Sha256Stream want;
    want.update(json[k]);
    CHECK(sha[k] == want.finish_hex());
  }
  CHECK(tags.size() <= 26);  // 25 admitted + the unknown fallback
  CHECK(dopt.tag_limits->capped_events() > 0);
  std::lock_guard lk(log_mu);
  CHECK(log_lines >= 1);
}
