// The Devo sink's TLS setup (lib/sink only): the client certificate, key and CA chain checked and
// loaded into an OpenSSL context with messages that name the file, and the TLS 1.3 acceptance
// signal (a session ticket after our Finished).
#pragma once

#include "ctsqs/error.hpp"
#include "ctsqs/sink/devo_sink_options.hpp"

#include <openssl/ssl.h>

#include <string>

namespace ctsqs::devo_tls {

/// Loads `opts.cert_file` (PEM, currently valid), `opts.key_file` (unencrypted PEM, matching the
/// certificate) and `opts.chain_file` (else the system store) into `c`, sets TLS >= 1.2 and the
/// peer verification of `opts.verify_server`, and turns on the acceptance signal of
/// track_acceptance(). On failure `diag` names the file and what is wrong with it.
result<void> load_client_context(SSL_CTX* c, const DevoSinkOptions& opts, Diagnostics& diag);

/// Sets `*accepted` to true when the server sends a session ticket on `s` (TLS 1.3: it accepted
/// our certificate). `accepted` must outlive `s`'s handshake and reads.
void track_acceptance(SSL* s, bool* accepted);

/// A TLS alert the server sent (its reason string), e.g. "tlsv1 alert unknown ca"; empty if the
/// error is not an alert.
std::string alert_reason(const error_code& ec);

/// Whether `host` is an IP address literal (no SNI is sent for those).
bool is_ip_literal(const std::string& host);

}  // namespace ctsqs::devo_tls
