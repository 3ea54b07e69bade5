// parse_notification: S3 events, s3:TestEvent, SNS envelopes, CloudTrail SNS and EventBridge bodies (Boost.JSON).
#include "ctsqs/collector/notification.hpp"
#include "detail/error_category.hpp"
#include "detail/text.hpp"
#include "ctsqs/decode/log_key.hpp"

#include "detail/protocol_util.hpp"

#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <algorithm>
#include <charconv>

namespace ctsqs {
namespace json = boost::json;
namespace {

const char* describe(notification_errc e) noexcept {
  switch (e) {
    case notification_errc::not_json: return "notification body is not JSON";
    case notification_errc::unrecognised: return "unrecognised notification format";
    case notification_errc::invalid_field: return "invalid notification field";
    case notification_errc::refused: return "notification refused by an allow-list";
  }
  return nullptr;
}

// What an error quotes of one untrusted field value (a type, a source, a key): short.
constexpr std::size_t field_quote_max = 64;

std::string quote_field(std::string_view value) { return detail::quote_start(value, field_quote_max); }

// CloudTrail checks that it may publish to a trail's SNS topic with this message (plain text,
// the SNS Message itself, or the whole body with raw delivery).
constexpr std::string_view cloudtrail_validation_message = "CloudTrail validation message.";

bool is_cloudtrail_validation(std::string_view text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) text.remove_suffix(1);
  return text == cloudtrail_validation_message;
}

struct Parser {
  std::string_view body;  // the whole SQS body, quoted in errors
  Diagnostics& diag;

  error_code fail(notification_errc e, std::string what) {
    diag.clear();
    diag.message = std::move(what) + "; body starts " + detail::quote_start(body);
    return make_error_code(e);
  }

  static const json::string* str(const json::object& o, std::string_view key) {
    auto it = o.find(key);
    return it != o.end() && it->value().is_string() ? &it->value().as_string() : nullptr;
  }
  static const json::object* obj(const json::object& o, std::string_view key) {
    auto it = o.find(key);
    return it != o.end() && it->value().is_object() ? &it->value().as_object() : nullptr;
  }
  static std::optional<std::uint64_t> size_of(const json::object& o, std::string_view key) {
    auto it = o.find(key);
    if (it == o.end()) return std::nullopt;
    const auto& v = it->value();
    if (v.is_uint64()) return v.as_uint64();
    if (v.is_int64() && v.as_int64() >= 0) return static_cast<std::uint64_t>(v.as_int64());
    if (v.is_string()) {  // some producers quote numbers
      std::uint64_t n = 0;
      const auto& s = v.as_string();
      auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
      if (ec == std::errc() && p == s.data() + s.size() && !s.empty()) return n;
    }
    return std::nullopt;
  }

  static bool is_object_created(std::string_view event_name) {
    if (event_name.substr(0, 3) == "s3:") event_name.remove_prefix(3);
    return event_name.substr(0, 14) == "ObjectCreated:";
  }

  result<Notification> parse_value(const json::value& v, bool inside_sns) {
    if (!v.is_object())
      return fail(notification_errc::unrecognised,
                  std::string(inside_sns ? "SNS Message" : "body") + " is JSON but not an object");
    const auto& o = v.as_object();
    if (o.contains("Records")) return s3_event(o);
    if (auto* event = str(o, "Event"); event && *event == "s3:TestEvent") {
      Notification n;
      n.format = NotificationFormat::s3_test_event;
      return n;
    }
    if (o.contains("s3Bucket") || o.contains("s3ObjectKey")) return cloudtrail_sns(o);
    if (o.contains("detail-type") && o.contains("source")) return eventbridge(o);
    if (auto* type = str(o, "Type"); type && o.contains("Message") && o.contains("TopicArn")) {
      if (inside_sns) return fail(notification_errc::unrecognised, "SNS envelope nested in an SNS envelope");
      return sns(o, *type);
    }
    return fail(notification_errc::unrecognised,
                std::string(inside_sns ? "SNS Message" : "body") +
                    " is none of: S3 event notification, s3:TestEvent, SNS envelope, CloudTrail SNS "
                    "notification, EventBridge event");
  }

