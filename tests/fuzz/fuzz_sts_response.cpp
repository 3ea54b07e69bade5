// Fuzz target: STS response parsers (AssumeRole, GetCallerIdentity), ISO 8601 and the XML text
// extraction they use, over arbitrary bodies. Checks: no crash, and a secret never leaks into
// the diagnostics of a failed parse.
#include "ctsqs/aws/sts.hpp"

#include "../../lib/detail/xml_reader.hpp"

#include <cstddef>
#include <cstdint>
#include <string>

namespace {
constexpr std::string_view canary = "ctsqs-fuzz-canary-secret-5b2d7a";
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace ctsqs;
  HttpResponse res;
  res.status = 200;
  res.body.assign(reinterpret_cast<const char*>(data), size);
  Diagnostics diag;
  auto role = sts::parse_assume_role_response(res, diag);
  if (role && (role->credentials.access_key_id.empty() || role->credentials.secret_access_key.empty() ||
               role->credentials.session_token.empty() || !role->credentials.expiration))
    __builtin_trap();
  // A parse error must not echo the secret. The input's secret may itself be text that the
  // fixed messages hold ("s no <Credentials>"), so a canary takes its place and the document
  // is parsed again: a message holding the canary can only have copied the secret.
  if (auto inner = detail::xml_element_inner(res.body, "SecretAccessKey");
      inner && !inner->empty() && res.body.find(canary) == std::string::npos) {
    HttpResponse marked = res;
    marked.body.replace(static_cast<std::size_t>(inner->data() - res.body.data()), inner->size(), canary);
    Diagnostics md;
    if (!sts::parse_assume_role_response(marked, md) && md.message.find(canary) != std::string::npos)
      __builtin_trap();
  }
  Diagnostics d2;
  auto id = sts::parse_get_caller_identity_response(res, d2);
  if (id && (id->account.empty() || id->arn.empty())) __builtin_trap();
  Diagnostics d3;
  if (auto t = sts::parse_iso8601(res.body, d3);
      t ? (*t < std::chrono::system_clock::time_point{} || *t > sts::far_future) : d3.message.empty())
    __builtin_trap();  // within [1970, far_future], or an error that says why
  for (const char* name : {"Credentials", "AssumedRoleUser", "Arn", "Error"})
    if (auto inner = detail::xml_element_inner(res.body, name))
      if (inner->data() < res.body.data() || inner->data() + inner->size() > res.body.data() + res.body.size())
        __builtin_trap();  // views stay inside the document
  (void)detail::xml_decode(res.body);
  return 0;
}
