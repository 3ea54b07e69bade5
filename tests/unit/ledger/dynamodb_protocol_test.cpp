// Unit tests of the ledger's DynamoDB requests and the parsing of recorded answers.
#include "ctsqs/ledger/dynamodb_protocol.hpp"

#include "unit/catch_result.hpp"

#include "ctsqs/aws/error.hpp"

#include <boost/json/parse.hpp>

using namespace ctsqs;
namespace json = boost::json;

namespace {
Endpoint ep() {
  Endpoint e;
  e.scheme = "https";
  e.host = "dynamodb.eu-west-1.amazonaws.com";
  e.signing_region = "eu-west-1";
  e.signing_name = "dynamodb";
  return e;
}
HttpResponse ok(std::string body) {
  HttpResponse r;
  r.status = 200;
  r.body = std::move(body);
  return r;
}
}  // namespace

TEST_CASE("dynamodb: BatchGetItem request: target, consistent read, distinct keys") {
  Diagnostics d;
  auto req = dynamodb::make_batch_get_item_request(ep(), "ledger", {"b/k1", "b/k 2"}, d);
  REQUIRE(req);
  CHECK(req->method == "POST");
  CHECK(req->path == "/");
  CHECK(req->find_header("X-Amz-Target")->value == "DynamoDB_20120810.BatchGetItem");
  CHECK(req->find_header("Content-Type")->value == "application/x-amz-json-1.0");
  auto body = json::parse(req->body).as_object();
  auto& t = body.at("RequestItems").at("ledger").as_object();
  CHECK(t.at("ConsistentRead").as_bool());
  CHECK(t.at("Keys").as_array().size() == 2);
  CHECK(t.at("Keys").as_array()[1].at("pk").at("S").as_string() == "b/k 2");
  CHECK_FALSE(dynamodb::make_batch_get_item_request(ep(), "ledger", {"b/k1", "b/k1"}, d));
  CHECK_FALSE(dynamodb::make_batch_get_item_request(ep(), "ledger", {}, d));
  CHECK_FALSE(dynamodb::make_batch_get_item_request(ep(), "ledger", std::vector<std::string>(101, "x"), d));
}

TEST_CASE("dynamodb: BatchGetItem answer: records, claims left out, unprocessed keys") {
  Diagnostics d;
  auto r = dynamodb::parse_batch_get_item_response(
      ok(R"({"Responses":{"ledger":[
        {"pk":{"S":"b/k1"},"bucket":{"S":"b"},"key":{"S":"k1"},"etag":{"S":"e1"},"events":{"N":"12"},
         "delivered_at":{"N":"1796536636445"},"collector_id":{"S":"c1"},"expires_at":{"N":"1799000000"}},
        {"pk":{"S":"b/k2"},"bucket":{"S":"b"},"key":{"S":"k2"},"claim_owner":{"S":"c2"},"claim_until":{"N":"5"}}]},
        "UnprocessedKeys":{"ledger":{"Keys":[{"pk":{"S":"b/k3"}}],"ConsistentRead":true}}})"),
      "ledger", d);
  REQUIRE(r);
  REQUIRE(r->records.size() == 1);
  CHECK(r->records[0].key == "k1");
  CHECK(r->records[0].etag == "e1");
  CHECK(r->records[0].events == 12);
  CHECK(r->records[0].collector_id == "c1");
  CHECK(std::chrono::duration_cast<std::chrono::milliseconds>(r->records[0].delivered_at.time_since_epoch()).count() ==
        1796536636445);
  REQUIRE(r->unprocessed.size() == 1);
  CHECK(r->unprocessed[0] == "b/k3");
  // Damaged answers are malformed_response, not a crash or a silent nothing.
  auto bad = dynamodb::parse_batch_get_item_response(ok(R"({"Responses":{"ledger":[{"pk":{"S":"x"}}]}})"), "ledger", d);
  REQUIRE_FALSE(bad);
  CHECK(bad.error() == aws_errc::malformed_response);
  CHECK_FALSE(dynamodb::parse_batch_get_item_response(ok("[1]"), "ledger", d));
  CHECK_FALSE(dynamodb::parse_batch_get_item_response(ok("{\"Responses\":{\"ledger\":{}}}"), "ledger", d));
}

TEST_CASE("dynamodb: BatchWriteItem: puts with the TTL attribute, unprocessed items back") {
  Diagnostics d;
  LedgerRecord r;
  r.bucket = "b";
  r.key = "AWSLogs/x.json.gz";
  r.etag = "\"abc\"";
  r.events = 4;
  r.delivered_at = std::chrono::system_clock::time_point(std::chrono::milliseconds(1000));
  auto req = dynamodb::make_batch_write_item_request(ep(), "ledger", {r}, 1799000000, d);
  REQUIRE(req);
  CHECK(req->find_header("X-Amz-Target")->value == "DynamoDB_20120810.BatchWriteItem");
  auto body = json::parse(req->body).as_object();
  auto& item = body.at("RequestItems").at("ledger").as_array()[0].at("PutRequest").at("Item").as_object();
  CHECK(item.at("pk").at("S").as_string() == "b/AWSLogs/x.json.gz");
  CHECK(item.at("etag").at("S").as_string() == "abc");
  CHECK(item.at("expires_at").at("N").as_string() == "1799000000");
  CHECK(item.at("delivered_at").at("N").as_string() == "1000");
  CHECK_FALSE(item.contains("version_id"));  // empty values are left out
  CHECK_FALSE(dynamodb::make_batch_write_item_request(ep(), "ledger", {r, r}, 1, d));
  auto un = dynamodb::parse_batch_write_item_response(
      ok(R"({"UnprocessedItems":{"ledger":[{"PutRequest":{"Item":{"pk":{"S":"b/k9"}}}}]}})"), "ledger", d);
  REQUIRE(un);
  REQUIRE(un->size() == 1);
  CHECK((*un)[0] == "b/k9");
  CHECK(dynamodb::parse_batch_write_item_response(ok(R"({"UnprocessedItems":{}})"), "ledger", d)->empty());
}

