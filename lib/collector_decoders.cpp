// The collector's decoder factory: one PayloadDecoder per object from the configured service's
// handler, already started on the object's name.
#include "ctsqs/collector.hpp"

namespace ctsqs {

PayloadDecoderFactory make_payload_decoder_factory(std::shared_ptr<const ServiceHandler> handler,
                                                   ServiceSettings settings, DecoderOptions decoder_options) {
  if (!handler) throw std::invalid_argument("no service handler");
  // Fail at configuration time, not on the first object (throws std::invalid_argument).
  (void)handler->make_payload_decoder(settings, decoder_options);
  return [handler = std::move(handler), settings = std::move(settings),
          decoder_options](const ObjectRef& object, std::string_view) -> std::unique_ptr<PayloadDecoder> {
    auto d = handler->make_payload_decoder(settings, decoder_options);
    // The key drives digest / ConfigWritabilityCheckFile recognition and names errors; an empty
    // one means events carried in the message (PayloadDecoder::begin).
    d->begin(object.key);
    return d;
  };
}

}  // namespace ctsqs
