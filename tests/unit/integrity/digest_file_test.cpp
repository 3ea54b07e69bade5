// Unit tests: digest parsing (every field, errors naming the field), the string to sign, the
// SHA256withRSA check against keys made here, ListPublicKeys request and answer.
#include "ctsqs/integrity/digest_file.hpp"

#include "ctsqs/aws/error.hpp"
#include "ctsqs/integrity/public_keys.hpp"

#include "../catch_result.hpp"
#include "catch.hpp"
#include "trail_signer.hpp"

using namespace ctsqs;
using namespace ctsqs::integrity;

namespace {

// The sample of the AWS CloudTrail User Guide's "CloudTrail digest file structure", shortened.
const std::string sample = R"({
  "awsAccountId": "111122223333",
  "digestStartTime": "2015-08-17T14:01:31Z",
  "digestEndTime": "2015-08-17T15:01:31Z",
  "digestS3Bucket": "S3-bucket-name",
  "digestS3Object": "AWSLogs/111122223333/CloudTrail-Digest/us-east-2/2015/08/17/111122223333_CloudTrail-Digest_us-east-2_your-trail-name_us-east-2_20150817T150131Z.json.gz",
  "digestPublicKeyFingerprint": "31e8b5433410dfb61a9dc45cc65b22ff",
  "digestSignatureAlgorithm": "SHA256withRSA",
  "newestEventTime": "2015-08-17T14:52:27Z",
  "oldestEventTime": "2015-08-17T14:42:27Z",
  "previousDigestS3Bucket": "S3-bucket-name",
  "previousDigestS3Object": "AWSLogs/111122223333/CloudTrail-Digest/us-east-2/2015/08/17/111122223333_CloudTrail-Digest_us-east-2_your-trail-name_us-east-2_20150817T140131Z.json.gz",
  "previousDigestHashValue": "97fb791cf91ffc440d274f8190dbdd9aa09c34432aba82739df18b6d3c13df2d",
  "previousDigestHashAlgorithm": "SHA-256",
  "previousDigestSignature": "50887ccffad4c002b97caa37cc9dc626e3c680207d41d27fa5835458e066e0d3",
  "logFiles": [
    {
      "s3Bucket": "S3-bucket-name",
      "s3Object": "AWSLogs/111122223333/CloudTrail/us-east-2/2015/08/17/111122223333_CloudTrail_us-east-2_20150817T1445Z_9nYN7gp2eWAJHIfT.json.gz",
      "hashValue": "9bb6196fc6b84d6f075a56548feca262bd99ba3c2de41b618e5b6e22c1fc71f6",
      "hashAlgorithm": "SHA-256",
      "newestEventTime": "2015-08-17T14:52:27Z",
      "oldestEventTime": "2015-08-17T14:42:27Z"
    }
  ]
})";

std::string with(std::string doc, const std::string& from, const std::string& to) {
  auto at = doc.find(from);
  REQUIRE(at != std::string::npos);
  doc.replace(at, from.size(), to);
  return doc;
}

}  // namespace

