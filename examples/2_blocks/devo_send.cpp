// Example (building block: DevoSink): send a few CloudTrail-like events to Devo over TLS with the
// domain's client certificate (or over plain TCP to a relay) and wait until they are delivered:
// connect() at start-up names a wrong address or a rejected certificate; flush() is the delivery
// acknowledgement after which a source may be deleted.
//
//   example_devo_send devo://collector-eu.devo.io:443 domain.crt domain.key chain.crt [COUNT]
//   example_devo_send devo://relay.local:13000 --no-tls [COUNT]
#include "ctsqs/sink/devo_sink.hpp"

#include <cstdlib>
#include <iostream>
#include <string>

int main(int argc, char** argv) {
  if (argc < 3) {
    std::cerr << "usage: " << argv[0] << " devo://HOST:PORT CERT KEY CHAIN [COUNT]\n"
              << "       " << argv[0] << " devo://HOST:PORT --no-tls [COUNT]\n";
    return 2;
  }
  ctsqs::DevoSinkOptions options;
  ctsqs::Diagnostics diag;
  if (!ctsqs::parse_devo_url(argv[1], options, diag)) {
    std::cerr << diag << "\n";
    return 2;
  }
  int next = 2;
  if (std::string(argv[2]) == "--no-tls") {
    options.tls = false;
    next = 3;
  } else {
    if (argc < 5) {
      std::cerr << "need CERT KEY CHAIN\n";
      return 2;
    }
    options.cert_file = argv[2];
    options.key_file = argv[3];
    options.chain_file = argv[4];
    next = 5;
  }
  const int count = argc > next ? std::atoi(argv[next]) : 3;

  auto sink = ctsqs::DevoSink::create(options, diag);
  if (!sink) {
    std::cerr << diag << "\n";
    return 2;
  }
  // Fail fast on a wrong address or a certificate the collector rejects.
  if (!(*sink)->connect(diag)) {
    std::cerr << diag << "\n";
    return 1;
  }
  for (int i = 0; i < count; ++i) {
    ctsqs::Event e;
    e.tag = "cloud.aws.cloudtrail.s3";
    e.record = R"({"eventVersion":"1.08","eventSource":"s3.amazonaws.com","eventName":"GetObject","n":)" +
               std::to_string(i) + "}";
    if (!(*sink)->write(e, diag)) break;  // the flush below fails too and reports
  }
  // Success here is the delivery acknowledgement: only now may the source be deleted.
  if (!(*sink)->flush(diag)) {
    std::cerr << "not delivered: " << diag.message << "\n";
    return 1;
  }
  std::cout << "delivered " << count << " events to " << argv[1] << "\n";
  return 0;
}
