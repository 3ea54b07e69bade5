// The Devo sink's TLS setup: certificate, key and CA chain checked with messages that name the
// file, loaded into the OpenSSL context, and the TLS 1.3 acceptance signal.
#include "devo_tls.hpp"

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ssl/error.hpp>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace ctsqs::devo_tls {
namespace {

std::string openssl_error_text() {
  std::string out;
  while (unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out.empty() ? std::string("unknown OpenSSL error") : out;
}

std::string asn1_time_text(const ASN1_TIME* t) {
  BIO* bio = BIO_new(BIO_s_mem());
  if (bio == nullptr) return "?";
  ASN1_TIME_print(bio, t);
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio, &data);
  std::string out(data, static_cast<std::size_t>(n > 0 ? n : 0));
  BIO_free(bio);
  return out;
}

// Our slot on each SSL (Asio uses SSL app data for its verify callback): the connection's
// "accepted" flag.
int acceptance_ex_index() {
  static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

}  // namespace

bool is_ip_literal(const std::string& host) {
  boost::system::error_code ec;
  boost::asio::ip::make_address(host, ec);
  return !ec;
}

std::string alert_reason(const error_code& ec) {
  if (ec.category() != boost::asio::error::get_ssl_category()) return {};
  const char* reason = ERR_reason_error_string(static_cast<unsigned long>(ec.value()));
  if (reason == nullptr) return {};
  std::string r = reason;
  return r.find("alert") != std::string::npos ? r : std::string{};
}

void track_acceptance(SSL* s, bool* accepted) { SSL_set_ex_data(s, acceptance_ex_index(), accepted); }

result<void> load_client_context(SSL_CTX* c, const DevoSinkOptions& opts, Diagnostics& diag) {
  SSL_CTX_set_min_proto_version(c, TLS1_2_VERSION);
  auto fail = [&](std::string msg) -> result<void> {
    diag.clear();
    diag.message = std::move(msg);
    ERR_clear_error();
    return client_errc::invalid_argument;
  };
  // Certificate: readable, PEM, currently valid.
  {
    FILE* f = std::fopen(opts.cert_file.c_str(), "rb");
    if (f == nullptr)
      return fail("devo: cannot read certificate file " + opts.cert_file + ": " +
                  std::strerror(errno));
    X509* cert = PEM_read_X509(f, nullptr, nullptr, nullptr);
    std::fclose(f);
    if (cert == nullptr)
      return fail("devo: certificate file " + opts.cert_file +
                  " does not hold a PEM certificate");
    const int after = X509_cmp_current_time(X509_get0_notAfter(cert));
    const int before = X509_cmp_current_time(X509_get0_notBefore(cert));
    std::string when_after = asn1_time_text(X509_get0_notAfter(cert));
    std::string when_before = asn1_time_text(X509_get0_notBefore(cert));
    X509_free(cert);
    if (after <= 0)
      return fail("devo: certificate " + opts.cert_file + " expired on " + when_after);
    if (before >= 0)
      return fail("devo: certificate " + opts.cert_file + " is not valid before " + when_before);
  }
  if (SSL_CTX_use_certificate_chain_file(c, opts.cert_file.c_str()) != 1)
    return fail("devo: certificate file " + opts.cert_file + " cannot be used: " +
                openssl_error_text());
  {
    FILE* f = std::fopen(opts.key_file.c_str(), "rb");
    if (f == nullptr)
      return fail("devo: cannot read key file " + opts.key_file + ": " + std::strerror(errno));
    // Never prompt for a passphrase: an encrypted key is reported, not asked for.
    EVP_PKEY* key = PEM_read_PrivateKey(f, nullptr, [](char*, int, int, void*) { return 0; },
                                        nullptr);
    std::fclose(f);
    if (key == nullptr)
      return fail("devo: key file " + opts.key_file +
                  " does not hold an unencrypted PEM private key");
    const bool matches = X509_check_private_key(SSL_CTX_get0_certificate(c), key) == 1;
    const bool used = matches && SSL_CTX_use_PrivateKey(c, key) == 1;
    EVP_PKEY_free(key);
    if (!matches)
      return fail("devo: private key " + opts.key_file + " does not match certificate " +
                  opts.cert_file);
    if (!used)
      return fail("devo: private key " + opts.key_file + " cannot be used: " +
                  openssl_error_text());
  }
  if (!opts.chain_file.empty()) {
    if (SSL_CTX_load_verify_locations(c, opts.chain_file.c_str(), nullptr) != 1)
      return fail("devo: CA chain file " + opts.chain_file +
                  " cannot be read as PEM certificates: " + openssl_error_text());
  } else if (SSL_CTX_set_default_verify_paths(c) != 1) {
    return fail("devo: cannot load the system certificate store: " + openssl_error_text());
  }
  SSL_CTX_set_verify(c, opts.verify_server ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, nullptr);
  // TLS 1.3 servers check the client certificate after our handshake is done; a session
  // ticket arriving afterwards tells us it was accepted (see accept_wait).
  SSL_CTX_set_session_cache_mode(c, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
  SSL_CTX_sess_set_new_cb(c, [](SSL* s, SSL_SESSION*) -> int {
    if (auto* accepted = static_cast<bool*>(SSL_get_ex_data(s, acceptance_ex_index()))) *accepted = true;
    return 0;
  });
  return {};
}

}  // namespace ctsqs::devo_tls
