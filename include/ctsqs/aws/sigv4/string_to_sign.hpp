// SigV4 stage 2: request dates, the credential scope and the string to sign.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

namespace ctsqs::sigv4 {

/// The only algorithm this signer implements.
inline constexpr std::string_view algorithm = "AWS4-HMAC-SHA256";

/// "20150830T123600Z" (ISO 8601 basic, UTC, whole seconds): the X-Amz-Date value.
std::string format_amz_date(std::chrono::system_clock::time_point t);

/// "20150830": the date part of the credential scope.
std::string format_date_stamp(std::chrono::system_clock::time_point t);

/// Parses "YYYYMMDDTHHMMSSZ" (or ISO 8601 "YYYY-MM-DDTHH:MM:SSZ"); false when malformed.
bool parse_amz_date(std::string_view s, std::chrono::system_clock::time_point& out);

/// "20150830/us-east-1/iam/aws4_request".
std::string credential_scope(std::string_view date_stamp, std::string_view region,
                             std::string_view service);

/// "AWS4-HMAC-SHA256\n<amz date>\n<scope>\n<hex sha256 of the canonical request>".
std::string make_string_to_sign(std::string_view amz_date, std::string_view scope,
                                std::string_view canonical_request);

}  // namespace ctsqs::sigv4