TEST_CASE("integrity: a digest file parses with every field", "[integrity]") {
  Diagnostics diag;
  auto d = parse_digest_file(sample, diag);
  REQUIRE(d);
  CHECK(d->aws_account_id == "111122223333");
  CHECK(d->digest_start_time == "2015-08-17T14:01:31Z");
  CHECK(d->digest_end_time == "2015-08-17T15:01:31Z");
  CHECK(d->end - d->start == std::chrono::hours(1));
  CHECK(d->digest_s3_bucket == "S3-bucket-name");
  CHECK(d->digest_s3_object.ends_with("_20150817T150131Z.json.gz"));
  CHECK(d->digest_public_key_fingerprint == "31e8b5433410dfb61a9dc45cc65b22ff");
  CHECK(d->digest_signature_algorithm == "SHA256withRSA");
  CHECK(d->newest_event_time == "2015-08-17T14:52:27Z");
  CHECK(d->oldest_event_time == "2015-08-17T14:42:27Z");
  CHECK(d->previous_digest_s3_bucket == "S3-bucket-name");
  CHECK(d->previous_digest_s3_object->ends_with("_20150817T140131Z.json.gz"));
  CHECK(d->previous_digest_hash_value == "97fb791cf91ffc440d274f8190dbdd9aa09c34432aba82739df18b6d3c13df2d");
  CHECK(d->previous_digest_hash_algorithm == "SHA-256");
  CHECK(d->previous_digest_signature->starts_with("50887ccf"));
  REQUIRE(d->log_files.size() == 1);
  const auto& lf = d->log_files[0];
  CHECK(lf.s3_bucket == "S3-bucket-name");
  CHECK(lf.s3_object.ends_with("_9nYN7gp2eWAJHIfT.json.gz"));
  CHECK(lf.hash_value == "9bb6196fc6b84d6f075a56548feca262bd99ba3c2de41b618e5b6e22c1fc71f6");
  CHECK(lf.hash_algorithm == "SHA-256");
  CHECK(lf.newest_event_time == "2015-08-17T14:52:27Z");
  CHECK(lf.oldest_event_time == "2015-08-17T14:42:27Z");

  // The first digest of a chain: previous fields null, no events: event times null, no log files.
  auto first = with(with(with(sample, R"("previousDigestSignature": "50887ccffad4c002b97caa37cc9dc626e3c680207d41d27fa5835458e066e0d3")",
                                   R"("previousDigestSignature": null)"),
                              R"("newestEventTime": "2015-08-17T14:52:27Z",
  "oldestEventTime": "2015-08-17T14:42:27Z",)", R"("newestEventTime": null, "oldestEventTime": null,)"),
                    R"("previousDigestS3Bucket": "S3-bucket-name",)", R"("previousDigestS3Bucket": null,)");
  auto f = parse_digest_file(first, diag);
  REQUIRE(f);
  CHECK_FALSE(f->previous_digest_signature);
  CHECK_FALSE(f->previous_digest_s3_bucket);
  CHECK_FALSE(f->newest_event_time);
}

TEST_CASE("integrity: a malformed digest is refused naming the field", "[integrity]") {
  struct Row {
    std::string doc;
    std::string says;
  };
  const std::vector<Row> rows = {
      {"not json", "not JSON"},
      {"[1,2]", "an array, not an object"},
      {with(sample, R"("awsAccountId": "111122223333",)", ""), "awsAccountId is missing"},
      {with(sample, R"("digestEndTime": "2015-08-17T15:01:31Z")", R"("digestEndTime": 5)"), "digestEndTime is a number"},
      {with(sample, R"("digestEndTime": "2015-08-17T15:01:31Z")", R"("digestEndTime": "yesterday")"),
       "digestEndTime is not an ISO 8601"},
      {with(sample, R"("digestStartTime": "2015-08-17T14:01:31Z")", R"("digestStartTime": "2015-08-17T16:01:31Z")"),
       "is before digestStartTime"},
      {with(sample, R"("digestS3Object": ")", R"("digestS3Objekt": ")"), "digestS3Object is missing"},
      {with(sample, R"("digestPublicKeyFingerprint": "31e8b5433410dfb61a9dc45cc65b22ff",)", ""),
       "digestPublicKeyFingerprint is missing"},
      {with(sample, R"("previousDigestSignature": )", R"("previousDigestSignatur": )"), "previousDigestSignature is missing"},
      {with(sample, R"("previousDigestS3Object": ")", R"("previousDigestS3Object": 7, "x": ")"),
       "previousDigestS3Object is a number, not a string or null"},
      {with(sample, R"("logFiles": [)", R"("logFiles": {"a": 1}, "x": [)"), "logFiles is an object, not an array"},
      {with(sample, R"("hashValue": "9bb6)", R"("hashValu": "9bb6)"), "logFiles[0]: field hashValue is missing"},
      {with(sample, R"("s3Object": "AWSLogs)", R"("s3Object": 5, "y": "AWSLogs)"), "logFiles[0]: field s3Object is a number"},
  };
  for (const auto& row : rows) {
    INFO(row.says);
    Diagnostics diag;
    auto d = parse_digest_file(row.doc, diag);
    REQUIRE_FALSE(d);
    CHECK(d.error() == integrity_errc::malformed_digest);
    CHECK(diag.message.find(row.says) != std::string::npos);
  }
  Diagnostics diag;
  auto no_logs = parse_digest_file(with(sample, R"("logFiles": [)", R"("logFilez": [)"), diag);
  REQUIRE_FALSE(no_logs);
  CHECK(diag.message == "digest: field logFiles is missing");
}

