// Test helper: the built-in CloudTrail service's decoder factory with its default routing,
// events without columns (tests that run a Collector over in-memory or emulated queues).
#pragma once

#include "ctsqs/collector/collector.hpp"
#include "ctsqs/decode/service_handler.hpp"

#include <string>

namespace ctsqs::test {

inline PayloadDecoderFactory cloudtrail_decoders() {
  auto handler = ServiceHandlerRegistry::builtin().find("aws_sqs_cloudtrail");
  ServiceSettings settings;
  settings.name = "aws_sqs_cloudtrail";
  settings.routing_template = std::string(handler->default_routing_template());
  DecoderOptions d;
  d.build_columns = false;
  Diagnostics diag;
  return make_payload_decoder_factory(handler, settings, d, diag).value();
}

}  // namespace ctsqs::test
