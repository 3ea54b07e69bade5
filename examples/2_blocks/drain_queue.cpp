// Example: an application embedding the collector on its own io_context — drain one SQS queue of
// CloudTrail notifications into its own Sink, then print per-tag counts.
//
//   example_drain_queue QUEUE_URL [REGION]
//
// Credentials, region and endpoints come the AWS way (AWS_ACCESS_KEY_ID..., AWS_REGION,
// AWS_ENDPOINT_URL_SQS / AWS_ENDPOINT_URL_S3 for local emulators, AWS_PROFILE, instance roles).
#include "ctsqs/aws/client.hpp"
#include "ctsqs/collector/collector.hpp"
#include "ctsqs/aws/endpoints.hpp"
#include "ctsqs/collector/object_store.hpp"
#include "ctsqs/decode/service_handler.hpp"
#include "ctsqs/collector/sqs_source.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include <iostream>
#include <map>

namespace {

// The application's own destination: here, count events per tag and keep the last one.
// A real application would write to its database or bus, and return an error from flush()
// (diag.message naming what failed) unless everything since the previous flush is safely
// stored: only then are messages deleted.
class CountingSink final : public ctsqs::Sink {
 public:
  ctsqs::result<void> write(const ctsqs::Event& e, ctsqs::Diagnostics&) override {
    ++pending_[e.tag];
    last_ = e.record;
    return {};
  }
  ctsqs::result<void> flush(ctsqs::Diagnostics&) override {
    for (auto& [tag, n] : pending_) counts_[tag] += n;
    pending_.clear();
    return {};
  }
  std::map<std::string, std::uint64_t> counts_;
  std::string last_;

 private:
  std::map<std::string, std::uint64_t> pending_;
};

boost::asio::awaitable<void> drain(ctsqs::Collector* collector, ctsqs::CollectorResult* out) {
  *out = co_await collector->async_run();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: " << argv[0] << " QUEUE_URL [REGION]\n";
    return 2;
  }
  try {
    boost::asio::io_context ioc;

    ctsqs::AwsClientOptions aws;
    aws.endpoints.region = argc > 2 ? argv[2] : "";
    aws.endpoints.s3_force_path_style = true;  // works for emulators and dotted bucket names
    aws.env = ctsqs::process_environment();
    ctsqs::Diagnostics diag;
    auto client = ctsqs::AwsClient::create(ioc.get_executor(), aws, diag);
    if (!client) {
      std::cerr << "drain_queue: " << diag.message << "\n";
      return 2;
    }

    ctsqs::SqsSourceOptions sqs;
    sqs.queue_url = argv[1];
    sqs.receive.wait_time = std::chrono::seconds(2);
    sqs.receive.visibility_timeout = std::chrono::seconds(60);  // the collector extends by the same
    sqs.receive.visibility_extension_interval = std::chrono::seconds(20);
    auto source = ctsqs::SqsSource::create(**client, sqs, diag);  // checks the URL and the settings
    if (!source) {
      std::cerr << "drain_queue: " << diag.message << "\n";
      return 2;
    }
    ctsqs::S3ObjectStore store(**client);

    // The CloudTrail service handler with its default routing: cloud.aws.cloudtrail.<service>.
    auto handler = ctsqs::ServiceHandlerRegistry::builtin().find("aws_sqs_cloudtrail");
    ctsqs::ServiceSettings settings;
    settings.name = "aws_sqs_cloudtrail";
    settings.routing_template = std::string(handler->default_routing_template());
    ctsqs::DecoderOptions decoder;
    decoder.build_columns = false;  // this sink only looks at the raw record

    ctsqs::CollectorOptions options;
    options.collector_id = "example";
    options.drain_empty_polls = 2;  // stop once two long polls in a row found nothing
    options.heartbeat.enabled = false;

    auto decoders = ctsqs::make_payload_decoder_factory(handler, settings, decoder, diag);
    if (!decoders) {
      std::cerr << diag.message << "\n";
      return 2;
    }
    CountingSink sink;
    ctsqs::Metrics metrics;
    auto collector =
        ctsqs::Collector::create(ioc.get_executor(), **source, store, sink, std::move(*decoders), options, metrics, diag);
    if (!collector) {
      std::cerr << diag.message << "\n";
      return 2;
    }
    ctsqs::CollectorResult result;
    const auto started = std::chrono::steady_clock::now();
    boost::asio::co_spawn(ioc, drain(collector->get(), &result), boost::asio::detached);
    ioc.run();

    for (auto& [tag, n] : sink.counts_) std::cout << tag << " " << n << "\n";
    if (!sink.last_.empty()) std::cout << "last event: " << sink.last_.substr(0, 200) << "\n";
    std::cerr << ctsqs::format_summary(metrics.snapshot(), std::chrono::steady_clock::now() - started);
    return result.clean() ? 0 : 1;
  } catch (const std::exception& e) {
    std::cerr << "drain_queue: " << e.what() << "\n";
    return 2;
  }
}
