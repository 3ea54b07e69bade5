// DynamoDB AWS JSON 1.0 request builders and response parsers of the ledger (Boost.JSON).
#include "ctsqs/ledger/dynamodb_protocol.hpp"

#include "ctsqs/aws/error_response.hpp"

#include "../detail/json_response.hpp"
#include "../detail/protocol_util.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <charconv>
#include <set>

namespace ctsqs::dynamodb {
namespace json = boost::json;
namespace {

error_code invalid(Diagnostics& diag, std::string message) {
  diag.clear();
  diag.message = std::move(message);
  return make_error_code(client_errc::invalid_argument);
}

result<HttpRequest> make_request(std::string_view op, const Endpoint& endpoint, std::string_view table,
                                 json::object body, Diagnostics& diag) {
  if (endpoint.host.empty() || (endpoint.scheme != "https" && endpoint.scheme != "http"))
    return invalid(diag, "DynamoDB " + std::string(op) + ": endpoint " + detail::quote_start(endpoint.url()) +
                             " is not an http(s) endpoint");
  if (table.size() < 3 || table.size() > 255)
    return invalid(diag, "DynamoDB " + std::string(op) + ": table name " + detail::quote_start(table) +
                             " must be 3 to 255 characters long");
  return detail::json_post_request(endpoint, "DynamoDB_20120810." + std::string(op), body);
}

error_code malformed(Diagnostics& diag, const HttpResponse& res, std::string_view op, std::string what) {
  return detail::malformed_response(diag, res, "DynamoDB", op, std::move(what));
}

result<json::object> parse_object(const HttpResponse& res, std::string_view op, Diagnostics& diag) {
  if (res.status < 200 || res.status > 299)
    return aws_error_to_code(parse_aws_error(res), "dynamodb " + std::string(op), diag);
  return detail::parse_object_body(res, "DynamoDB", op, diag);
}

json::object s(std::string_view v) { return json::object{{"S", v}}; }
json::object n(std::int64_t v) { return json::object{{"N", std::to_string(v)}}; }

std::int64_t to_ms(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

/// The string of a typed attribute {"S": "..."}; nullptr when absent or of another type.
const json::string* attr_s(const json::object& item, std::string_view name) {
  auto it = item.find(name);
  if (it == item.end() || !it->value().is_object()) return nullptr;
  auto& o = it->value().get_object();
  auto v = o.find("S");
  return v != o.end() && v->value().is_string() ? &v->value().get_string() : nullptr;
}

/// A typed number {"N": "123"} as an integer; nullopt when absent, of another type or not an integer.
std::optional<std::int64_t> attr_n(const json::object& item, std::string_view name) {
  auto it = item.find(name);
  if (it == item.end() || !it->value().is_object()) return std::nullopt;
  auto& o = it->value().get_object();
  auto v = o.find("N");
  if (v == o.end() || !v->value().is_string()) return std::nullopt;
  const auto& str = v->value().get_string();
  std::int64_t x = 0;
  auto [p, ec] = std::from_chars(str.data(), str.data() + str.size(), x);
  if (ec != std::errc() || p != str.data() + str.size()) return std::nullopt;
  return x;
}

}  // namespace

std::string item_key(std::string_view bucket, std::string_view key) {
  std::string pk;
  pk.reserve(bucket.size() + 1 + key.size());
  pk.append(bucket).append("/").append(key);
  return pk;
}

bool is_conditional_check_failed(const Diagnostics& diag) noexcept {
  return diag.aws_code == "ConditionalCheckFailedException";
}

result<void> check_response(const HttpResponse& response, std::string_view operation, Diagnostics& diag) {
  auto o = parse_object(response, operation, diag);
  if (!o) return o.error();
  return {};
}

result<HttpRequest> make_batch_get_item_request(const Endpoint& endpoint, std::string_view table,
                                                const std::vector<std::string>& pks, Diagnostics& diag) {
  if (pks.empty() || pks.size() > max_get_keys)
    return invalid(diag, "DynamoDB BatchGetItem: 1 to 100 keys, got " + std::to_string(pks.size()));
  std::set<std::string_view> seen;
  json::array keys;
  for (const auto& pk : pks) {
    if (!seen.insert(pk).second) return invalid(diag, "DynamoDB BatchGetItem: key " + detail::quote_start(pk) + " twice");
    keys.push_back(json::object{{"pk", s(pk)}});
  }
  json::object per_table{{"Keys", std::move(keys)}, {"ConsistentRead", true}};
  json::object items;
  items.emplace(table, std::move(per_table));
  return make_request("BatchGetItem", endpoint, table, json::object{{"RequestItems", std::move(items)}}, diag);
}

result<BatchGetResult> parse_batch_get_item_response(const HttpResponse& response, std::string_view table,
                                                     Diagnostics& diag) {
  auto o = parse_object(response, "BatchGetItem", diag);
  if (!o) return o.error();
  BatchGetResult out;
  if (auto it = o->find("Responses"); it != o->end()) {
    if (!it->value().is_object()) return malformed(diag, response, "BatchGetItem", "Responses is not an object");
    auto& per = it->value().get_object();
    if (auto t = per.find(table); t != per.end()) {
      if (!t->value().is_array()) return malformed(diag, response, "BatchGetItem", "Responses." + std::string(table) + " is not an array");
      for (const auto& v : t->value().get_array()) {
        if (!v.is_object()) return malformed(diag, response, "BatchGetItem", "an item is not an object");
        const auto& item = v.get_object();
        const auto* bucket = attr_s(item, "bucket");
        const auto* key = attr_s(item, "key");
        if (!bucket || !key) return malformed(diag, response, "BatchGetItem", "an item has no bucket or key");
        auto delivered = attr_n(item, "delivered_at");
        if (!delivered) continue;  // only a claim
        LedgerRecord r;
        r.bucket = std::string(*bucket);
        r.key = std::string(*key);
        if (auto* x = attr_s(item, "version_id")) r.version_id = std::string(*x);
        if (auto* x = attr_s(item, "etag")) r.etag = std::string(*x);
        if (auto* x = attr_s(item, "sha256")) r.sha256 = std::string(*x);
        if (auto* x = attr_s(item, "collector_id")) r.collector_id = std::string(*x);
        if (auto e = attr_n(item, "events"); e && *e >= 0) r.events = static_cast<std::uint64_t>(*e);
        r.delivered_at = std::chrono::system_clock::time_point(
            std::chrono::duration_cast<std::chrono::system_clock::duration>(std::chrono::milliseconds(*delivered)));
        out.records.push_back(std::move(r));
      }
    }
  }
  if (auto it = o->find("UnprocessedKeys"); it != o->end() && it->value().is_object()) {
    auto& per = it->value().get_object();
    if (auto t = per.find(table); t != per.end() && t->value().is_object()) {
      auto& keys = t->value().get_object();
      if (auto k = keys.find("Keys"); k != keys.end() && k->value().is_array())
        for (const auto& v : k->value().get_array()) {
          if (!v.is_object()) return malformed(diag, response, "BatchGetItem", "an unprocessed key is not an object");
          const auto* pk = attr_s(v.get_object(), "pk");
          if (!pk) return malformed(diag, response, "BatchGetItem", "an unprocessed key has no pk");
          out.unprocessed.emplace_back(*pk);
        }
    }
  }
  return out;
}

result<HttpRequest> make_batch_write_item_request(const Endpoint& endpoint, std::string_view table,
                                                  const std::vector<LedgerRecord>& records,
                                                  std::int64_t expires_at_s, Diagnostics& diag) {
  if (records.empty() || records.size() > max_write_items)
    return invalid(diag, "DynamoDB BatchWriteItem: 1 to 25 records, got " + std::to_string(records.size()));
  std::set<std::string> seen;
  json::array puts;
  for (const auto& r : records) {
    std::string pk = item_key(r.bucket, r.key);
    if (r.bucket.empty() || r.key.empty())
      return invalid(diag, "DynamoDB BatchWriteItem: a record without bucket or key");
    if (!seen.insert(pk).second)
      return invalid(diag, "DynamoDB BatchWriteItem: object " + detail::quote_start(pk) + " twice in one batch");
    json::object item{{"pk", s(pk)},
                      {"bucket", s(r.bucket)},
                      {"key", s(r.key)},
                      {"events", n(static_cast<std::int64_t>(r.events))},
                      {"delivered_at", n(to_ms(r.delivered_at))},
                      {std::string(ttl_attribute), n(expires_at_s)}};
    if (!r.version_id.empty()) item.emplace("version_id", s(r.version_id));
    if (auto e = unquoted_etag(r.etag); !e.empty()) item.emplace("etag", s(e));
    if (!r.sha256.empty()) item.emplace("sha256", s(r.sha256));
    if (!r.collector_id.empty()) item.emplace("collector_id", s(r.collector_id));
    puts.push_back(json::object{{"PutRequest", json::object{{"Item", std::move(item)}}}});
  }
  json::object items;
  items.emplace(table, std::move(puts));
  return make_request("BatchWriteItem", endpoint, table, json::object{{"RequestItems", std::move(items)}}, diag);
}

result<std::vector<std::string>> parse_batch_write_item_response(const HttpResponse& response,
                                                                 std::string_view table, Diagnostics& diag) {
  auto o = parse_object(response, "BatchWriteItem", diag);
  if (!o) return o.error();
  std::vector<std::string> out;
  if (auto it = o->find("UnprocessedItems"); it != o->end() && it->value().is_object()) {
    auto& per = it->value().get_object();
    if (auto t = per.find(table); t != per.end()) {
      if (!t->value().is_array())
        return malformed(diag, response, "BatchWriteItem", "UnprocessedItems." + std::string(table) + " is not an array");
      for (const auto& v : t->value().get_array()) {
        const json::object* put = nullptr;
        if (v.is_object())
          if (auto p = v.get_object().find("PutRequest"); p != v.get_object().end() && p->value().is_object())
            if (auto i = p->value().get_object().find("Item"); i != p->value().get_object().end() && i->value().is_object())
              put = &i->value().get_object();
        const json::string* pk = put ? attr_s(*put, "pk") : nullptr;
        if (!pk) return malformed(diag, response, "BatchWriteItem", "an unprocessed item has no PutRequest.Item.pk");
        out.emplace_back(*pk);
      }
    }
  }
  return out;
}

result<HttpRequest> make_claim_request(const Endpoint& endpoint, std::string_view table, const LedgerClaim& claim,
                                       std::int64_t expires_at_s, Diagnostics& diag) {
  if (claim.bucket.empty() || claim.key.empty() || claim.claimant.empty())
    return invalid(diag, "DynamoDB claim: bucket, key and claimant must be set");
  json::object body{
      {"TableName", table},
      {"Key", json::object{{"pk", s(item_key(claim.bucket, claim.key))}}},
      {"UpdateExpression", "SET #b = :b, #k = :k, #o = :me, #u = :until, #x = :exp"},
      {"ConditionExpression",
       "attribute_not_exists(#d) AND (attribute_not_exists(#u) OR #u < :now OR #o = :me)"},
      {"ExpressionAttributeNames", json::object{{"#b", "bucket"},
                                                {"#k", "key"},
                                                {"#o", "claim_owner"},
                                                {"#u", "claim_until"},
                                                {"#x", ttl_attribute},
                                                {"#d", "delivered_at"}}},
      {"ExpressionAttributeValues", json::object{{":b", s(claim.bucket)},
                                                 {":k", s(claim.key)},
                                                 {":me", s(claim.claimant)},
                                                 {":until", n(to_ms(claim.until))},
                                                 {":now", n(to_ms(claim.now))},
                                                 {":exp", n(expires_at_s)}}}};
  return make_request("UpdateItem", endpoint, table, std::move(body), diag);
}

result<ClaimOutcome> parse_claim_response(const HttpResponse& response, Diagnostics& diag) {
  auto o = parse_object(response, "UpdateItem", diag);
  if (!o) return o.error();
  return ClaimOutcome::claimed;
}

result<HttpRequest> make_create_table_request(const Endpoint& endpoint, std::string_view table, Diagnostics& diag) {
  json::object body{{"TableName", table},
                    {"AttributeDefinitions", json::array{json::object{{"AttributeName", "pk"}, {"AttributeType", "S"}}}},
                    {"KeySchema", json::array{json::object{{"AttributeName", "pk"}, {"KeyType", "HASH"}}}},
                    {"BillingMode", "PAY_PER_REQUEST"}};
  return make_request("CreateTable", endpoint, table, std::move(body), diag);
}

result<HttpRequest> make_describe_table_request(const Endpoint& endpoint, std::string_view table, Diagnostics& diag) {
  return make_request("DescribeTable", endpoint, table, json::object{{"TableName", table}}, diag);
}

result<TableDescription> parse_table_description(const HttpResponse& response, Diagnostics& diag) {
  auto o = parse_object(response, "DescribeTable", diag);
  if (!o) return o.error();
  const json::object* t = nullptr;
  for (auto name : {"Table", "TableDescription"})
    if (auto it = o->find(name); it != o->end() && it->value().is_object()) t = &it->value().get_object();
  if (!t) return malformed(diag, response, "DescribeTable", "no Table or TableDescription object");
  TableDescription d;
  if (auto it = t->find("TableStatus"); it != t->end() && it->value().is_string()) d.status = std::string(it->value().get_string());
  if (auto it = t->find("BillingModeSummary"); it != t->end() && it->value().is_object()) {
    auto& b = it->value().get_object();
    if (auto m = b.find("BillingMode"); m != b.end() && m->value().is_string()) d.billing_mode = std::string(m->value().get_string());
  }
  std::string hash;
  if (auto it = t->find("KeySchema"); it != t->end() && it->value().is_array())
    for (const auto& k : it->value().get_array()) {
      if (!k.is_object()) continue;
      auto& ko = k.get_object();
      auto type = ko.find("KeyType");
      auto name = ko.find("AttributeName");
      if (type != ko.end() && name != ko.end() && type->value().is_string() && name->value().is_string() &&
          type->value().get_string() == "HASH")
        d.hash_key = std::string(name->value().get_string());
    }
  if (auto it = t->find("AttributeDefinitions"); it != t->end() && it->value().is_array())
    for (const auto& a : it->value().get_array()) {
      if (!a.is_object()) continue;
      auto& ao = a.get_object();
      auto name = ao.find("AttributeName");
      auto type = ao.find("AttributeType");
      if (name != ao.end() && type != ao.end() && name->value().is_string() && type->value().is_string() &&
          name->value().get_string() == d.hash_key)
        d.hash_key_type = std::string(type->value().get_string());
    }
  if (d.status.empty()) return malformed(diag, response, "DescribeTable", "no TableStatus");
  return d;
}

result<HttpRequest> make_update_time_to_live_request(const Endpoint& endpoint, std::string_view table,
                                                     Diagnostics& diag) {
  json::object body{{"TableName", table},
                    {"TimeToLiveSpecification", json::object{{"AttributeName", ttl_attribute}, {"Enabled", true}}}};
  return make_request("UpdateTimeToLive", endpoint, table, std::move(body), diag);
}

result<HttpRequest> make_describe_time_to_live_request(const Endpoint& endpoint, std::string_view table,
                                                       Diagnostics& diag) {
  return make_request("DescribeTimeToLive", endpoint, table, json::object{{"TableName", table}}, diag);
}

result<TimeToLive> parse_describe_time_to_live_response(const HttpResponse& response, Diagnostics& diag) {
  auto o = parse_object(response, "DescribeTimeToLive", diag);
  if (!o) return o.error();
  auto it = o->find("TimeToLiveDescription");
  if (it == o->end() || !it->value().is_object())
    return malformed(diag, response, "DescribeTimeToLive", "no TimeToLiveDescription object");
  auto& d = it->value().get_object();
  TimeToLive t;
  if (auto s1 = d.find("TimeToLiveStatus"); s1 != d.end() && s1->value().is_string()) t.status = std::string(s1->value().get_string());
  if (auto a = d.find("AttributeName"); a != d.end() && a->value().is_string()) t.attribute = std::string(a->value().get_string());
  if (t.status.empty()) return malformed(diag, response, "DescribeTimeToLive", "no TimeToLiveStatus");
  return t;
}

}  // namespace ctsqs::dynamodb
