// The collector's decoder factory: one PayloadDecoder per object from the configured service's
// handler, already started on the object's name.
#include "ctsqs/collector/collector.hpp"

#include "detail/diag_errors.hpp"
#include "detail/failed_decoder.hpp"


namespace ctsqs {

result<PayloadDecoderFactory> make_payload_decoder_factory(std::shared_ptr<const ServiceHandler> handler,
                                                           ServiceSettings settings, DecoderOptions decoder_options,
                                                           Diagnostics& diag) {
  if (!handler) return detail::invalid_argument(diag, "no service handler");
  // Fail at configuration time, not on the first object.
  if (auto first = handler->make_payload_decoder(settings, decoder_options, diag); !first) return first.error();
  return PayloadDecoderFactory([handler = std::move(handler), settings = std::move(settings), decoder_options](
                                   const ObjectRef& object, std::string_view) -> std::unique_ptr<PayloadDecoder> {
    Diagnostics why;
    auto d = detail::decoder_or_failure(handler->make_payload_decoder(settings, decoder_options, why), why);
    // The key drives digest / ConfigWritabilityCheckFile recognition and names errors; an empty
    // one means events carried in the message (PayloadDecoder::begin).
    d->begin(object.key);
    return d;
  });
}

}  // namespace ctsqs
