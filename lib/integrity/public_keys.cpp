// CloudTrail ListPublicKeys request and answer (AWS JSON 1.1), base64, and the fingerprint ring.
#include "ctsqs/integrity/public_keys.hpp"

#include "ctsqs/aws/error.hpp"
#include "ctsqs/aws/sts.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <cmath>

namespace ctsqs::integrity {

namespace json = boost::json;
using namespace std::chrono;

namespace {

error_code bad(Diagnostics& diag, std::string m) {
  diag.message = "CloudTrail ListPublicKeys: " + std::move(m);
  return make_error_code(aws_errc::malformed_response);
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

/// A JSON 1.1 timestamp: epoch seconds (integer or fraction) or, leniently, ISO 8601 text.
std::optional<system_clock::time_point> timestamp(const json::value& v) {
  double secs = 0;
  if (v.is_int64()) secs = static_cast<double>(v.get_int64());
  else if (v.is_uint64()) secs = static_cast<double>(v.get_uint64());
  else if (v.is_double()) secs = v.get_double();
  else if (v.is_string()) {
    Diagnostics d;
    auto t = sts::parse_iso8601(v.get_string(), d);
    if (!t) return std::nullopt;
    return *t;
  } else {
    return std::nullopt;
  }
  if (!std::isfinite(secs) || secs < 0) return std::nullopt;
  // A time_point of nanoseconds ends in 2262: later times (a key "valid forever") are 2200.
  secs = std::min(secs, 7258118400.0);
  return system_clock::time_point(duration_cast<system_clock::duration>(duration<double>(secs)));
}

}  // namespace

std::optional<std::string> base64_decode(std::string_view in) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  while (!in.empty() && in.back() == '=') in.remove_suffix(1);
  if (in.size() % 4 == 1) return std::nullopt;
  std::string out;
  out.reserve(in.size() * 3 / 4);
  unsigned acc = 0;
  int bits = 0;
  for (char c : in) {
    const int v = value(c);
    if (v < 0) return std::nullopt;
    acc = (acc << 6) | static_cast<unsigned>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xFF);
    }
  }
  return out;
}

result<HttpRequest> make_list_public_keys_request(const ListPublicKeysParams& p, Diagnostics& diag) {
  if (p.endpoint.host.empty() || (p.endpoint.scheme != "https" && p.endpoint.scheme != "http")) {
    diag.message = "CloudTrail ListPublicKeys: endpoint '" + p.endpoint.url() + "' is not an http(s) endpoint";
    return make_error_code(client_errc::invalid_argument);
  }
  json::object body;
  auto epoch = [](system_clock::time_point t) { return duration_cast<seconds>(t.time_since_epoch()).count(); };
  if (p.start_time) body["StartTime"] = epoch(*p.start_time);
  if (p.end_time) body["EndTime"] = epoch(*p.end_time);
  if (!p.next_token.empty()) body["NextToken"] = p.next_token;
  HttpRequest req;
  req.method = "POST";
  req.scheme = p.endpoint.scheme;
  req.host = p.endpoint.host;
  req.path = p.endpoint.base_path + "/";
  req.headers = {{"Content-Type", "application/x-amz-json-1.1"},
                 {"X-Amz-Target", "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.ListPublicKeys"}};
  req.body = json::serialize(body);
  return req;
}

result<ListPublicKeysPage> parse_list_public_keys_response(std::string_view body, Diagnostics& diag) {
  boost::system::error_code jec;
  json::value doc = json::parse(body, jec);
  if (jec) return bad(diag, "the answer is not JSON (" + jec.message() + ")");
  if (!doc.is_object()) return bad(diag, "the answer is not a JSON object");
  const auto& o = doc.get_object();
  ListPublicKeysPage page;
  if (const auto* t = o.if_contains("NextToken"); t && !t->is_null()) {
    if (!t->is_string()) return bad(diag, "NextToken is not a string");
    page.next_token = std::string(t->get_string());
  }
  const auto* list = o.if_contains("PublicKeyList");
  if (!list || list->is_null()) return page;
  if (!list->is_array()) return bad(diag, "PublicKeyList is not an array");
  const auto& arr = list->get_array();
  for (std::size_t i = 0; i < arr.size(); ++i) {
    const std::string at = "PublicKeyList[" + std::to_string(i) + "]";
    if (!arr[i].is_object()) return bad(diag, at + " is not an object");
    const auto& k = arr[i].get_object();
    CloudTrailPublicKey key;
    const auto* value = k.if_contains("Value");
    if (!value || !value->is_string()) return bad(diag, at + ".Value is missing or not a string");
    auto der = base64_decode(value->get_string());
    if (!der || der->empty()) return bad(diag, at + ".Value is not base64");
    key.der = std::move(*der);
    const auto* fp = k.if_contains("Fingerprint");
    if (!fp || !fp->is_string() || fp->get_string().empty()) return bad(diag, at + ".Fingerprint is missing or not a string");
    key.fingerprint = std::string(fp->get_string());
    for (auto [field, out] : {std::pair{"ValidityStartTime", &key.valid_from}, std::pair{"ValidityEndTime", &key.valid_until}}) {
      const auto* tv = k.if_contains(field);
      if (!tv) return bad(diag, at + "." + field + " is missing");
      auto t = timestamp(*tv);
      if (!t) return bad(diag, at + "." + field + " is not a time (epoch seconds)");
      *out = *t;
    }
    page.keys.push_back(std::move(key));
  }
  return page;
}

void PublicKeyRing::add(CloudTrailPublicKey key) {
  auto fp = lower(key.fingerprint);
  keys_.insert_or_assign(std::move(fp), std::move(key));
}

const CloudTrailPublicKey* PublicKeyRing::find(std::string_view fingerprint) const {
  auto it = keys_.find(lower(fingerprint));
  return it == keys_.end() ? nullptr : &it->second;
}

}  // namespace ctsqs::integrity