  result<Notification> sns(const json::object& o, std::string_view type) {
    if (type != "Notification")
      return fail(notification_errc::unrecognised, "SNS message of Type " + quote_field(type) +
                                                       " carries no notification (expected Type \"Notification\")");
    const json::string* message = str(o, "Message");
    if (!message) return fail(notification_errc::invalid_field, "SNS envelope: Message is not a string");
    if (is_cloudtrail_validation(*message)) {
      Notification n;
      n.format = NotificationFormat::cloudtrail_test_message;
      n.via_sns = true;
      return n;
    }
    boost::system::error_code ec;
    json::value inner = json::parse(*message, ec);
    if (ec)
      return fail(notification_errc::not_json, "SNS envelope: Message is not JSON (" + ec.message() +
                                                   "), Message starts " + detail::quote_start(*message));
    auto n = parse_value(inner, true);
    if (!n) return n;
    n->via_sns = true;
    if (auto* t = str(o, "TopicArn")) n->sns_topic_arn = std::string(*t);
    if (auto* id = str(o, "MessageId")) n->sns_message_id = std::string(*id);
    return n;
  }

  result<Notification> s3_event(const json::object& o) {
    const auto& records = o.at("Records");
    if (!records.is_array()) return fail(notification_errc::invalid_field, "Records is not an array");
    if (records.as_array().empty()) return fail(notification_errc::invalid_field, "Records is empty");
    Notification n;
    n.format = NotificationFormat::s3_event;
    std::size_t index = 0;
    for (const auto& rv : records.as_array()) {
      std::string where = "Records[" + std::to_string(index++) + "]";
      if (!rv.is_object()) return fail(notification_errc::invalid_field, where + " is not an object");
      const auto& r = rv.as_object();
      const json::string* source = str(r, "eventSource");
      const json::object* s3 = obj(r, "s3");
      std::string event_name = str(r, "eventName") ? std::string(*str(r, "eventName")) : std::string();
      // Any eventVersion with the S3 shape is read (S3 raises the minor version for new
      // fields and may raise the major one); a record that is not S3's is not understood.
      if ((source && *source != "aws:s3") || (!source && !s3))
        return fail(notification_errc::unrecognised,
                    where + " is not an S3 event record (eventSource " +
                        (source ? quote_field(*source) : std::string("missing")) + ")");
      if (!is_object_created(event_name)) {
        n.ignored.push_back({event_name, "not an ObjectCreated event"});
        continue;
      }
      if (!s3) return fail(notification_errc::invalid_field, where + ".s3 is missing");
      const json::object* bucket = obj(*s3, "bucket");
      const json::object* object = obj(*s3, "object");
      const json::string* name = bucket ? str(*bucket, "name") : nullptr;
      const json::string* key = object ? str(*object, "key") : nullptr;
      if (!name || name->empty()) return fail(notification_errc::invalid_field, where + ".s3.bucket.name is missing");
      if (!key || key->empty()) return fail(notification_errc::invalid_field, where + ".s3.object.key is missing");
      NotifiedObject no;
      no.bucket = std::string(*name);
      if (!decode_s3_event_key(*key, no.key))
        return fail(notification_errc::invalid_field,
                    where + ".s3.object.key " + quote_field(*key) + " has a malformed %-escape");
      if (auto* region = str(r, "awsRegion")) no.region = std::string(*region);
      no.size = size_of(*object, "size");
      if (auto* e = str(*object, "eTag")) no.etag = std::string(*e);
      if (auto* vid = str(*object, "versionId")) no.version_id = std::string(*vid);
      if (auto* seq = str(*object, "sequencer")) no.sequencer = std::string(*seq);
      no.event_name = event_name;
      n.objects.push_back(std::move(no));
    }
    return n;
  }

  result<Notification> cloudtrail_sns(const json::object& o) {
    const json::string* bucket = str(o, "s3Bucket");
    if (!bucket || bucket->empty()) return fail(notification_errc::invalid_field, "s3Bucket is missing or not a string");
    auto it = o.find("s3ObjectKey");
    if (it == o.end() || !it->value().is_array() || it->value().as_array().empty())
      return fail(notification_errc::invalid_field, "s3ObjectKey is missing or not a non-empty array");
    Notification n;
    n.format = NotificationFormat::cloudtrail_sns;
    std::size_t index = 0;
    for (const auto& k : it->value().as_array()) {
      if (!k.is_string() || k.as_string().empty())
        return fail(notification_errc::invalid_field, "s3ObjectKey[" + std::to_string(index) + "] is not a key");
      NotifiedObject no;
      no.bucket = std::string(*bucket);
      no.key = std::string(k.as_string());  // CloudTrail writes the key as stored, not URL-encoded
      n.objects.push_back(std::move(no));
      ++index;
    }
    return n;
  }

