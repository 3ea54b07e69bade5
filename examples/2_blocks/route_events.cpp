// Example (building blocks: TagRouter, StdoutSink): decode a file, tag its events
// cloud.aws.cloudtrail.<service> with a TagRouter (keeping only the services named) and write them
// as flat JSON lines to stdout through a StdoutSink, flushing once at the end; counts per tag go
// to stderr.
//
//   example_route_events FILE [SERVICE...]
//   e.g. example_route_events examples/logs/AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/28/111122223333_CloudTrail_us-east-1_20261128T1005Z_Ex4mpLe0us1a.json.gz s3 iam
#include <ctsqs/decode/cloudtrail_decoder.hpp>
#include <ctsqs/sink/stdout_sink.hpp>
#include <ctsqs/decode/tag_router.hpp>

#include <fstream>
#include <iostream>
#include <iterator>
#include <string>

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: " << argv[0] << " FILE [SERVICE...]\n";
    return 2;
  }
  std::ifstream in(argv[1], std::ios::binary);
  if (!in) {
    std::cerr << argv[1] << ": cannot open\n";
    return 1;
  }
  const std::string whole{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};

  ctsqs::TagRouterOptions routing;  // tag = cloud.aws.cloudtrail.{service}
  for (int i = 2; i < argc; ++i) routing.services.emplace_back(argv[i]);
  ctsqs::Diagnostics diag;
  auto router_or = ctsqs::TagRouter::create(routing, diag);
  if (!router_or) {
    std::cerr << diag.message << "\n";
    return 2;
  }
  ctsqs::TagRouter& router = *router_or;

  ctsqs::StdoutSinkOptions out;
  out.format = ctsqs::OutputFormat::flat;
  ctsqs::StdoutSink sink(out);

  ctsqs::DecoderOptions options;
  options.build_record = ctsqs::needs_record(out.format);
  options.build_columns = ctsqs::needs_columns(out.format);
  ctsqs::CloudTrailDecoder decoder(options);

  bool sink_ok = true;
  ctsqs::Diagnostics sink_diag;  // names the descriptor when the output fails
  auto summary = decoder.decode_buffer(argv[1], whole, [&](ctsqs::Event& e) {
    if (router.route(e) && sink_ok) sink_ok = static_cast<bool>(sink.write(e, sink_diag));
  }, diag);
  // flush() is the delivery acknowledgement: only now may the source be acknowledged.
  if (!sink_ok || !sink.flush(sink_diag)) {
    std::cerr << "output failed: " << sink_diag.message << "\n";
    return 1;
  }
  if (!summary) {
    std::cerr << diag.message << "\n";
    return 1;
  }
  for (const auto& [tag, n] : router.counts()) std::cerr << tag << ": " << n << "\n";
  std::cerr << "filtered out: " << router.filtered() << "\n";
  return 0;
}
