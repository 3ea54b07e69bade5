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
  refused,           ///< understood, but refused by an allow-list (NotificationAllowList)
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
  std::string eventbridge_source;   ///< EventBridge events: `source` (e.g. "aws.s3")
  std::string eventbridge_account;  ///< EventBridge events: `account` (the bucket owner, the event's account)
  /// EventBridge "via CloudTrail" events: the record's `recipientAccountId`, when given.
  std::string record_account;
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

/// Opt-in allow-lists for what a message may make the collector read or deliver (anyone
/// allowed to `sqs:SendMessage` can make up a body). Empty lists allow anything.
struct NotificationAllowList {
  std::vector<std::string> buckets;   ///< objects only from these buckets
  /// Only these 12-digit accounts: an EventBridge event's `account`, an inline record's
  /// `recipientAccountId`, and the account in an object's CloudTrail key
  /// (`.../AWSLogs/[o-org/]<account>/...`; a key without one is refused).
  std::vector<std::string> accounts;
  /// EventBridge `source` values accepted. Empty: `aws.s3` for S3 events (the parser's rule)
  /// and any `aws.*` source (only AWS services emit those) for "... via CloudTrail" events.
  std::vector<std::string> eventbridge_sources;
};

/// The account of a CloudTrail log key (`[prefix/]AWSLogs/[o-org/]<12 digits>/...`), or "".
std::string cloudtrail_key_account(std::string_view key);

/// `notification_errc::refused` when `n` announces something `allow` does not allow (the
/// default `aws.*` source rule for "via CloudTrail" events always applies); `diag.message`
/// names what was refused (bucket, account or source, quoted cut short) and the list.
result<void> check_allowed(const Notification& n, const NotificationAllowList& allow, Diagnostics& diag);

/// parse_notification without the human detail.
result<Notification> parse_notification(std::string_view body);

/// Decodes an S3 event notification key: `+` → space, `%XX` → byte. False on a malformed
/// escape (`%` not followed by two hex digits); `out` is then unspecified.
bool decode_s3_event_key(std::string_view encoded, std::string& out);

}  // namespace ctsqs

template <>
struct boost::system::is_error_code_enum<ctsqs::notification_errc> : std::true_type {};