  result<Notification> eventbridge(const json::object& o) {
    const json::string* type = str(o, "detail-type");
    const json::string* source = str(o, "source");
    const json::object* detail = obj(o, "detail");
    if (!type || !source) return fail(notification_errc::invalid_field, "EventBridge event: detail-type/source not strings");
    if (!detail) return fail(notification_errc::invalid_field, "EventBridge event: detail is not an object");
    std::string_view t = *type;
    constexpr std::string_view via = "via CloudTrail";
    if (t.size() >= via.size() && t.substr(t.size() - via.size()) == via) {
      if (!str(*detail, "eventName") || !str(*detail, "eventSource"))
        return fail(notification_errc::invalid_field,
                    "EventBridge " + quote_field(t) + " event: detail has no eventName/eventSource");
      Notification n;
      n.format = NotificationFormat::eventbridge_cloudtrail;
      n.inline_records.push_back(json::serialize(*detail));
      n.inline_source = "aws.cloudtrail";
      n.eventbridge_source = std::string(*source);
      if (auto* a = str(o, "account")) n.eventbridge_account = std::string(*a);
      if (auto* a = str(*detail, "recipientAccountId")) n.record_account = std::string(*a);
      return n;
    }
    if (*source == "aws.guardduty" && t == "GuardDuty Finding") {
      Notification n;
      n.format = NotificationFormat::eventbridge_guardduty;
      n.inline_records.push_back(json::serialize(*detail));
      n.inline_source = std::string(*source);
      n.eventbridge_source = std::string(*source);
      if (auto* a = str(o, "account")) n.eventbridge_account = std::string(*a);
      if (auto* a = str(*detail, "accountId")) n.record_account = std::string(*a);
      return n;
    }
    if (*source != "aws.s3")
      return fail(notification_errc::unrecognised, "EventBridge event " + quote_field(t) + " from " +
                                                       quote_field(*source) +
                                                       " is neither an S3 event nor a CloudTrail record");
    Notification n;
    n.format = NotificationFormat::eventbridge_s3;
    n.eventbridge_source = std::string(*source);
    if (auto* a = str(o, "account")) n.eventbridge_account = std::string(*a);
    if (t != "Object Created") {
      n.ignored.push_back({std::string(t), "not an Object Created event"});
      return n;
    }
    const json::object* bucket = obj(*detail, "bucket");
    const json::object* object = obj(*detail, "object");
    const json::string* name = bucket ? str(*bucket, "name") : nullptr;
    const json::string* key = object ? str(*object, "key") : nullptr;
    if (!name || name->empty()) return fail(notification_errc::invalid_field, "EventBridge event: detail.bucket.name is missing");
    if (!key || key->empty()) return fail(notification_errc::invalid_field, "EventBridge event: detail.object.key is missing");
    NotifiedObject no;
    no.bucket = std::string(*name);
    no.key = std::string(*key);
    if (auto* region = str(o, "region")) no.region = std::string(*region);
    no.size = size_of(*object, "size");
    if (auto* e = str(*object, "etag")) no.etag = std::string(*e);
    if (auto* vid = str(*object, "version-id")) no.version_id = std::string(*vid);
    if (auto* seq = str(*object, "sequencer")) no.sequencer = std::string(*seq);
    no.event_name = std::string(t);
    n.objects.push_back(std::move(no));
    return n;
  }
};

using detail::hex_value;

}  // namespace

const boost::system::error_category& notification_category() noexcept {
  static const detail::EnumErrorCategory<notification_errc> cat("ctsqs.notification", describe, "unknown notification error");
  return cat;
}

std::string_view to_string(NotificationFormat f) noexcept {
  switch (f) {
    case NotificationFormat::s3_event: return "s3_event";
    case NotificationFormat::s3_test_event: return "s3_test_event";
    case NotificationFormat::cloudtrail_test_message: return "cloudtrail_test_message";
    case NotificationFormat::cloudtrail_sns: return "cloudtrail_sns";
    case NotificationFormat::eventbridge_s3: return "eventbridge_s3";
    case NotificationFormat::eventbridge_cloudtrail: return "eventbridge_cloudtrail";
    case NotificationFormat::eventbridge_guardduty: return "eventbridge_guardduty";
  }
  return "unknown";
}

