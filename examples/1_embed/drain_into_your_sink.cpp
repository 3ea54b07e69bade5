// The shortest embedding: drain an SQS queue of CloudTrail notifications into your own Sink.
//   drain_into_your_sink QUEUE_URL [--drain]   (credentials and region: the AWS way, e.g. AWS_PROFILE)
#include <ctsqs/ctsqs.hpp>

#include <cstring>
#include <iostream>

struct PrintSink final : ctsqs::Sink {  // your destination; a message is deleted once flush() succeeded
  ctsqs::result<void> write(const ctsqs::Event& e, ctsqs::Diagnostics&) override { std::cout << e.tag << ' ' << e.record << '\n'; return {}; }
  ctsqs::result<void> flush(ctsqs::Diagnostics&) override { std::cout.flush(); return {}; }
};

int main(int argc, char** argv) {
  if (argc < 2) { std::cerr << "usage: drain_into_your_sink QUEUE_URL [--drain]\n"; return 2; }
  boost::asio::io_context ioc;
  PrintSink sink;
  ctsqs::AssemblyOptions options;
  options.drain = argc > 2 && std::strcmp(argv[2], "--drain") == 0;  // stop once the queue is empty
  options.extra_sinks = {&sink};
  ctsqs::Diagnostics diag;
  auto collector = ctsqs::build_collector(ctsqs::CollectorConfig::for_queue(argv[1]), ioc.get_executor(), options, diag);
  if (!collector) { std::cerr << diag.message << '\n'; return 2; }
  return ctsqs::run_until_signal(ioc, **collector).clean() ? 0 : 1;  // until SIGINT/SIGTERM, or drained
}
