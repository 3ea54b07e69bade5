// Sink: the default forms that bridge the deprecated write(event)/flush()/last_error() interface
// and the Diagnostics& one, so sinks and callers of either kind work together for one release.
#include "ctsqs/sink/sink.hpp"

// This file is where the deprecated forms are defined and called on purpose.
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

namespace ctsqs {

namespace {

// Sets `flag` for the lifetime of the guard (a sink that throws must not leave it set).
class Forwarding {
 public:
  explicit Forwarding(bool& flag) : flag_(flag) { flag_ = true; }
  ~Forwarding() { flag_ = false; }
  Forwarding(const Forwarding&) = delete;
  Forwarding& operator=(const Forwarding&) = delete;

 private:
  bool& flag_;
};

constexpr const char* neither =
    "the sink implements neither write(const Event&, Diagnostics&)/flush(Diagnostics&) nor the "
    "deprecated write(const Event&)/flush()";

}  // namespace

// New form over an old-style sink: its write(event), its last_error() as the message.
result<void> Sink::write(const Event& event, Diagnostics& diag) {
  if (forwarding_) {
    diag.message = neither;
    return make_error_code(client_errc::invalid_argument);
  }
  result<void> r;
  {
    Forwarding f(forwarding_);
    r = write(event);
  }
  if (!r) diag.message = last_error();
  return r;
}

result<void> Sink::flush(Diagnostics& diag) {
  if (forwarding_) {
    diag.message = neither;
    return make_error_code(client_errc::invalid_argument);
  }
  result<void> r;
  {
    Forwarding f(forwarding_);
    r = flush();
  }
  if (!r) diag.message = last_error();
  return r;
}

// Old form over a new-style sink: its write(event, diag), the message kept for last_error().
result<void> Sink::write(const Event& event) {
  if (forwarding_) {
    legacy_error_ = neither;
    return make_error_code(client_errc::invalid_argument);
  }
  Diagnostics diag;
  result<void> r;
  {
    Forwarding f(forwarding_);
    r = write(event, diag);
  }
  if (!r) legacy_error_ = diag.message;
  return r;
}

result<void> Sink::flush() {
  if (forwarding_) {
    legacy_error_ = neither;
    return make_error_code(client_errc::invalid_argument);
  }
  Diagnostics diag;
  result<void> r;
  {
    Forwarding f(forwarding_);
    r = flush(diag);
  }
  if (!r) legacy_error_ = diag.message;
  return r;
}

std::string Sink::last_error() const { return legacy_error_; }

}  // namespace ctsqs
