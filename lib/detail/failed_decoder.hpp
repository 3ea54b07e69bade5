// A PayloadDecoder that fails every object with one error: what a decoder factory hands out when
// a handler cannot make a decoder for an object (its settings passed at start, so this is rare).
#pragma once

#include "ctsqs/decode/service_handler.hpp"

#include <memory>
#include <utility>

namespace ctsqs::detail {

/// Fails feed() and finish() with `ec` and `diag` (the reason the decoder could not be made).
class FailedDecoder final : public PayloadDecoder {
 public:
  FailedDecoder(error_code ec, Diagnostics diag) : ec_(ec), diag_(std::move(diag)) {}
  result<void> feed(std::string_view, std::vector<Event>&, Diagnostics& diag) override { return fail(diag); }
  result<void> finish(std::vector<Event>&, Diagnostics& diag) override { return fail(diag); }

 private:
  result<void> fail(Diagnostics& diag) const {
    diag = diag_;
    return ec_;
  }
  error_code ec_;
  Diagnostics diag_;
};

/// The decoder `made` holds, or a FailedDecoder carrying its error and `diag`.
inline std::unique_ptr<PayloadDecoder> decoder_or_failure(result<std::unique_ptr<PayloadDecoder>> made,
                                                          Diagnostics diag) {
  if (made) return std::move(*made);
  return std::make_unique<FailedDecoder>(made.error(), std::move(diag));
}

}  // namespace ctsqs::detail
