// SQS AWS JSON 1.0 request builders and response/error parsers (Boost.JSON; MD5 via OpenSSL).
#include "ctsqs/aws/sqs/protocol.hpp"

#include "ctsqs/aws/error_response.hpp"

#include "../detail/json_response.hpp"
#include "../detail/protocol_util.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <openssl/evp.h>

#include <charconv>
#include <set>

namespace ctsqs::sqs {
namespace json = boost::json;
namespace {

result<void> invalid(Diagnostics& diag, std::string message) {
  diag.clear();
  diag.message = std::move(message);
  return make_error_code(client_errc::invalid_argument);
}

// Request skeleton shared by every operation.
result<HttpRequest> make_request(std::string_view op, const Endpoint& endpoint, std::string_view queue_url,
                                 json::object body, Diagnostics& diag) {
  detail::UrlParts q;
  if (endpoint.host.empty() || (endpoint.scheme != "https" && endpoint.scheme != "http")) {
    invalid(diag, "SQS " + std::string(op) + ": endpoint " + detail::quote_start(endpoint.url()) +
                      " is not an http(s) endpoint");
    return make_error_code(client_errc::invalid_argument);
  }
  if (!detail::split_url(queue_url, q) || q.path.size() < 2) {
    invalid(diag, "SQS " + std::string(op) + ": queue_url " + detail::quote_start(queue_url) +
                      " is not a queue URL (https://sqs.<region>.amazonaws.com/<account>/<name>)");
    return make_error_code(client_errc::invalid_argument);
  }
  body.emplace("QueueUrl", queue_url);
  return detail::json_post_request(endpoint, "AmazonSQS." + std::string(op), body);
}

bool valid_entry_id(std::string_view id) noexcept {
  if (id.empty() || id.size() > 80) return false;
  for (char c : id)
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_'))
      return false;
  return true;
}

template <class Entries>
result<void> check_batch(std::string_view op, const Entries& entries, Diagnostics& diag) {
  if (entries.empty() || entries.size() > max_batch_entries)
    return invalid(diag, "SQS " + std::string(op) + ": entries must hold 1 to 10 entries, got " +
                             std::to_string(entries.size()));
  std::set<std::string_view> ids;
  for (const auto& e : entries) {
    if (!valid_entry_id(e.id))
      return invalid(diag, "SQS " + std::string(op) + ": entry id " + detail::quote_start(e.id) +
                               " must be 1-80 characters of A-Z a-z 0-9 - _");
    if (!ids.insert(e.id).second)
      return invalid(diag, "SQS " + std::string(op) + ": entry id \"" + e.id + "\" is used twice");
    if (e.receipt_handle.empty())
      return invalid(diag, "SQS " + std::string(op) + ": entry \"" + e.id + "\" has an empty receipt_handle");
  }
  return {};
}

result<void> check_visibility(std::string_view op, std::chrono::seconds t, Diagnostics& diag) {
  if (t.count() < 0 || t.count() > 43200)
    return invalid(diag, "SQS " + std::string(op) + ": visibility_timeout must be 0..43200 s, got " +
                             std::to_string(t.count()));
  return {};
}

bool is_success(int status) noexcept { return status >= 200 && status <= 299; }

error_code malformed(Diagnostics& diag, const HttpResponse& res, std::string_view op, std::string what) {
  return detail::malformed_response(diag, res, "SQS", op, std::move(what));
}

// Parses a 2xx body as a JSON object; an empty body counts as {}.
result<json::object> parse_object(const HttpResponse& res, std::string_view op, Diagnostics& diag) {
  if (!is_success(res.status)) return parse_error(res, diag);
  return detail::parse_object_body(res, "SQS", op, diag);
}

const json::string* get_string(const json::object& o, std::string_view key) {
  auto it = o.find(key);
  return it != o.end() && it->value().is_string() ? &it->value().as_string() : nullptr;
}

std::string md5_hex(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), digest, &len, EVP_md5(), nullptr);
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  for (unsigned i = 0; i < len; ++i) {
    out += hex[digest[i] >> 4];
    out += hex[digest[i] & 15];
  }
  return out;
}

bool iequal_hex(std::string_view a, std::string_view b) { return iequals(a, b); }

