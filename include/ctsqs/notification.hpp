// Notification: what one SQS message body announces (S3 objects to fetch, or inline CloudTrail records), from every real body format.
#pragma once

#include "ctsqs/error.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ctsqs {

/// Why a body could not be read as a notification. Every one is permanent: the same body will
/// never parse, so the message follows the poison-message policy (dead-letter queue).
enum class notification_errc : int {
  not_json = 1,      ///< the body (or an SNS Message) is not JSON
  unrecognised,      ///< JSON, but none of the known formats
  invalid_field,     ///< a known format with a missing or wrong field (the message names it)
};

/// The category of notification_errc ("ctsqs.notification").
const boost::system::error_category& notification_category() noexcept;

inline error_code make_error_code(notification_errc e) noexcept {
  return {static_cast<int>(e), notification_category()};
}

/// The body formats parse_notification recognises.
enum class NotificationFormat {
  s3_event,                    ///< S3 event notification: {"Records":[{"eventSource":"aws:s3",...}]}
  s3_test_event,               ///< {"Service":"Amazon S3","Event":"s3:TestEvent",...}: acknowledge quietly
  /// CloudTrail's check of its SNS topic: the SNS Message (or, with raw delivery, the body) is
  /// the text "CloudTrail validation message.": acknowledge quietly
  cloudtrail_test_message,
  cloudtrail_sns,              ///< CloudTrail's own notification: {"s3Bucket":..., "s3ObjectKey":[...]}
  eventbridge_s3,              ///< EventBridge S3 event ("Object Created"; others are ignored)
  eventbridge_cloudtrail,      ///< EventBridge "AWS API Call via CloudTrail" (and other "... via CloudTrail")
  eventbridge_guardduty,       ///< EventBridge "GuardDuty Finding" from aws.guardduty
};

/// "s3_event", "s3_test_event", ... (for logs and metrics labels).
std::string_view to_string(NotificationFormat f) noexcept;

/// One S3 object a notification announces.
struct NotifiedObject {
  std::string bucket;
  std::string key;         ///< the real object key: URL-decoded for S3 event records
  std::string region;      ///< the bucket's region from the notification (awsRegion/region); may be empty
  std::optional<std::uint64_t> size;  ///< announced size, when given
  std::string etag;        ///< when given
  std::string version_id;  ///< when given (versioned buckets)
  std::string sequencer;   ///< when given
  std::string event_name;  ///< "ObjectCreated:Put", "Object Created", or empty (CloudTrail SNS)
};

/// A record of a notification that announces nothing to collect, and why.
struct IgnoredRecord {
  std::string event_name;  ///< e.g. "ObjectRemoved:Delete", "Object Deleted"
  std::string reason;      ///< e.g. "not an ObjectCreated event"
};

/// What one SQS message body announces.
struct Notification {
  NotificationFormat format = NotificationFormat::s3_event;
  bool via_sns = false;          ///< the body was an SNS envelope (raw delivery off) that was unwrapped
  std::string sns_topic_arn;     ///< the envelope's TopicArn, when via_sns
  std::string sns_message_id;    ///< the envelope's MessageId, when via_sns
  std::vector<NotifiedObject> objects;      ///< S3 objects to fetch, in announcement order
  /// Events delivered inline (EventBridge `detail`), each as compact JSON text; they are routed
  /// like events from an object, without any S3 fetch: CloudTrail records (detail-type
  /// "... via CloudTrail") and events of other sources (a GuardDuty finding).
  std::vector<std::string> inline_records;
  /// Their EventBridge source: "aws.cloudtrail" for CloudTrail API-call events (whose own
  /// `source` is the called service), else the event's `source` (e.g. "aws.guardduty").
  std::string inline_source;
  std::vector<IgnoredRecord> ignored;       ///< records skipped on purpose (not ObjectCreated, ...)

  /// A known test message (s3:TestEvent, CloudTrail's validation message): nothing to collect.
  bool is_test_event() const noexcept {
    return format == NotificationFormat::s3_test_event || format == NotificationFormat::cloudtrail_test_message;
  }
  /// Nothing to fetch or deliver (test event, or every record ignored): safe to delete at once.
  bool empty() const noexcept { return objects.empty() && inline_records.empty(); }
};

/// Parses an SQS message body in any of the formats of NotificationFormat, directly or inside
/// an SNS envelope (`{"Type":"Notification","Message":"<JSON as a string>",...}`; SNS raw
/// delivery is the inner format itself).
///
/// S3 event records: any eventVersion with the S3 shape (`eventSource` "aws:s3", `s3.bucket`,
/// `s3.object`); only `ObjectCreated:*` records become objects, other S3 events go to `ignored`
/// with a reason; a record that is not S3's makes the whole body unrecognised. Keys are
/// URL-decoded the way S3 encodes them (`+` is a space, `%2B` a plus). CloudTrail SNS and EventBridge keys are used as they are (not encoded).
/// EventBridge S3 events other than "Object Created" are ignored with a reason.
///
/// Errors (all permanent, see notification_errc) fill `diag.message` with what was wrong and
/// the quoted start of the body (120 bytes); a field value it quotes (an SNS Type, an
/// EventBridge detail-type or source, a key) is cut at 64 bytes with "...". Pure: no I/O, no allocation beyond the result.
result<Notification> parse_notification(std::string_view body, Diagnostics& diag);

/// parse_notification without the human detail.
result<Notification> parse_notification(std::string_view body);

/// Decodes an S3 event notification key: `+` → space, `%XX` → byte. False on a malformed
/// escape (`%` not followed by two hex digits); `out` is then unspecified.
bool decode_s3_event_key(std::string_view encoded, std::string& out);

}  // namespace ctsqs

template <>
struct boost::system::is_error_code_enum<ctsqs::notification_errc> : std::true_type {};
