// `ctsqs sign`: signs a raw HTTP request file with SigV4 and prints the artifacts, to debug SignatureDoesNotMatch.
#include "command.hpp"

#include "ctsqs/aws/credentials/provider.hpp"
#include "ctsqs/environment.hpp"
#include "ctsqs/aws/sigv4/request_text.hpp"
#include "ctsqs/aws/sigv4/signer.hpp"
#include "ctsqs/aws/sigv4/string_to_sign.hpp"

#include <iostream>
#include <iterator>
#include <map>
#include <optional>
#include <string>

namespace ctsqs::cli {
namespace {

struct SignOptions {
  std::string file;
  std::string region;
  std::string service;
  std::string time;
  bool query = false;
  long expires = 900;
  bool no_normalize = false;
  bool sign_body = false;
  bool omit_session_token = false;
  std::string print;
};

int run_sign(const SignOptions& o) {
  std::string text;
  if (o.file == "-") {
    text.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
  } else if (auto read = real_file_reader()(o.file)) {
    text = std::move(*read);
  } else {
    std::cerr << "ctsqs sign: cannot read request file '" << o.file << "'\n";
    return exit_usage;
  }
  Diagnostics diag;
  auto req = sigv4::parse_request_text(text, diag);
  if (!req) {
    std::cerr << "ctsqs sign: " << o.file << ": " << diag.message << "\n";
    return exit_bad_input;
  }

  const std::optional<Credentials> creds = credentials_from_environment(process_environment());
  if (!creds) {
    std::cerr << "ctsqs sign: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN "
                 "for temporary credentials)\n";
    return exit_usage;
  }

  sigv4::SigningParams p;
  p.region = o.region;
  p.service = o.service;
  std::string when = o.time;
  if (when.empty()) {
    // Debugging a failed request: its own X-Amz-Date is the time it was signed at.
    if (const HttpHeader* h = req->find_header("x-amz-date")) when = h->value;
    while (!when.empty() && (when.front() == ' ' || when.front() == '\t')) when.erase(0, 1);
    while (!when.empty() && (when.back() == ' ' || when.back() == '\t')) when.pop_back();
    if (when.empty()) {
      std::cerr << "ctsqs sign: pass --time YYYYMMDDTHHMMSSZ (the request has no X-Amz-Date)\n";
      return exit_usage;
    }
  }
  if (!sigv4::parse_amz_date(when, p.time)) {
    std::cerr << "ctsqs sign: --time '" << when << "' is not YYYYMMDDTHHMMSSZ\n";
    return exit_usage;
  }
  p.query_signing = o.query;
  p.expires = std::chrono::seconds(o.expires);
  p.normalize_path = !o.no_normalize;
  p.sign_body = o.sign_body;
  p.omit_session_token = o.omit_session_token;

  diag.clear();
  auto s = sigv4::sign_request(*req, *creds, p, diag);
  if (!s) {
    std::cerr << "ctsqs sign: " << diag.message << "\n";
    return exit_usage;
  }

  const std::string signed_text = sigv4::to_request_text(s->request);
  if (o.print.empty()) {
    std::cout << "--- canonical-request\n" << s->canonical_request << "\n"
              << "--- string-to-sign\n" << s->string_to_sign << "\n"
              << "--- signature\n" << s->signature << "\n";
    if (!o.query) std::cout << "--- authorization\n" << s->authorization << "\n";
    std::cout << "--- signed-request\n" << signed_text;
    if (!signed_text.empty() && signed_text.back() != '\n') std::cout << "\n";
    return exit_ok;
  }
  if (o.print == "canonical-request") std::cout << s->canonical_request;
  else if (o.print == "string-to-sign") std::cout << s->string_to_sign;
  else if (o.print == "signature") std::cout << s->signature;
  else if (o.print == "signed-request") std::cout << signed_text;
  else if (o.print == "authorization") {
    if (o.query) {
      std::cerr << "ctsqs sign: query signing has no Authorization header; print signed-request\n";
      return exit_usage;
    }
    std::cout << s->authorization;
  }
  return exit_ok;
}

std::function<int()> setup_sign(CLI::App& sub) {
  auto o = std::make_shared<SignOptions>();
  sub.add_option("REQUEST_FILE", o->file,
                 "Raw HTTP/1.1 request (request line, Name:value headers, empty line, body); - for stdin")
      ->required();
  sub.add_option("--region", o->region, "Signing region, e.g. us-east-1")->required();
  sub.add_option("--service", o->service, "Signing name, e.g. sqs, s3, sts")->required();
  sub.add_option("--time", o->time,
                 "Request time YYYYMMDDTHHMMSSZ (default: the request's X-Amz-Date header)");
  auto* query = sub.add_flag("--query", o->query, "Query-string signing (presigned URL)");
  sub.add_option("--expires", o->expires, "X-Amz-Expires in seconds for --query (default 900)")
      ->needs(query)
      ->check(CLI::Range(1L, 604800L));
  sub.add_flag("--no-normalize", o->no_normalize,
               "Do not normalize or double-encode the path (always so for service s3)");
  sub.add_flag("--sign-body", o->sign_body, "Add and sign x-amz-content-sha256 (always so for s3)");
  sub.add_flag("--omit-session-token", o->omit_session_token,
               "Add X-Amz-Security-Token after signing instead of signing it");
  sub.add_option("--print", o->print, "Print only this artifact, byte for byte as the AWS suite's files")
      ->check(CLI::IsMember({"canonical-request", "string-to-sign", "signature", "authorization",
                             "signed-request"}));
  sub.footer(
      "Credentials come from AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN; the "
      "secret is never printed. To debug SignatureDoesNotMatch, compare --print canonical-request "
      "with the CanonicalRequest in AWS's error message.");
  return [o] { return run_sign(*o); };
}

const bool registered = register_command(
    "sign", "Sign a raw HTTP request with SigV4 and print canonical request, string to sign, signature",
    &setup_sign);

}  // namespace
}  // namespace ctsqs::cli
