// What the built-in service handlers share: the payload decoder (CloudTrailDecoder in the
// service's RecordLayout, then a TagRouter), the routing-template check, the options every
// service reads, and a small reader of an object's first JSON member for content recognition.
#pragma once

#include "ctsqs/decode/cloudtrail_decoder.hpp"
#include "ctsqs/decode/service_handler.hpp"
#include "ctsqs/decode/tag_router.hpp"

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ctsqs::services {

/// Objects are decoded in `layout`; events carried in a message (empty object name) arrive as
/// `{"Records":[...]}` and are decoded as such. Events come out tagged and filtered.
class TaggingPayloadDecoder final : public PayloadDecoder {
 public:
  /// `router`: made from the service's settings (TagRouter::create).
  TaggingPayloadDecoder(const DecoderOptions& limits, RecordLayout layout, TagRouter router);

  void begin(std::string_view object_name) override;
  result<void> feed(std::string_view chunk, std::vector<Event>& out, Diagnostics& diag) override;
  result<void> finish(std::vector<Event>& out, Diagnostics& diag) override;
  std::uint64_t filtered() const noexcept override { return router_.filtered() - filtered_at_begin_; }
  std::uint64_t retagged() const noexcept override { return router_.capped() - capped_at_begin_; }
  SkipReason skipped() const noexcept override { return current_->summary().skipped; }
  bool observe_content(ContentObserver observer) override {
    objects_.observe_content(std::move(observer));
    return true;
  }
  bool content_observed() const noexcept override {
    return current_ == &objects_ && objects_.content_observed();
  }

 private:
  void keep(Event& e, std::vector<Event>& out) {
    if (router_.route(e)) out.push_back(std::move(e));
  }
  DecoderOptions inline_options_;  // records_array, for events carried in messages
  CloudTrailDecoder objects_;       // the service's layout
  std::unique_ptr<CloudTrailDecoder> inline_;  // made on the first such payload: most decoders read objects only
  CloudTrailDecoder* current_ = &objects_;
  TagRouter router_;
  std::uint64_t filtered_at_begin_ = 0;
  std::uint64_t capped_at_begin_ = 0;
};

/// What the built-in handlers share: options, checks and the payload decoder. A handler names
/// its record layout and what its events carry: CloudTrail events an AWS service (the
/// `{service}` placeholder and the `aws_services` filter), GuardDuty findings none.
class BuiltinHandler : public ServiceHandler {
 public:
  result<ServiceSettings> parse_options(ServiceOptions& o, Diagnostics& diag) const override;
  result<void> check(const ServiceSettings& s, std::string_view path, Diagnostics& diag) const override;
  result<std::unique_ptr<PayloadDecoder>> make_payload_decoder(const ServiceSettings& s, const DecoderOptions& limits,
                                                               Diagnostics& diag) const override;
  std::optional<RecordLayout> record_layout() const override { return layout(); }

 protected:
  virtual RecordLayout layout() const = 0;
  /// Whether events have an AWS service: `{service}` and `aws_services` are allowed.
  virtual bool by_aws_service() const = 0;
};

/// "" when `tmpl` is a usable routing template with only the named placeholders.
std::string check_routing_template(std::string_view tmpl, const std::vector<std::string_view>& allowed);

/// Reads `routing_template`, `ack_messages` and the `claim_*` options into `s` (which holds the
/// handler's defaults) and marks the keys of Devo's generic custom_service as not used.
result<void> parse_common_options(ServiceOptions& o, ServiceSettings& s, std::string_view service,
                                  Diagnostics& diag);

/// Reads `aws_services` (or `services`): AWS service names or event sources to keep.
result<void> parse_aws_services(ServiceOptions& o, ServiceSettings& s, Diagnostics& diag);

/// The name of the first member of the first JSON object in `head` (after whitespace and a
/// byte order mark), or "" when `head` does not start that way. Names with escapes give "".
std::string_view first_member(std::string_view head);

/// Whether `head` has the member `"name":"value"` (compact, as AWS writes it) anywhere.
bool has_member(std::string_view head, std::string_view name, std::string_view value);

}  // namespace ctsqs::services
