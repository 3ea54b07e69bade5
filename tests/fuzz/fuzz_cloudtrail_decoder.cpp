// Fuzz target for CloudTrailDecoder: any bytes, whole or in chunks, never crash; every emitted
// event is valid JSON and streaming agrees with decode_buffer (decoder_check.hpp).
#include "decoder_check.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  ctsqs::DecoderOptions opt;
  opt.max_record_bytes = 64 * 1024;
  opt.max_object_bytes = 4 << 20;
  // Streaming in chunks whose size comes from the input.
  ctsqs::fuzz::check_decoder(in, opt, size == 0 ? 1 : 1 + data[0] % 61);
  return 0;
}