TEST_CASE("dynamodb: the claim is a conditional UpdateItem, a refused condition is recognised") {
  Diagnostics d;
  const auto t = std::chrono::system_clock::time_point(std::chrono::seconds(100));
  auto req = dynamodb::make_claim_request(ep(), "ledger", {"b", "k", "me", t, t + std::chrono::seconds(60)}, 7, d);
  REQUIRE(req);
  auto body = json::parse(req->body).as_object();
  CHECK(body.at("ConditionExpression").as_string().find("attribute_not_exists(#d)") != json::string::npos);
  CHECK(body.at("ExpressionAttributeValues").at(":until").at("N").as_string() == "160000");
  CHECK(body.at("ExpressionAttributeValues").at(":now").at("N").as_string() == "100000");
  HttpResponse refused;
  refused.status = 400;
  refused.body = R"({"__type":"com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException","message":"The conditional request failed"})";
  auto r = dynamodb::parse_claim_response(refused, d);
  REQUIRE_FALSE(r);
  CHECK(dynamodb::is_conditional_check_failed(d));
  CHECK(dynamodb::parse_claim_response(ok("{}"), d).value() == ClaimOutcome::claimed);
}

TEST_CASE("dynamodb: table set-up calls") {
  Diagnostics d;
  auto create = dynamodb::make_create_table_request(ep(), "ledger", d);
  REQUIRE(create);
  auto body = json::parse(create->body).as_object();
  CHECK(body.at("BillingMode").as_string() == "PAY_PER_REQUEST");
  CHECK(body.at("KeySchema").as_array()[0].at("AttributeName").as_string() == "pk");
  auto desc = dynamodb::parse_table_description(
      ok(R"({"Table":{"TableName":"ledger","TableStatus":"ACTIVE","KeySchema":[{"AttributeName":"pk","KeyType":"HASH"}],
             "AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"}],"BillingModeSummary":{"BillingMode":"PAY_PER_REQUEST"}}})"),
      d);
  REQUIRE(desc);
  CHECK(desc->status == "ACTIVE");
  CHECK(desc->hash_key == "pk");
  CHECK(desc->hash_key_type == "S");
  CHECK(desc->billing_mode == "PAY_PER_REQUEST");
  auto ttl = dynamodb::make_update_time_to_live_request(ep(), "ledger", d);
  REQUIRE(ttl);
  CHECK(json::parse(ttl->body).at("TimeToLiveSpecification").at("AttributeName").as_string() == "expires_at");
  auto t = dynamodb::parse_describe_time_to_live_response(
      ok(R"({"TimeToLiveDescription":{"TimeToLiveStatus":"ENABLED","AttributeName":"expires_at"}})"), d);
  REQUIRE(t);
  CHECK(t->status == "ENABLED");
  HttpResponse denied;
  denied.status = 400;
  denied.body = R"({"__type":"com.amazon.coral.service#AccessDeniedException","message":"User is not authorized to perform: dynamodb:CreateTable"})";
  auto e = dynamodb::parse_table_description(denied, d);
  REQUIRE_FALSE(e);
  CHECK(e.error() == aws_errc::access_denied);
  CHECK(d.aws_code == "AccessDeniedException");
  CHECK_FALSE(dynamodb::make_describe_table_request(ep(), "ab", d));
}

TEST_CASE("dynamodb: endpoint: AWS_ENDPOINT_URL_DYNAMODB, then AWS_ENDPOINT_URL, then dynamodb.<region>") {
  AwsEndpointConfig cfg;
  Diagnostics diag;
  auto e = resolve_endpoint(AwsService::dynamodb, "eu-west-1", cfg,
                            environment_from({{"AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:4569"},
                                              {"AWS_ENDPOINT_URL", "http://127.0.0.1:1"}}), diag);
  REQUIRE(e);
  CHECK(e->host == "127.0.0.1:4569");
  CHECK(e->signing_name == "dynamodb");
  CHECK(e->source == "AWS_ENDPOINT_URL_DYNAMODB");
  e = resolve_endpoint(AwsService::dynamodb, "eu-west-1", cfg, environment_from({{"AWS_ENDPOINT_URL", "http://127.0.0.1:1"}}), diag);
  REQUIRE(e);
  CHECK(e->host == "127.0.0.1:1");
  e = resolve_endpoint(AwsService::dynamodb, "eu-west-1", cfg, environment_from({}), diag);
  REQUIRE(e);
  CHECK(e->url() == "https://dynamodb.eu-west-1.amazonaws.com");
  e = resolve_endpoint(AwsService::dynamodb, "cn-north-1", cfg, environment_from({}), diag);
  REQUIRE(e);
  CHECK(e->host == "dynamodb.cn-north-1.amazonaws.com.cn");
}
