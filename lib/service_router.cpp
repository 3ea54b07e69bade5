// ServiceRouter: which configured service decodes an object or an inline event (claim rules,
// then content recognition), and the decoder that holds an object's first bytes until that is
// decided.
#include "ctsqs/decode/service_router.hpp"
#include "detail/decompressed_head.hpp"

#include "detail/diag_errors.hpp"
#include "detail/failed_decoder.hpp"

#include <zlib.h>

#include <algorithm>
#include <stdexcept>

namespace ctsqs {

namespace {

/// Decompressed bytes enough to recognise a format (a CloudWatch Logs envelope, a finding).
constexpr std::size_t kHeadBytes = 4096;
/// Raw bytes held at most while deciding; beyond it the head is whatever came out by then.
constexpr std::size_t kMaxHeldBytes = 1 << 20;

bool contains_any(std::string_view key, const std::vector<std::string>& parts) {
  return std::any_of(parts.begin(), parts.end(), [&](const std::string& p) { return key.find(p) != key.npos; });
}

bool starts_with_any(std::string_view key, const std::vector<std::string>& prefixes) {
  return std::any_of(prefixes.begin(), prefixes.end(), [&](const std::string& p) { return key.starts_with(p); });
}

}  // namespace

std::string decompressed_head(std::string_view raw, std::size_t max_bytes) {
  if (raw.size() < 2 || static_cast<unsigned char>(raw[0]) != 0x1f || static_cast<unsigned char>(raw[1]) != 0x8b)
    return std::string(raw.substr(0, max_bytes));
  z_stream zs{};
  if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) return {};
  std::string out(max_bytes, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(raw.data()));
  zs.avail_in = static_cast<uInt>(std::min<std::size_t>(raw.size(), UINT32_MAX));
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(max_bytes);
  const int rc = inflate(&zs, Z_SYNC_FLUSH);
  out.resize(rc == Z_OK || rc == Z_STREAM_END || rc == Z_BUF_ERROR ? zs.total_out : 0);
  inflateEnd(&zs);
  return out;
}

/// The decoder the factory hands out: the claiming service's decoder once it is known; until
/// then (content recognition) the object's first bytes are held; unclaimed payloads fail.
class ClaimingDecoder final : public PayloadDecoder {
 public:
  ClaimingDecoder(std::shared_ptr<const ServiceRouter> router, std::string name)
      : router_(std::move(router)), name_(std::move(name)) {}

  void choose(std::size_t service) {
    service_ = service;
    inner_ = router_->decoder_for(service, name_);
    observing_ = observer_ && inner_->observe_content(std::move(observer_));
    router_->counters_[service].objects.fetch_add(1, std::memory_order_relaxed);
  }
  void refuse(std::string message) { refused_ = std::move(message); }

  result<void> feed(std::string_view chunk, std::vector<Event>& out, Diagnostics& diag) override {
    if (inner_) return counted(out, [&] { return inner_->feed(chunk, out, diag); });
    if (!refused_.empty()) return refusal(diag);
    held_.append(chunk);
    const auto head = decompressed_head(held_, kHeadBytes);
    if (head.size() < kHeadBytes && held_.size() < kMaxHeldBytes) return {};
    return decide(head, out, diag);
  }

  result<void> finish(std::vector<Event>& out, Diagnostics& diag) override {
    if (!inner_ && refused_.empty())
      if (auto r = decide(decompressed_head(held_, kHeadBytes), out, diag); !r) return r;
    if (!inner_) return refusal(diag);
    return counted(out, [&] { return inner_->finish(out, diag); });
  }

  std::uint64_t filtered() const noexcept override { return inner_ ? inner_->filtered() : 0; }
  SkipReason skipped() const noexcept override { return inner_ ? inner_->skipped() : SkipReason::none; }
  // Handed to the claiming service's decoder once it is known (it is fed every held byte).
  bool observe_content(ContentObserver observer) override {
    if (inner_) return observing_ = inner_->observe_content(std::move(observer));
    observer_ = std::move(observer);
    return true;
  }
  bool content_observed() const noexcept override { return inner_ && observing_ && inner_->content_observed(); }