result<BatchResult> parse_batch(const HttpResponse& res, std::string_view op, Diagnostics& diag) {
  auto obj = parse_object(res, op, diag);
  if (!obj) return obj.error();
  BatchResult out;
  // Every entry of a batch is named in one of the two lists; an answer with neither says
  // nothing about them and must not read as "none failed".
  if (!obj->contains("Successful") && !obj->contains("Failed"))
    return malformed(diag, res, op, "neither Successful nor Failed is present");
  if (auto it = obj->find("Successful"); it != obj->end()) {
    if (!it->value().is_array()) return malformed(diag, res, op, "Successful is not an array");
    for (const auto& e : it->value().as_array()) {
      const json::string* id = e.is_object() ? get_string(e.as_object(), "Id") : nullptr;
      if (!id) return malformed(diag, res, op, "a Successful entry has no Id");
      out.successful.emplace_back(*id);
    }
  }
  if (auto it = obj->find("Failed"); it != obj->end()) {
    if (!it->value().is_array()) return malformed(diag, res, op, "Failed is not an array");
    for (const auto& e : it->value().as_array()) {
      if (!e.is_object()) return malformed(diag, res, op, "a Failed entry is not an object");
      const auto& f = e.as_object();
      const json::string* id = get_string(f, "Id");
      if (!id) return malformed(diag, res, op, "a Failed entry has no Id");
      BatchFailure bf;
      bf.id = std::string(*id);
      if (auto* c = get_string(f, "Code")) bf.code = std::string(*c);
      if (auto* m = get_string(f, "Message")) bf.message = std::string(*m);
      if (auto s = f.find("SenderFault"); s != f.end() && s->value().is_bool()) bf.sender_fault = s->value().as_bool();
      out.failed.push_back(std::move(bf));
    }
  }
  return out;
}

json::array string_array(const std::vector<std::string>& v) {
  json::array a;
  for (const auto& s : v) a.emplace_back(s);
  return a;
}

}  // namespace

int Message::receive_count() const noexcept {
  auto it = attributes.find("ApproximateReceiveCount");
  if (it == attributes.end()) return 0;
  int n = 0;
  auto [p, ec] = std::from_chars(it->second.data(), it->second.data() + it->second.size(), n);
  return ec == std::errc() && p == it->second.data() + it->second.size() ? n : 0;
}

std::optional<std::chrono::system_clock::time_point> Message::sent_time() const noexcept {
  auto it = attributes.find("SentTimestamp");
  if (it == attributes.end()) return std::nullopt;
  std::int64_t ms = 0;
  auto [p, ec] = std::from_chars(it->second.data(), it->second.data() + it->second.size(), ms);
  if (ec != std::errc() || p != it->second.data() + it->second.size()) return std::nullopt;
  // Beyond what system_clock's nanoseconds hold (year 2262) the conversion would overflow.
  constexpr auto latest = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::system_clock::duration::max());
  if (ms < 0 || ms > latest.count()) return std::nullopt;
  return std::chrono::system_clock::time_point(std::chrono::milliseconds(ms));
}

bool is_retryable(const BatchFailure& failure) noexcept {
  if (!failure.sender_fault) return true;
  return is_retryable_aws_error(make_error_code(aws_errc_from_code(failure.code, 0)));
}

result<HttpRequest> make_receive_message_request(const ReceiveMessageParams& p, Diagnostics& diag) {
  constexpr std::string_view op = "ReceiveMessage";
  if (p.max_messages < 1 || p.max_messages > 10) {
    invalid(diag, "SQS ReceiveMessage: max_messages must be 1..10, got " + std::to_string(p.max_messages));
    return make_error_code(client_errc::invalid_argument);
  }
  if (p.wait_time && (p.wait_time->count() < 0 || p.wait_time->count() > 20)) {
    invalid(diag, "SQS ReceiveMessage: wait_time must be 0..20 s, got " + std::to_string(p.wait_time->count()));
    return make_error_code(client_errc::invalid_argument);
  }
  if (p.visibility_timeout)
    if (auto r = check_visibility(op, *p.visibility_timeout, diag); !r) return r.error();
  json::object body;
  body.emplace("MaxNumberOfMessages", p.max_messages);
  if (p.wait_time) body.emplace("WaitTimeSeconds", p.wait_time->count());
  if (p.visibility_timeout) body.emplace("VisibilityTimeout", p.visibility_timeout->count());
  if (!p.system_attributes.empty()) {
    body.emplace("MessageSystemAttributeNames", string_array(p.system_attributes));
    body.emplace("AttributeNames", string_array(p.system_attributes));
  }
  if (!p.message_attributes.empty()) body.emplace("MessageAttributeNames", string_array(p.message_attributes));
  if (!p.receive_request_attempt_id.empty()) body.emplace("ReceiveRequestAttemptId", p.receive_request_attempt_id);
  return make_request(op, p.endpoint, p.queue_url, std::move(body), diag);
}

