// CloudTrailDecoder: streaming decoder of CloudTrail log objects (gzip or plain JSON) into Events.
#pragma once

#include "ctsqs/detail/function_ref.hpp"
#include "ctsqs/error.hpp"
#include "ctsqs/event.hpp"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>

namespace ctsqs {

class TagLimits;

/// Why a CloudTrail object could not be decoded. Category "ctsqs.decode".
enum class decode_errc : int {
  corrupt_gzip = 1,      ///< gzip data is invalid (bad header, bad block, CRC/length mismatch)
  truncated_gzip,        ///< the object ended inside a gzip member
  unsupported_compression,  ///< bzip2/xz/zstd/zip magic: not something CloudTrail writes
  invalid_json,          ///< syntax error, invalid UTF-8, nesting too deep
  truncated_json,        ///< the object ended inside the JSON document
  trailing_data,         ///< non-whitespace after the JSON document
  not_an_object,         ///< the document is not a JSON object
  records_missing,       ///< the object has no `Records` member (and is not a digest)
  records_not_array,     ///< `Records` is not an array
  record_not_object,     ///< an element of `Records` is not an object
  object_too_large,      ///< the uncompressed object exceeds DecoderOptions::max_object_bytes
  record_too_large,      ///< one record exceeds DecoderOptions::max_record_bytes
  unclaimed,             ///< no configured service claims the object (ServiceRouter)
};

/// The category of decode_errc.
const boost::system::error_category& decode_category() noexcept;

inline error_code make_error_code(decode_errc e) noexcept {
  return {static_cast<int>(e), decode_category()};
}

/// Why an object produced no events on purpose.
enum class SkipReason {
  none,                      ///< not skipped: decoded as a log file
  digest,                    ///< a CloudTrail digest file (`CloudTrail-Digest` key or digest content)
  config_writability_check,  ///< a `ConfigWritabilityCheckFile` object
  empty,                     ///< no bytes, or only whitespace, after decompression
};

/// "digest", "config-writability-check", "empty", "none".
std::string_view to_string(SkipReason r) noexcept;

/// How an object's bytes were stored, detected from its magic bytes.
enum class Compression { unknown, none, gzip };

/// Where the records sit in the decompressed bytes of an object. Every layout reads gzip (one or
/// several members) or plain bytes and streams: memory is bounded by the largest record.
enum class RecordLayout {
  /// One document `{"Records":[record,...]}`: CloudTrail log files (and inline events).
  records_array,
  /// Records as JSON objects one after another, newline-delimited or simply concatenated
  /// (`}{`): GuardDuty findings exported to S3 (`.jsonl.gz`), CloudTrail records delivered by
  /// Firehose with message extraction on.
  json_values,
  /// EventBridge events one after another (with or without newlines); each event's `detail`
  /// is the record: GuardDuty findings delivered by EventBridge → Firehose.
  eventbridge_events,
  /// CloudWatch Logs subscription messages one after another (Firehose writes `}{`); the
  /// `message` of each `logEvents` element is one record as JSON text; `CONTROL_MESSAGE`s are
  /// skipped. A value whose first member is not one of such a message's (`messageType`,
  /// `owner`, `logGroup`, `logStream`, `subscriptionFilters`, `logEvents`) is a record itself,
  /// as Firehose writes them with message extraction on: CloudTrail through CloudWatch Logs.
  cloudwatch_logs,
};

/// "records_array", "json_values", "eventbridge_events", "cloudwatch_logs".
std::string_view to_string(RecordLayout l) noexcept;

/// Settings of a CloudTrailDecoder. Plain aggregate; see `validate`.
struct DecoderOptions {
  /// Where the records are (the service's format; set by its handler, not by the user's caps).
  RecordLayout layout = RecordLayout::records_array;
  /// Cap on the uncompressed size of one object (gzip-bomb protection).
  std::uint64_t max_object_bytes = std::uint64_t{4} << 30;
  /// Cap on one record: compact JSON plus flattened columns as built (bounds memory).
  std::size_t max_record_bytes = std::size_t{16} << 20;
  /// Build `Event::record` (compact JSON of the record; needed by raw and devo output).
  bool build_record = true;
  /// Build `Event::columns` (flattened; needed by flat output).
  bool build_columns = true;
  /// `decode_buffer` inflates a whole gzip object at once (ISA-L or libdeflate, see the build
  /// option CTSQS_INFLATE) when its uncompressed size is at most this; larger objects are
  /// streamed.
  std::size_t whole_buffer_limit = std::size_t{32} << 20;
  /// `feed` gathers up to this many bytes of a gzip object before decoding it: an object that
  /// ends within it is inflated in one go like `decode_buffer` (faster); a larger one is then
  /// streamed (ISA-L, or zlib) from the start. Events of a gathered object come out in `finish`.
  /// 0 = always stream. Memory per decoder: this plus `whole_buffer_limit`, at most.
  std::size_t gather_bytes = std::size_t{4} << 20;
  /// Maximum JSON nesting depth (the whole document, including `{"Records":[`).
  std::size_t max_depth = 100;
  /// The tag bounds the service decoders' TagRouters share: one set per collector
  /// (build_collector makes it from `tags.max_distinct`); null = TagLimits::process_wide().
  /// The CloudTrailDecoder itself does not use it.
  std::shared_ptr<TagLimits> tag_limits;
};

/// `invalid_argument` with a message naming the field when a setting is unusable.
result<void> validate(const DecoderOptions& o, Diagnostics& diag);

/// What decoding one object produced.
struct ObjectSummary {
  std::string object_name;             ///< as given to `begin`
  std::uint64_t events = 0;            ///< events handed to the handler
  std::uint64_t compressed_bytes = 0;  ///< bytes fed in
  std::uint64_t uncompressed_bytes = 0;  ///< bytes after decompression
  Compression compression = Compression::unknown;
  SkipReason skipped = SkipReason::none;  ///< not `none`: the object was recognised and skipped
};

/// "name: 12 events (gzip, 3456 -> 78901 bytes)" or "name: skipped (digest)", for logs.
std::ostream& operator<<(std::ostream& os, const ObjectSummary& s);

/// Receives the uncompressed content of an object piece by piece, in order (see
/// CloudTrailDecoder::observe_content).
using ContentObserver = std::function<void(std::string_view bytes)>;

/// Called once per decoded record. The Event is owned by the decoder and reused for the next
/// record: copy or move out what you keep (moving out is fine; the decoder re-grows the strings).
using EventHandler = detail::function_ref<void(Event&)>;

/// Streaming decoder of one CloudTrail S3 object at a time: `begin`, `feed` chunks as they
/// arrive, `finish`. Gzip (also multi-member) or plain JSON is detected from the magic bytes.
/// Memory is bounded by the largest record, not by the object.
///
/// Each record of `{"Records":[...]}` becomes an Event with `record` and/or `columns` (see
/// DecoderOptions) and the routing fields (`event_source`, `event_type`, `recipient_account`,
/// `aws_region`); `tag` is left empty for the TagRouter. Objects whose key contains
/// `CloudTrail-Digest` or `ConfigWritabilityCheckFile` are skipped without parsing; content
/// that is a digest (digest members, no `Records`) or empty is skipped too; `ObjectSummary`
/// says why.
///
/// Errors (bad gzip, bad JSON, wrong shape, caps exceeded) are sticky until the next `begin`:
/// `feed`/`finish` return the error and fill `Diagnostics::message` with the object name, the
/// byte offset (compressed for gzip errors, uncompressed for JSON) and/or the record index,
/// and how many events were already emitted from the object (`summary().events`).
///
/// The handler may throw (e.g. when its sink fails): the exception leaves `feed`/`finish` and the
/// object must be started again with `begin`.
///
/// Pure: no I/O, no clock. Not thread-safe; use one decoder per thread. Reusable: `begin`
/// starts the next object and keeps the buffers.
class CloudTrailDecoder {
 public:
  explicit CloudTrailDecoder(DecoderOptions options = {});
  ~CloudTrailDecoder();
  CloudTrailDecoder(CloudTrailDecoder&&) noexcept;
  CloudTrailDecoder& operator=(CloudTrailDecoder&&) noexcept;