 private:
  result<void> decide(std::string_view head, std::vector<Event>& out, Diagnostics& diag) {
    auto service = router_->claim_content(head);
    if (!service) {
      held_.clear();
      refuse(router_->unclaimed_message("object " + name_ + " by its key or content"));
      return refusal(diag);
    }
    choose(*service);
    std::string held = std::move(held_);
    held_.clear();
    return counted(out, [&] { return inner_->feed(held, out, diag); });
  }
  // A decode error: permanent for the message (the bytes and the rules will not change).
  result<void> refusal(Diagnostics& diag) const {
    diag.message = refused_;
    return make_error_code(decode_errc::unclaimed);
  }
  template <class F>
  result<void> counted(std::vector<Event>& out, F&& f) {
    const auto before = out.size();
    auto r = f();
    router_->counters_[service_].events.fetch_add(out.size() - before, std::memory_order_relaxed);
    return r;
  }

  std::shared_ptr<const ServiceRouter> router_;
  std::string name_;
  std::string held_;
  std::string refused_;
  std::unique_ptr<PayloadDecoder> inner_;
  std::size_t service_ = 0;
  ContentObserver observer_;  // until the service is known
  bool observing_ = false;
};

result<std::shared_ptr<ServiceRouter>> ServiceRouter::create(std::vector<ConfiguredService> services,
                                                             DecoderOptions options, Diagnostics& diag) {
  if (services.empty()) return detail::invalid_argument(diag, "no service configured");
  for (auto& s : services) {
    if (!s.handler) return detail::invalid_argument(diag, "service " + s.settings.configured_name + " has no handler");
    // Fail at configuration time, not on the first object.
    if (auto d = s.handler->make_payload_decoder(s.settings, options, diag); !d) return d.error();
  }
  return std::shared_ptr<ServiceRouter>(new ServiceRouter(std::move(services), options));
}

ServiceRouter::ServiceRouter(std::vector<ConfiguredService> services, DecoderOptions options)
    : services_(std::move(services)), options_(options), counters_(new Counters[services_.size()]) {}

std::optional<std::size_t> ServiceRouter::claim_key(std::string_view key) const {
  for (std::size_t i = 0; i < services_.size(); ++i) {
    const auto& c = services_[i].settings.claim;
    if (contains_any(key, c.key_contains) || starts_with_any(key, c.key_prefixes)) return i;
  }
  return std::nullopt;
}

std::optional<std::size_t> ServiceRouter::claim_source(std::string_view source) const {
  for (std::size_t i = 0; i < services_.size(); ++i) {
    const auto& sources = services_[i].settings.claim.event_sources;
    if (std::find(sources.begin(), sources.end(), source) != sources.end()) return i;
  }
  return std::nullopt;
}

std::optional<std::size_t> ServiceRouter::claim_content(std::string_view head) const {
  for (std::size_t i = 0; i < services_.size(); ++i)
    if (services_[i].settings.claim.by_content && services_[i].handler->recognizes(head)) return i;
  return std::nullopt;
}

std::string ServiceRouter::unclaimed_message(std::string_view what) const {
  std::string m = "no service claims " + std::string(what) + " (";
  for (std::size_t i = 0; i < services_.size(); ++i) {
    if (i) m += "; ";
    m += services_[i].settings.configured_name + ": " + describe(services_[i].settings.claim);
  }
  return m + ")";
}

std::unique_ptr<PayloadDecoder> ServiceRouter::decoder_for(std::size_t service, std::string_view name) const {
  const auto& s = services_[service];
  Diagnostics why;
  auto d = detail::decoder_or_failure(s.handler->make_payload_decoder(s.settings, options_, why), why);
  d->begin(name);
  return d;
}

PayloadDecoderFactory ServiceRouter::make_factory() {
  return [self = shared_from_this()](const ObjectRef& object,
                                     std::string_view event_source) -> std::unique_ptr<PayloadDecoder> {
    auto d = std::make_unique<ClaimingDecoder>(self, object.key);
    std::optional<std::size_t> service;
    if (self->services_.size() == 1)
      service = 0;
    else if (object.key.empty())
      service = self->claim_source(event_source);
    else
      service = self->claim_key(object.key);
    if (service)
      d->choose(*service);
    else if (object.key.empty())
      d->refuse(self->unclaimed_message("events from EventBridge source \"" +
                                        std::string(event_source.substr(0, 64)) +
                                        (event_source.size() > 64 ? "...\"" : "\"")));
    return d;
  };
}

std::vector<ServiceCounts> ServiceRouter::counts() const {
  std::vector<ServiceCounts> out;
  for (std::size_t i = 0; i < services_.size(); ++i)
    out.push_back({services_[i].settings.configured_name, counters_[i].objects.load(std::memory_order_relaxed),
                   counters_[i].events.load(std::memory_order_relaxed)});
  return out;
}

}  // namespace ctsqs