result<std::vector<Message>> parse_receive_message_response(const HttpResponse& res, Diagnostics& diag) {
  constexpr std::string_view op = "ReceiveMessage";
  auto obj = parse_object(res, op, diag);
  if (!obj) return obj.error();
  std::vector<Message> out;
  auto it = obj->find("Messages");
  if (it == obj->end() || it->value().is_null()) return out;
  if (!it->value().is_array()) return malformed(diag, res, op, "Messages is not an array");
  for (const auto& v : it->value().as_array()) {
    if (!v.is_object()) return malformed(diag, res, op, "a message is not an object");
    const auto& m = v.as_object();
    Message msg;
    const json::string* id = get_string(m, "MessageId");
    const json::string* rh = get_string(m, "ReceiptHandle");
    const json::string* body = get_string(m, "Body");
    if (!id || !rh || !body) return malformed(diag, res, op, "a message lacks MessageId, ReceiptHandle or Body");
    msg.message_id = std::string(*id);
    msg.receipt_handle = std::string(*rh);
    msg.body = std::string(*body);
    if (auto* md5 = get_string(m, "MD5OfBody")) {
      msg.md5_of_body = std::string(*md5);
      if (!iequal_hex(md5_hex(msg.body), msg.md5_of_body)) {
        diag.clear();
        diag.http_status = res.status;
        diag.request_id = std::string(res.header("x-amzn-RequestId"));
        diag.message = "SQS ReceiveMessage: message " + msg.message_id + ": MD5OfBody " + msg.md5_of_body +
                       " does not match the body received (MD5 " + md5_hex(msg.body) + ")";
        return make_error_code(aws_errc::checksum_mismatch);
      }
    }
    if (auto a = m.find("Attributes"); a != m.end() && a->value().is_object())
      for (const auto& [k, val] : a->value().as_object())
        if (val.is_string()) msg.attributes.emplace(std::string(k), std::string(val.as_string()));
    if (auto a = m.find("MessageAttributes"); a != m.end() && a->value().is_object())
      for (const auto& [k, val] : a->value().as_object())
        if (val.is_object())
          if (auto* s = get_string(val.as_object(), "StringValue"))
            msg.message_attributes.emplace(std::string(k), std::string(*s));
    out.push_back(std::move(msg));
  }
  return out;
}

result<HttpRequest> make_delete_message_batch_request(const DeleteMessageBatchParams& p, Diagnostics& diag) {
  constexpr std::string_view op = "DeleteMessageBatch";
  if (auto r = check_batch(op, p.entries, diag); !r) return r.error();
  json::array entries;
  for (const auto& e : p.entries) entries.emplace_back(json::object{{"Id", e.id}, {"ReceiptHandle", e.receipt_handle}});
  json::object body;
  body.emplace("Entries", std::move(entries));
  return make_request(op, p.endpoint, p.queue_url, std::move(body), diag);
}

result<HttpRequest> make_send_message_batch_request(const SendMessageBatchParams& p, Diagnostics& diag) {
  constexpr std::string_view op = "SendMessageBatch";
  constexpr std::size_t max_batch_bytes = 256 * 1024;
  auto bad = [&](std::string m) -> result<HttpRequest> {
    invalid(diag, std::move(m));
    return make_error_code(client_errc::invalid_argument);
  };
  if (p.entries.empty() || p.entries.size() > max_batch_entries)
    return bad("SQS SendMessageBatch: entries must hold 1 to 10 entries, got " +
                             std::to_string(p.entries.size()));
  std::set<std::string_view> ids;
  std::size_t bytes = 0;
  json::array entries;
  for (const auto& e : p.entries) {
    if (!valid_entry_id(e.id))
      return bad("SQS " + std::string(op) + ": entry id " + detail::quote_start(e.id) +
                               " must be 1-80 characters of A-Z a-z 0-9 - _");
    if (!ids.insert(e.id).second)
      return bad("SQS " + std::string(op) + ": entry id \"" + e.id + "\" is used twice");
    if (e.body.empty()) return bad("SQS " + std::string(op) + ": entry \"" + e.id + "\" has an empty body");
    bytes += e.body.size();
    entries.emplace_back(json::object{{"Id", e.id}, {"MessageBody", e.body}});
  }
  if (bytes > max_batch_bytes)
    return bad("SQS " + std::string(op) + ": the bodies hold " + std::to_string(bytes) +
                             " bytes, more than the 262144 a batch may carry");
  json::object body;
  body.emplace("Entries", std::move(entries));
  return make_request(op, p.endpoint, p.queue_url, std::move(body), diag);
}

result<BatchResult> parse_send_message_batch_response(const HttpResponse& res, Diagnostics& diag) {
  return parse_batch(res, "SendMessageBatch", diag);
}

result<BatchResult> parse_delete_message_batch_response(const HttpResponse& res, Diagnostics& diag) {
  return parse_batch(res, "DeleteMessageBatch", diag);
}

result<HttpRequest> make_change_message_visibility_request(const ChangeMessageVisibilityParams& p,
                                                           Diagnostics& diag) {
  constexpr std::string_view op = "ChangeMessageVisibility";
  if (auto r = check_visibility(op, p.entry.visibility_timeout, diag); !r) return r.error();
  if (p.entry.receipt_handle.empty()) {
    invalid(diag, "SQS ChangeMessageVisibility: receipt_handle is empty");
    return make_error_code(client_errc::invalid_argument);
  }
  json::object body;
  body.emplace("ReceiptHandle", p.entry.receipt_handle);
  body.emplace("VisibilityTimeout", p.entry.visibility_timeout.count());
  return make_request(op, p.endpoint, p.queue_url, std::move(body), diag);
}

