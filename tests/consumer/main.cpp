// Consumer of the installed package: builds a collector with a sink of its own through
// find_package(ctsqs) (a code-first config, no collector file), and checks what was built and
// what is refused. Nothing is run: no queue is needed.
#include <ctsqs/collector/assembly.hpp>

#include <boost/asio/io_context.hpp>

#include <iostream>
#include <string>

namespace {

struct CountingSink final : ctsqs::Sink {
  ctsqs::result<void> write(const ctsqs::Event&, ctsqs::Diagnostics&) override {
    ++events;
    return {};
  }
  ctsqs::result<void> flush(ctsqs::Diagnostics&) override { return {}; }
  int events = 0;
};

int failures = 0;

void expect(bool ok, const std::string& what) {
  std::cout << (ok ? "ok     " : "FAILED ") << what << "\n";
  if (!ok) ++failures;
}

}  // namespace

int main() {
  boost::asio::io_context ioc;
  CountingSink sink;
  ctsqs::AssemblyOptions options;
  options.extra_sinks = {&sink};
  options.env = ctsqs::environment_from({{"AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"}, {"AWS_SECRET_ACCESS_KEY", "x"}});
  options.log = [](std::string_view) {};
  ctsqs::Diagnostics diag;
  auto config = ctsqs::CollectorConfig::for_queue("https://sqs.eu-west-1.amazonaws.com/123456789012/trail");
  expect(config.aws.region == "eu-west-1", "for_queue: the region comes from the queue URL");
  auto collector = ctsqs::build_collector(config, ioc.get_executor(), options, diag);
  expect(collector.has_value(), "build_collector: a collector with a sink of its own (" + diag.message + ")");
  if (collector)
    expect((*collector)->sqs_endpoint() == "https://sqs.eu-west-1.amazonaws.com",
           "build_collector: the queue's endpoint (" + (*collector)->sqs_endpoint() + ")");

  ctsqs::Diagnostics bad;
  auto unknown = ctsqs::build_collector(
      ctsqs::CollectorConfig::for_queue("https://sqs.eu-west-1.amazonaws.com/123456789012/trail", "aws_sqs_nothing"),
      ioc.get_executor(), options, bad);
  expect(!unknown && bad.message.find("aws_sqs_nothing") != std::string::npos,
         "build_collector: an unknown service is refused naming it (" + bad.message.substr(0, 120) + ")");
  return failures == 0 ? 0 : 1;
}
