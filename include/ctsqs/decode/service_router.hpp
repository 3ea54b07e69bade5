// ServiceRouter: several Devo services in one collector. Each object (or event carried in a
// message) goes to the service whose claim rule takes it: the S3 key (substring, prefix), the
// EventBridge source, else the first service that recognises the object's content. What no
// service claims is a permanent failure of its message, named in the error.
#pragma once

#include "ctsqs/collector/collector.hpp"
#include "ctsqs/decode/service_handler.hpp"

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ctsqs {

/// One configured service: its handler and settings (ServiceSettings::claim is its rule).
struct ConfiguredService {
  std::shared_ptr<const ServiceHandler> handler;
  ServiceSettings settings;
};

/// Objects and events one service decoded (events before delivery, after its filter).
struct ServiceCounts {
  std::string service;  ///< ServiceSettings::configured_name
  std::uint64_t objects = 0;
  std::uint64_t events = 0;
};

/// Routes payloads to services. With one service, that service takes everything (its rule is
/// not consulted: a single-service collector reads every object its queue announces); with
/// several, claim rules decide in service order.
///
/// Thread safety: claim_*() and counts() from any thread; decoders from make_factory() are used
/// as PayloadDecoders are (one thread at a time each).
class ServiceRouter : public std::enable_shared_from_this<ServiceRouter> {
 public:
  /// The router of `services`, or `invalid_argument` (diag naming the service and field) when
  /// `services` is empty, one has no handler, or its settings fail its handler's check().
  static result<std::shared_ptr<ServiceRouter>> create(std::vector<ConfiguredService> services,
                                                       DecoderOptions options, Diagnostics& diag);

  /// The service whose key rule (substring or prefix) takes `key`, in service order.
  std::optional<std::size_t> claim_key(std::string_view key) const;
  /// The service whose rule lists this EventBridge source.
  std::optional<std::size_t> claim_source(std::string_view source) const;
  /// The first service allowing content recognition whose handler recognises `head` (the first
  /// decompressed bytes of an object).
  std::optional<std::size_t> claim_content(std::string_view head) const;

  /// The collector's decoder factory: a decoder for the claiming service, begun on the key.
  /// Objects no key rule takes are buffered until their first decompressed bytes decide (content
  /// recognition); if nothing claims them, feed()/finish() fail naming the key and the rules.
  PayloadDecoderFactory make_factory();

  /// Per service, in configuration order.
  std::vector<ServiceCounts> counts() const;
  std::size_t size() const noexcept { return services_.size(); }
  const ConfiguredService& service(std::size_t i) const { return services_.at(i); }

  /// "no service claims <what> (aws_sqs_cloudtrail: <rule>; aws_sqs_guard_duty: <rule>)".
  std::string unclaimed_message(std::string_view what) const;

  struct Counters {
    std::atomic<std::uint64_t> objects{0}, events{0};
  };

 private:
  ServiceRouter(std::vector<ConfiguredService> services, DecoderOptions options);
  std::unique_ptr<PayloadDecoder> decoder_for(std::size_t service, std::string_view name) const;
  friend class ClaimingDecoder;

  std::vector<ConfiguredService> services_;
  DecoderOptions options_;
  std::unique_ptr<Counters[]> counters_;
};

}  // namespace ctsqs