result<void> parse_change_message_visibility_response(const HttpResponse& res, Diagnostics& diag) {
  auto obj = parse_object(res, "ChangeMessageVisibility", diag);
  if (!obj) return obj.error();
  return {};
}

result<HttpRequest> make_change_message_visibility_batch_request(const ChangeMessageVisibilityBatchParams& p,
                                                                 Diagnostics& diag) {
  constexpr std::string_view op = "ChangeMessageVisibilityBatch";
  if (auto r = check_batch(op, p.entries, diag); !r) return r.error();
  json::array entries;
  for (const auto& e : p.entries) {
    if (auto r = check_visibility(op, e.visibility_timeout, diag); !r) return r.error();
    entries.emplace_back(json::object{{"Id", e.id},
                                      {"ReceiptHandle", e.receipt_handle},
                                      {"VisibilityTimeout", e.visibility_timeout.count()}});
  }
  json::object body;
  body.emplace("Entries", std::move(entries));
  return make_request(op, p.endpoint, p.queue_url, std::move(body), diag);
}

result<BatchResult> parse_change_message_visibility_batch_response(const HttpResponse& res, Diagnostics& diag) {
  return parse_batch(res, "ChangeMessageVisibilityBatch", diag);
}

result<HttpRequest> make_get_queue_attributes_request(const GetQueueAttributesParams& p, Diagnostics& diag) {
  json::object body;
  body.emplace("AttributeNames", string_array(p.attribute_names));
  return make_request("GetQueueAttributes", p.endpoint, p.queue_url, std::move(body), diag);
}

result<std::map<std::string, std::string>> parse_get_queue_attributes_response(const HttpResponse& res,
                                                                               Diagnostics& diag) {
  constexpr std::string_view op = "GetQueueAttributes";
  auto obj = parse_object(res, op, diag);
  if (!obj) return obj.error();
  std::map<std::string, std::string> out;
  auto it = obj->find("Attributes");
  if (it == obj->end()) return out;
  if (!it->value().is_object()) return malformed(diag, res, op, "Attributes is not an object");
  for (const auto& [k, v] : it->value().as_object()) {
    if (v.is_string()) out.emplace(std::string(k), std::string(v.as_string()));
    else out.emplace(std::string(k), json::serialize(v));
  }
  return out;
}

error_code parse_error(const HttpResponse& res, Diagnostics& diag) {
  diag.clear();
  diag.http_status = res.status;
  diag.request_id = std::string(res.header("x-amzn-RequestId"));
  std::string code, message;
  boost::system::error_code ec;
  json::value v = json::parse(res.body, ec);
  if (!ec && v.is_object()) {
    const auto& o = v.as_object();
    if (auto* t = get_string(o, "__type")) code = std::string(*t);
    if (code.empty())
      if (auto* t = get_string(o, "code")) code = std::string(*t);
    if (auto* m = get_string(o, "message")) message = std::string(*m);
    else if (auto* m2 = get_string(o, "Message")) message = std::string(*m2);
  }
  // "com.amazonaws.sqs#QueueDoesNotExist" → "QueueDoesNotExist"; "Code:http://..." → "Code".
  if (auto hash = code.rfind('#'); hash != std::string::npos) code.erase(0, hash + 1);
  if (auto colon = code.find(':'); colon != std::string::npos) code.resize(colon);
  // x-amzn-query-error: "AWS.SimpleQueueService.NonExistentQueue;Sender" (the legacy query code).
  std::string_view query_error = res.header("x-amzn-query-error");
  std::string legacy(query_error.substr(0, query_error.find(';')));
  if (code.empty()) code = legacy;
  diag.aws_code = code;
  // classify_aws_error refines reused codes (e.g. "Signature expired" under SignatureDoesNotMatch).
  auto errc = classify_aws_error(res.status, code, message);
  if (errc == aws_errc::unknown && !legacy.empty()) errc = classify_aws_error(res.status, legacy, message);
  if (message.empty()) {
    message = ec || !v.is_object() ? "SQS answered HTTP " + std::to_string(res.status) +
                                         (res.body.empty() ? std::string(" with no body")
                                                           : " with a non-JSON body " + detail::quote_start(res.body))
                                   : "SQS answered HTTP " + std::to_string(res.status);
  }
  if (!legacy.empty() && legacy != code) message += " [" + std::string(query_error) + "]";
  diag.message = std::move(message);
  return make_error_code(errc);
}

}  // namespace ctsqs::sqs
