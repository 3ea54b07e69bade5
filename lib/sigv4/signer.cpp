// SigV4 signing: composes the stages into header or query (presigned) signing of an HttpRequest.
#include "ctsqs/aws/sigv4/signer.hpp"

#include "ctsqs/aws/sigv4/canonical_request.hpp"
#include "ctsqs/aws/sigv4/hash.hpp"
#include "ctsqs/aws/sigv4/signing_key.hpp"
#include "ctsqs/aws/sigv4/string_to_sign.hpp"

#include <algorithm>
#include <array>

namespace ctsqs::sigv4 {
namespace {

constexpr std::int64_t max_expires_s = 7 * 24 * 3600;  // AWS's limit for presigned URLs

error_code fail(Diagnostics& diag, std::string message) {
  diag.message = std::move(message);
  return client_errc::invalid_argument;
}

bool is_signing_query_key(std::string_view k) {
  static constexpr std::array<std::string_view, 7> keys = {
      "X-Amz-Algorithm", "X-Amz-Credential",     "X-Amz-Date",     "X-Amz-Expires",
      "X-Amz-SignedHeaders", "X-Amz-Security-Token", "X-Amz-Signature"};
  return std::find(keys.begin(), keys.end(), k) != keys.end();
}

// The raw query without signing parameters of an earlier presign, other parts byte for byte.
std::string strip_signing_params(std::string_view raw) {
  std::string out;
  std::size_t pos = 0;
  while (pos <= raw.size()) {
    std::size_t end = raw.find('&', pos);
    if (end == std::string_view::npos) end = raw.size();
    std::string_view part = raw.substr(pos, end - pos);
    std::string_view key = part.substr(0, part.find('='));
    if (!part.empty() && !is_signing_query_key(percent_decode(key))) {
      if (!out.empty()) out += '&';
      out += part;
    }
    pos = end + 1;
  }
  return out;
}

void erase_headers(HttpRequest& r, std::string_view name) {
  std::erase_if(r.headers, [&](const HttpHeader& h) { return iequals(h.name, name); });
}

}  // namespace

result<SignedRequest> sign_request(const HttpRequest& req, const Credentials& creds,
                                   const SigningParams& params, Diagnostics& diag) {
  if (creds.access_key_id.empty() || creds.secret_access_key.empty())
    return fail(diag, "SigV4: credentials have no access key id or secret access key");
  if (params.region.empty()) return fail(diag, "SigV4: signing region is empty");
  if (params.service.empty()) return fail(diag, "SigV4: signing service is empty");
  if (req.method.empty()) return fail(diag, "SigV4: request method is empty");
  if (params.query_signing &&
      (params.expires.count() < 1 || params.expires.count() > max_expires_s))
    return fail(diag, "SigV4: X-Amz-Expires must be between 1 and 604800 seconds, got " +
                          std::to_string(params.expires.count()));

  const bool is_s3 = params.service == "s3";
  const bool normalize = params.normalize_path && !is_s3;
  const std::string amz_date = format_amz_date(params.time);
  const std::string date_stamp = amz_date.substr(0, 8);
  const std::string scope = credential_scope(date_stamp, params.region, params.service);
  const bool sign_token = !creds.session_token.empty() && !params.omit_session_token;

  SignedRequest out;
  HttpRequest& r = out.request;
  r = req;
  if (!r.find_header("host")) {
    if (r.host.empty()) return fail(diag, "SigV4: request has neither a Host header nor a host");
    r.headers.insert(r.headers.begin(), HttpHeader{"Host", r.host});
  }

  std::string payload_hash;
  if (const HttpHeader* h = r.find_header("x-amz-content-sha256"))
    payload_hash = canonical_header_value(h->value);
  else if (params.unsigned_payload || (params.query_signing && is_s3))
    payload_hash = "UNSIGNED-PAYLOAD";
  else
    payload_hash = sha256_hex(r.body);

  SigningKeyCache& cache = params.key_cache ? *params.key_cache : default_signing_key_cache();
  const Digest key = cache.get(creds.secret_access_key, date_stamp, params.region, params.service);

  if (!params.query_signing) {
    erase_headers(r, "authorization");
    erase_headers(r, "x-amz-date");
    erase_headers(r, "x-amz-security-token");
    if (sign_token) r.headers.push_back({"X-Amz-Security-Token", creds.session_token});
    r.headers.push_back({"X-Amz-Date", amz_date});
    if ((is_s3 || params.sign_body) && !r.find_header("x-amz-content-sha256"))
      r.headers.push_back({"x-amz-content-sha256", payload_hash});

    CanonicalHeaders ch = canonical_headers(r.headers, params.unsigned_headers);
    out.canonical_request = make_canonical_request(r.method, canonical_uri(r.path, normalize),
                                                   canonical_query_string(r.query), ch, payload_hash);
    out.string_to_sign = make_string_to_sign(amz_date, scope, out.canonical_request);
    out.signature = make_signature(key, out.string_to_sign);
    out.signed_headers = ch.signed_headers;
    out.authorization = std::string(algorithm) + " Credential=" + creds.access_key_id + "/" + scope +
                        ", SignedHeaders=" + ch.signed_headers + ", Signature=" + out.signature;
    r.headers.push_back({"Authorization", out.authorization});
    if (!creds.session_token.empty() && params.omit_session_token)
      r.headers.push_back({"X-Amz-Security-Token", creds.session_token});
    return out;
  }

  // Query signing: the X-Amz-* parameters join the request's own in the canonical query.
  r.query = strip_signing_params(r.query);
  CanonicalHeaders ch = canonical_headers(r.headers, params.unsigned_headers);
  const std::string credential = creds.access_key_id + "/" + scope;
  const std::string expires = std::to_string(params.expires.count());
  std::vector<QueryParam> qp = parse_query(r.query);
  qp.push_back({"X-Amz-Algorithm", std::string(algorithm)});
  qp.push_back({"X-Amz-Credential", credential});
  qp.push_back({"X-Amz-Date", amz_date});
  qp.push_back({"X-Amz-Expires", expires});
  qp.push_back({"X-Amz-SignedHeaders", ch.signed_headers});
  if (sign_token) qp.push_back({"X-Amz-Security-Token", creds.session_token});

  out.canonical_request = make_canonical_request(r.method, canonical_uri(r.path, normalize),
                                                 canonical_query_string(qp), ch, payload_hash);
  out.string_to_sign = make_string_to_sign(amz_date, scope, out.canonical_request);
  out.signature = make_signature(key, out.string_to_sign);
  out.signed_headers = ch.signed_headers;

  std::string q = r.query;
  auto add = [&q](std::string_view k, std::string_view v) {
    if (!q.empty()) q += '&';
    q.append(k).append("=").append(uri_encode(v, true));
  };
  add("X-Amz-Algorithm", algorithm);
  add("X-Amz-Credential", credential);
  add("X-Amz-Date", amz_date);
  add("X-Amz-SignedHeaders", ch.signed_headers);
  add("X-Amz-Expires", expires);
  if (sign_token) add("X-Amz-Security-Token", creds.session_token);
  add("X-Amz-Signature", out.signature);
  if (!creds.session_token.empty() && params.omit_session_token)
    add("X-Amz-Security-Token", creds.session_token);
  r.query = std::move(q);
  return out;
}

result<void> sign(HttpRequest& req, const Credentials& creds, const SigningParams& params, Diagnostics& diag) {
  auto signed_req = sign_request(req, creds, params, diag);
  if (!signed_req) return signed_req.error();
  req = std::move(signed_req->request);
  return {};
}

result<std::string> presign_url(const HttpRequest& req, const Credentials& creds,
                                SigningParams params, Diagnostics& diag) {
  params.query_signing = true;
  auto signed_req = sign_request(req, creds, params, diag);
  if (!signed_req) return signed_req.error();
  return signed_req->request.url();
}

}  // namespace ctsqs::sigv4
