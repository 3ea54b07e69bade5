// credential_process: credentials printed by an external command named in a shared-config
// profile (aws-vault, granted, a vault plugin...), as the AWS SDKs run it.
#pragma once

#include "ctsqs/aws/credentials.hpp"
#include "ctsqs/error.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>

namespace ctsqs {

/// Bounds of one credential_process run.
struct ProcessCredentialsOptions {
  std::chrono::milliseconds timeout{60000};  ///< then the command's process group is killed
  std::size_t max_output = 64 * 1024;        ///< bytes of stdout accepted (the AWS SDK for Java's limit)
};

/// Parses what a credential_process prints: `{"Version": 1, "AccessKeyId", "SecretAccessKey",
/// "SessionToken"?, "Expiration"? (ISO 8601)}`. Without Expiration the credentials never expire.
/// `what` names the source in messages; the output itself never appears in `diag` (it holds the
/// secret).
result<Credentials> parse_process_credentials_json(std::string_view out, std::string_view what, Diagnostics& diag);

/// Runs `command` with `/bin/sh -c` (stdin /dev/null, the process's own environment, its own
/// process group), waits for it on a separate thread, and parses its stdout. Errors name the
/// profile and say what happened: the exit status with the first line of stderr, a timeout, too
/// much output, or what is wrong with the JSON. Never a byte of stdout.
boost::asio::awaitable<result<Credentials>> async_credential_process(boost::asio::any_io_executor executor,
                                                                     std::string command, std::string profile,
                                                                     ProcessCredentialsOptions options,
                                                                     Diagnostics& diag);

}  // namespace ctsqs