bool decode_s3_event_key(std::string_view encoded, std::string& out) {
  out.clear();
  out.reserve(encoded.size());
  for (std::size_t i = 0; i < encoded.size(); ++i) {
    char c = encoded[i];
    if (c == '+') {
      out += ' ';
    } else if (c == '%') {
      if (encoded.size() - i < 3) return false;
      int hi = hex_value(encoded[i + 1]);
      int lo = hex_value(encoded[i + 2]);
      if (hi < 0 || lo < 0) return false;
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else {
      out += c;
    }
  }
  return true;
}

result<Notification> parse_notification(std::string_view body, Diagnostics& diag) {
  Parser p{body, diag};
  if (is_cloudtrail_validation(body)) {  // raw delivery: the SNS Message is the body
    Notification n;
    n.format = NotificationFormat::cloudtrail_test_message;
    return n;
  }
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  if (ec)
    return p.fail(notification_errc::not_json, "SQS message body is not JSON (" + ec.message() +
                                                   "), so not a notification");
  return p.parse_value(v, false);
}

std::string cloudtrail_key_account(std::string_view key) {
  auto is_account = [](std::string_view v) {
    return v.size() == 12 && std::all_of(v.begin(), v.end(), [](char c) { return c >= '0' && c <= '9'; });
  };
  // A key of the whole layout is read from its end (the trail's prefix may itself hold an
  // "AWSLogs/" segment); otherwise the first "AWSLogs/" segment followed by an account.
  if (auto k = parse_log_key(key)) return k->account;
  constexpr std::string_view logs = "AWSLogs/";
  for (std::size_t at = key.find(logs); at != std::string_view::npos; at = key.find(logs, at + 1)) {
    if (at != 0 && key[at - 1] != '/') continue;
    std::string_view rest = key.substr(at + logs.size());
    auto segment = [&rest]() {
      auto slash = rest.find('/');
      auto seg = rest.substr(0, slash);
      rest = slash == std::string_view::npos ? std::string_view{} : rest.substr(slash + 1);
      return seg;
    };
    auto first = segment();
    if (first.substr(0, 2) == "o-") first = segment();  // organization trail: AWSLogs/o-org/<account>/
    if (is_account(first)) return std::string(first);
  }
  return {};
}

result<void> check_allowed(const Notification& n, const NotificationAllowList& allow, Diagnostics& diag) {
  auto listed = [](const std::vector<std::string>& list, std::string_view v) {
    return std::find(list.begin(), list.end(), v) != list.end();
  };
  auto refuse = [&](std::string what) -> result<void> {
    diag.clear();
    diag.message = "refused: " + std::move(what);
    return make_error_code(notification_errc::refused);
  };
  const bool eventbridge = n.format == NotificationFormat::eventbridge_s3 ||
                           n.format == NotificationFormat::eventbridge_cloudtrail ||
                           n.format == NotificationFormat::eventbridge_guardduty;
  if (eventbridge) {
    const auto& src = n.eventbridge_source;
    if (!allow.eventbridge_sources.empty() ? !listed(allow.eventbridge_sources, src)
                                           : n.format == NotificationFormat::eventbridge_cloudtrail &&
                                                 src.substr(0, 4) != "aws.")
      return refuse("EventBridge source " + quote_field(src) + " is not " +
                    (allow.eventbridge_sources.empty() ? std::string("an AWS service's (aws.*)")
                                                       : "in allowed_eventbridge_sources"));
    if (!allow.accounts.empty() && !listed(allow.accounts, n.eventbridge_account))
      return refuse("EventBridge account " + quote_field(n.eventbridge_account) + " is not in allowed_accounts");
  }
  if (!allow.accounts.empty() && n.format == NotificationFormat::eventbridge_cloudtrail &&
      !listed(allow.accounts, n.record_account))
    return refuse("record recipientAccountId " + quote_field(n.record_account) + " is not in allowed_accounts");
  if (!allow.accounts.empty() && n.format == NotificationFormat::eventbridge_guardduty &&
      !listed(allow.accounts, n.record_account))
    return refuse("finding accountId " + quote_field(n.record_account) + " is not in allowed_accounts");
  for (const auto& o : n.objects) {
    if (!allow.buckets.empty() && !listed(allow.buckets, o.bucket))
      return refuse("bucket " + quote_field(o.bucket) + " is not in allowed_buckets");
    if (!allow.accounts.empty()) {
      const auto account = cloudtrail_key_account(o.key);
      if (!listed(allow.accounts, account))
        return refuse(quote_field("s3://" + o.bucket + "/" + o.key) + ": " +
                      (account.empty() ? std::string("no account in the key (AWSLogs/<account>/...)")
                                       : "account " + account + " is not in allowed_accounts"));
    }
  }
  return {};
}

result<Notification> parse_notification(std::string_view body) {
  Diagnostics ignored;
  return parse_notification(body, ignored);
}

}  // namespace ctsqs
