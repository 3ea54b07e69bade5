// The collector's built-in payload decoder: CloudTrailDecoder + TagRouter behind PayloadDecoder.
#include "ctsqs/collector.hpp"

#include "ctsqs/tag_router.hpp"

namespace ctsqs {
namespace {

class CloudTrailPayloadDecoder final : public PayloadDecoder {
 public:
  CloudTrailPayloadDecoder(const DecoderOptions& options, const TagRouterOptions& routing, std::string_view name,
                           Metrics* metrics)
      : decoder_(options), router_(routing), metrics_(metrics) {
    decoder_.begin(name);
  }

  result<void> feed(std::string_view chunk, std::vector<Event>& out, Diagnostics& diag) override {
    return decoder_.feed(chunk, [&](Event& e) { take(e, out); }, &diag);
  }

  result<void> finish(std::vector<Event>& out, Diagnostics& diag) override {
    auto r = decoder_.finish([&](Event& e) { take(e, out); }, &diag);
    if (!r) return r.error();
    return {};
  }

 private:
  void take(Event& e, std::vector<Event>& out) {
    if (router_.route(e)) {
      out.push_back(std::move(e));
    } else if (metrics_) {
      metrics_->events_dropped.fetch_add(1, std::memory_order_relaxed);
    }
  }

  CloudTrailDecoder decoder_;
  TagRouter router_;
  Metrics* metrics_;
};

}  // namespace

PayloadDecoderFactory make_payload_decoder_factory(std::shared_ptr<const ServiceHandler> handler,
                                                   ServiceSettings settings, DecoderOptions decoder_options,
                                                   Metrics* metrics) {
  TagRouterOptions routing;
  if (!settings.routing_template.empty()) routing.routing_template = settings.routing_template;
  routing.services = settings.aws_services;
  // Fail at configuration time, not on the first object.
  Diagnostics diag;
  if (auto v = validate(routing, &diag); !v)
    throw std::invalid_argument("routing_template: " + diag.message);
  return [handler = std::move(handler), settings = std::move(settings), decoder_options, routing,
          metrics](const ObjectRef& object) -> std::unique_ptr<PayloadDecoder> {
    if (handler) {
      if (auto own = handler->make_payload_decoder(settings, object.key)) return own;
    }
    const std::string name = object.key.empty() ? std::string("inline event")
                                                : "s3://" + object.bucket + "/" + object.key;
    return std::make_unique<CloudTrailPayloadDecoder>(decoder_options, routing, name, metrics);
  };
}

}  // namespace ctsqs
