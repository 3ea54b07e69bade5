// Fuzz target for the decoder's stream layouts (JSON values one after another, EventBridge
// events, CloudWatch Logs messages carrying records as text): the first byte picks the layout,
// the rest is the object. Any bytes, whole or in chunks, never crash; every emitted event is valid
// JSON and streaming agrees with decode_buffer (decoder_check.hpp).
#include "decoder_check.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  static constexpr ctsqs::RecordLayout layouts[] = {ctsqs::RecordLayout::json_values,
                                                    ctsqs::RecordLayout::eventbridge_events,
                                                    ctsqs::RecordLayout::cloudwatch_logs};
  ctsqs::DecoderOptions opt;
  opt.layout = layouts[data[0] % 3];
  opt.max_record_bytes = 64 * 1024;
  opt.max_object_bytes = 4 << 20;
  const std::string_view in(reinterpret_cast<const char*>(data + 1), size - 1);
  ctsqs::fuzz::check_decoder(in, opt, 1 + data[0] % 61);
  return 0;
}
