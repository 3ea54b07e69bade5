// Benchmark: DevoSink throughput (events/s, MB/s) to a local rsyslogd over TLS and plain TCP,
// beside formatting and writing the same lines to /dev/null.
//
//   bench_devo_sink_bench [EVENTS] [RECORD_BYTES]     (defaults 200000 and 1200)
// Needs rsyslogd with the ossl driver and openssl (scripts/deps installs them).
#include "ctsqs/sink/format.hpp"
#include "ctsqs/sink/devo_sink.hpp"

#include "../tests/integration/rsyslog_receiver.hpp"

#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

// CloudTrail-like records of about `bytes` bytes each.
std::vector<ctsqs::Event> make_events(std::size_t n, std::size_t bytes) {
  static const char* services[] = {"s3", "ec2", "iam", "sts", "kms", "lambda"};
  std::vector<ctsqs::Event> out(n);
  for (std::size_t i = 0; i < n; ++i) {
    auto& e = out[i];
    e.tag = std::string("cloud.aws.cloudtrail.") + services[i % 6];
    e.record =
        R"({"eventVersion":"1.08","userIdentity":{"type":"AssumedRole","principalId":"AROAEXAMPLE:session",)"
        R"("arn":"arn:aws:sts::111122223333:assumed-role/Role/session","accountId":"111122223333"},)"
        R"("eventTime":"2024-05-01T12:00:00Z","eventSource":")" +
        std::string(services[i % 6]) +
        R"(.amazonaws.com","eventName":"Describe","awsRegion":"eu-west-1","sourceIPAddress":"203.0.113.7",)"
        R"("userAgent":"aws-cli/2.15","requestParameters":{"n":)" +
        std::to_string(i) + R"(},"eventID":")" + std::to_string(i * 7919) + R"(","pad":")";
    if (e.record.size() + 3 < bytes) e.record += std::string(bytes - e.record.size() - 3, 'p');
    e.record += R"("})";
  }
  return out;
}

struct Figures {
  double seconds = 0;
  std::size_t bytes = 0;
  double cpu_seconds = 0;  // user + system CPU of this process (sink thread + caller)
};

double self_cpu_seconds() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  auto sec = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; };
  return sec(u.ru_utime) + sec(u.ru_stime);
}

void print(const char* what, std::size_t events, const Figures& f) {
  std::printf("%-38s %9.0f events/s %8.1f MB/s  (%zu events, %.1f MB in %.3f s, CPU %.2f s)\n",
              what, static_cast<double>(events) / f.seconds,
              static_cast<double>(f.bytes) / 1e6 / f.seconds, events,
              static_cast<double>(f.bytes) / 1e6, f.seconds, f.cpu_seconds);
}

// Baseline: the same formatting and 64 KiB batching, written to /dev/null.
Figures devnull(const std::vector<ctsqs::Event>& events) {
  const int fd = ::open("/dev/null", O_WRONLY);
  ctsqs::LineOptions lo;
  lo.hostname = "bench-host";
  std::string batch;
  batch.reserve(70000);
  Figures f;
  const double c0 = self_cpu_seconds();
  const auto t0 = Clock::now();
  for (const auto& e : events) {
    lo.time = std::chrono::system_clock::now();
    ctsqs::append_line(batch, e, ctsqs::OutputFormat::devo, lo);
    if (batch.size() >= 65536) {
      f.bytes += batch.size();
      if (::write(fd, batch.data(), batch.size()) < 0) std::perror("write");
      batch.clear();
    }
  }
  f.bytes += batch.size();
  if (::write(fd, batch.data(), batch.size()) < 0) std::perror("write");
  f.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  f.cpu_seconds = self_cpu_seconds() - c0;
  ::close(fd);
  return f;
}

// DevoSink to the receiver: from the first write to a successful flush (every byte
// acknowledged by the receiver's TCP), flushing every `flush_every` events as the collector
// does per SQS message.
Figures to_sink(const std::vector<ctsqs::Event>& events, ctsqs::DevoSinkOptions o,
                std::size_t flush_every, ctsqs::test::RsyslogReceiver& rx) {
  ctsqs::Diagnostics diag;
  auto sink = ctsqs::DevoSink::create(o, diag);
  if (!sink || !(*sink)->connect(diag)) throw std::runtime_error(diag.message);
  Figures f;
  const double c0 = self_cpu_seconds();
  const auto t0 = Clock::now();
  std::size_t n = 0;
  for (const auto& e : events) {
    if (!(*sink)->write(e, diag)) throw std::runtime_error(diag.message);
    if (++n % flush_every == 0 && !(*sink)->flush(diag)) throw std::runtime_error(diag.message);
  }
  if (!(*sink)->flush(diag)) throw std::runtime_error(diag.message);
  f.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  f.cpu_seconds = self_cpu_seconds() - c0;
  f.bytes = (*sink)->stats().bytes_written;
  // Check the receiver got them all (not timed).
  const auto lines = rx.wait_for_lines(events.size(), std::chrono::seconds(60));
  if (lines.size() != events.size())
    std::printf("  WARNING: receiver wrote %zu of %zu lines\n", lines.size(), events.size());
  return f;
}

}  // namespace

int main(int argc, char** argv) {
  const std::size_t n = argc > 1 ? std::stoul(argv[1]) : 200000;
  const std::size_t record_bytes = argc > 2 ? std::stoul(argv[2]) : 1200;
  const auto events = make_events(n, record_bytes);
  try {
    print("format + write to /dev/null", n, devnull(events));

    ctsqs::test::NamedTempDir dir("ctsqs-devo-bench");
    ctsqs::test::TestPki pki(dir.path());
    {
      ctsqs::test::RsyslogReceiver rx(dir.path() / "tls", {true, pki.file("ca.pem"),
                                                            pki.file("server.pem"),
                                                            pki.file("server.key")});
      ctsqs::DevoSinkOptions o;
      o.address = "127.0.0.1";
      o.port = rx.port();
      o.cert_file = pki.file("client.pem");
      o.key_file = pki.file("client.key");
      o.chain_file = pki.file("ca.pem");
      o.hostname = "bench-host";
      print("DevoSink TLS -> rsyslogd (flush/1000)", n, to_sink(events, o, 1000, rx));
    }
    {
      ctsqs::test::RsyslogReceiver rx(dir.path() / "tcp", {false, {}, {}, {}});
      ctsqs::DevoSinkOptions o;
      o.address = "127.0.0.1";
      o.port = rx.port();
      o.tls = false;
      o.hostname = "bench-host";
      print("DevoSink TCP -> rsyslogd (flush/1000)", n, to_sink(events, o, 1000, rx));
    }
  } catch (const std::exception& e) {
    std::cerr << "bench failed: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