TEST_CASE("integrity: the string to sign", "[integrity]") {
  Diagnostics diag;
  auto d = parse_digest_file(sample, diag);
  REQUIRE(d);
  const std::string hash(64, 'a');
  CHECK(digest_string_to_sign(*d, hash) ==
        "2015-08-17T15:01:31Z\nS3-bucket-name/" + d->digest_s3_object + "\n" + hash +
            "\n50887ccffad4c002b97caa37cc9dc626e3c680207d41d27fa5835458e066e0d3");
  d->previous_digest_signature.reset();
  CHECK(digest_string_to_sign(*d, hash).ends_with("\n" + hash + "\nnull"));
}

TEST_CASE("integrity: SHA256withRSA signatures verify with the key, and only with it", "[integrity]") {
  test::TrailSigner signer, other("ffff");
  const std::string text = "2026-11-01T01:00:00Z\nb/k\n" + std::string(64, 'e') + "\nnull";
  const auto sig = signer.sign_hex(text);
  Diagnostics diag;
  CHECK(verify_digest_signature(text, sig, signer.public_der(), diag));
  CHECK(verify_digest_signature(text, sig, signer.spki_der(), diag));  // SubjectPublicKeyInfo too
  std::string upper = sig;
  for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  CHECK(verify_digest_signature(text, upper, signer.public_der(), diag));

  auto tampered = verify_digest_signature(text + " ", sig, signer.public_der(), diag);
  REQUIRE_FALSE(tampered);
  CHECK(tampered.error() == integrity_errc::bad_signature);
  auto wrong_key = verify_digest_signature(text, sig, other.public_der(), diag);
  REQUIRE_FALSE(wrong_key);
  CHECK(wrong_key.error() == integrity_errc::bad_signature);
  std::string flipped = sig;
  flipped[10] = flipped[10] == '0' ? '1' : '0';
  CHECK(verify_digest_signature(text, flipped, signer.public_der(), diag).error() == integrity_errc::bad_signature);
  CHECK(verify_digest_signature(text, "xyz", signer.public_der(), diag).error() == integrity_errc::bad_signature);
  CHECK(verify_digest_signature(text, "", signer.public_der(), diag).error() == integrity_errc::bad_signature);
  auto junk_key = verify_digest_signature(text, sig, "not a key", diag);
  REQUIRE_FALSE(junk_key);
  CHECK(junk_key.error() == integrity_errc::unusable_public_key);
  CHECK(verify_digest_signature(text, sig, "", diag).error() == integrity_errc::unusable_public_key);
}

TEST_CASE("integrity: ListPublicKeys request", "[integrity]") {
  ListPublicKeysParams p;
  Diagnostics diag;
  auto ep = resolve_endpoint(AwsService::cloudtrail, "eu-west-1", {}, environment_from({}), diag);
  REQUIRE(ep);
  CHECK(ep->host == "cloudtrail.eu-west-1.amazonaws.com");
  CHECK(ep->signing_name == "cloudtrail");
  auto over = resolve_endpoint(AwsService::cloudtrail, "eu-west-1", {},
                               environment_from({{"AWS_ENDPOINT_URL_CLOUDTRAIL", "http://127.0.0.1:4599"},
                                                 {"AWS_ENDPOINT_URL", "http://127.0.0.1:1"}}), diag);
  REQUIRE(over);
  CHECK(over->host == "127.0.0.1:4599");
  auto global = resolve_endpoint(AwsService::cloudtrail, "eu-west-1", {},
                                 environment_from({{"AWS_ENDPOINT_URL", "http://127.0.0.1:1"}}), diag);
  REQUIRE(global);
  CHECK(global->host == "127.0.0.1:1");

  p.endpoint = *ep;
  p.start_time = std::chrono::sys_days{std::chrono::year{2026} / 11 / 1};
  p.end_time = *p.start_time + std::chrono::hours(2);
  p.next_token = "page-2";
  auto req = make_list_public_keys_request(p, diag);
  REQUIRE(req);
  CHECK(req->method == "POST");
  CHECK(req->path == "/");
  CHECK(req->host == "cloudtrail.eu-west-1.amazonaws.com");
  REQUIRE(req->find_header("X-Amz-Target"));
  CHECK(req->find_header("X-Amz-Target")->value == "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.ListPublicKeys");
  CHECK(req->find_header("Content-Type")->value == "application/x-amz-json-1.1");
  CHECK(req->body == R"({"StartTime":1793491200,"EndTime":1793498400,"NextToken":"page-2"})");
  p.endpoint.host.clear();
  CHECK_FALSE(make_list_public_keys_request(p, diag));
}

