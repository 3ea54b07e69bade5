// One reader for the credentials JSON documents of the ECS/IMDS endpoints and credential_process
// (internal): they differ only in the token's key, a Code or Version field, and wording.
#pragma once

#include "ctsqs/aws/credentials.hpp"
#include "ctsqs/error.hpp"

#include <string_view>

namespace ctsqs::detail {

struct CredentialsJsonDialect {
  std::string_view token_key;    ///< "Token" (ECS, IMDS) or "SessionToken" (credential_process)
  std::string_view noun;         ///< "response" or "output", for messages
  bool check_code = false;       ///< a "Code" other than "Success" is an error (ECS, IMDS)
  bool require_version_1 = false;///< "Version": 1 must be there (credential_process)
};

/// AccessKeyId, SecretAccessKey, the token, and an ISO 8601 Expiration if present. Messages start
/// with `what` and never hold a value from the document.
result<Credentials> parse_credentials_document(std::string_view body, std::string_view what,
                                               const CredentialsJsonDialect& dialect, Diagnostics& diag);

}  // namespace ctsqs::detail