  const DecoderOptions& options() const noexcept;

  /// Start decoding the object named `object_name` (S3 key or file name: used for digest and
  /// ConfigWritabilityCheckFile recognition and in error messages).
  void begin(std::string_view object_name);

  /// Decode the next chunk of the object's bytes; `handler` is called for each complete record.
  result<void> feed(std::span<const std::byte> chunk, EventHandler handler, Diagnostics& diag);
  /// Convenience overload for text/char buffers.
  result<void> feed(std::string_view chunk, EventHandler handler, Diagnostics& diag) {
    return feed(std::as_bytes(std::span<const char>(chunk.data(), chunk.size())), handler, diag);
  }

  /// The object ended: check it was complete and return what it produced.
  result<ObjectSummary> finish(EventHandler handler, Diagnostics& diag);

  /// The object so far (events emitted, bytes seen): valid after an error too.
  const ObjectSummary& summary() const noexcept;

  /// Hands every uncompressed byte of the objects that follow to `observer` (empty: none), in
  /// order, as the decoder produces it (its own inflate output: a caller that needs the
  /// content's SHA-256 does not inflate a second time). Called on the thread that feeds.
  void observe_content(ContentObserver observer);
  /// After a successful `finish`: whether the observer saw the whole uncompressed content of a
  /// gzip object. False for objects skipped by key (digests), plain (not gzip) bytes, no bytes,
  /// or without an observer.
  bool content_observed() const noexcept;

  /// `begin` + `feed(whole)` + `finish`, inflating small gzip objects in one go.
  result<ObjectSummary> decode_buffer(std::string_view object_name,
                                      std::span<const std::byte> whole, EventHandler handler,
                                      Diagnostics& diag);
  /// Convenience overload for text/char buffers.
  result<ObjectSummary> decode_buffer(std::string_view object_name, std::string_view whole,
                                      EventHandler handler, Diagnostics& diag) {
    return decode_buffer(object_name,
                         std::as_bytes(std::span<const char>(whole.data(), whole.size())), handler,
                         diag);
  }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// Skip reason implied by the object's key alone (`CloudTrail-Digest`,
/// `ConfigWritabilityCheckFile`), or `none`.
SkipReason skip_reason_for_key(std::string_view object_name) noexcept;

}  // namespace ctsqs

template <>
struct boost::system::is_error_code_enum<ctsqs::decode_errc> : std::true_type {};