TEST_CASE("integrity: ListPublicKeys answer", "[integrity]") {
  test::TrailSigner signer;
  const std::string der = signer.public_der();
  static const char* b64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string enc;
  for (std::size_t i = 0; i < der.size(); i += 3) {
    unsigned v = static_cast<unsigned char>(der[i]) << 16;
    if (i + 1 < der.size()) v |= static_cast<unsigned char>(der[i + 1]) << 8;
    if (i + 2 < der.size()) v |= static_cast<unsigned char>(der[i + 2]);
    enc += b64[(v >> 18) & 63];
    enc += b64[(v >> 12) & 63];
    enc += i + 1 < der.size() ? b64[(v >> 6) & 63] : '=';
    enc += i + 2 < der.size() ? b64[v & 63] : '=';
  }
  Diagnostics diag;
  auto page = parse_list_public_keys_response(
      R"({"PublicKeyList":[{"Value":")" + enc +
          R"(","ValidityStartTime":1.7934912E9,"ValidityEndTime":1793577600,"Fingerprint":"AbCd01"}],"NextToken":"n2"})",
      diag);
  REQUIRE(page);
  REQUIRE(page->keys.size() == 1);
  CHECK(page->keys[0].der == der);
  CHECK(page->keys[0].fingerprint == "AbCd01");
  CHECK(page->keys[0].valid_until - page->keys[0].valid_from == std::chrono::hours(24));
  CHECK(page->next_token == "n2");
  PublicKeyRing ring;
  ring.add(page->keys[0]);
  REQUIRE(ring.find("abcd01"));
  CHECK(ring.find("ABCD01")->der == der);
  CHECK_FALSE(ring.find("abcd02"));

  // A validity end past what a time_point holds (2262) is clamped, not overflowed.
  auto forever = parse_list_public_keys_response(
      R"({"PublicKeyList":[{"Value":"AAAA","ValidityStartTime":0,"ValidityEndTime":1e15,"Fingerprint":"f"}]})", diag);
  REQUIRE(forever);
  CHECK(forever->keys[0].valid_until == std::chrono::sys_days{std::chrono::year{2200} / 1 / 1});

  auto empty = parse_list_public_keys_response(R"({"PublicKeyList":[]})", diag);
  REQUIRE(empty);
  CHECK(empty->keys.empty());
  CHECK(empty->next_token.empty());
  for (const char* bad : {"", "{", "[]", R"({"PublicKeyList":{}})", R"({"PublicKeyList":[1]})",
                          R"({"PublicKeyList":[{"Value":"!!","ValidityStartTime":1,"ValidityEndTime":2,"Fingerprint":"a"}]})",
                          R"({"PublicKeyList":[{"Value":"AAAA","ValidityStartTime":1,"ValidityEndTime":2}]})",
                          R"({"PublicKeyList":[{"Value":"AAAA","ValidityStartTime":"x","ValidityEndTime":2,"Fingerprint":"a"}]})",
                          R"({"NextToken":5})"}) {
    INFO(bad);
    Diagnostics d;
    auto r = parse_list_public_keys_response(bad, d);
    REQUIRE_FALSE(r);
    CHECK(r.error() == aws_errc::malformed_response);
    CHECK(d.message.starts_with("CloudTrail ListPublicKeys: "));
  }
  CHECK(base64_decode("aGVsbG8=") == std::optional<std::string>("hello"));
  CHECK(base64_decode("aGVsbG8") == std::optional<std::string>("hello"));
  CHECK_FALSE(base64_decode("a"));
}
