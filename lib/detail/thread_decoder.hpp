// ThreadDecoder: the decoder of one decoding thread of decode_files (file_decode.cpp), with the
// buffers it reuses input after input. Defined in file_decode_input.cpp.
#pragma once

#include "ctsqs/decode/cloudtrail_decoder.hpp"
#include "ctsqs/decode/file_decode.hpp"
#include "ctsqs/decode/service_handler.hpp"

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace ctsqs::detail {

/// A CloudTrailDecoder of `FileDecodeOptions::decoder` (streaming every input when the inflater
/// streams as fast as it inflates whole buffers), or a service handler's decoder when the options
/// have a `make_decoder`. `decode` reads one input whole when small, else in chunks, and hands
/// its events to `handler` one by one; what went wrong is in the outcome, naming the input.
class ThreadDecoder {
 public:
  explicit ThreadDecoder(const FileDecodeOptions& opt);
  FileOutcome decode(const FileInput& in, const FileDecodeOptions& opt, EventHandler handler);

 private:
  std::optional<CloudTrailDecoder> trail_;
  std::unique_ptr<PayloadDecoder> payload_;
  std::string buf_;
  std::vector<Event> events_;
};

}  // namespace ctsqs::detail
