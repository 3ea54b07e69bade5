// Benchmark: DevoHttpSink (gzip + HTTPS POST, flush = Devo's 2xx) against DevoSink (TLS syslog,
// flush = the receiver's TCP acknowledgement) on the same events and the same machine.
//
//   bench_devo_http_sink_bench [EVENTS] [RECORD_BYTES] [FLUSH_EVERY]   (200000, 1200, 1000)
// Receivers: rsyslogd with the ossl driver (TLS syslog) and tests/integration/devo_http_receiver.py
// with --count-only (checks path, token, gzip and lines; counts events). Needs rsyslogd, python3
// and openssl (scripts/deps installs them).
#include "ctsqs/sink/devo_http_sink.hpp"
#include "ctsqs/sink/devo_sink.hpp"

#include "../tests/integration/rsyslog_receiver.hpp"

#include <sys/resource.h>
#include <signal.h>
#include <sys/wait.h>
#include <spawn.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>
#include <string>
#include <vector>

extern char** environ;

namespace {

using Clock = std::chrono::steady_clock;

// CloudTrail-like records of `bytes` bytes each (the fields of bench/devo_sink_bench.cpp).
std::vector<ctsqs::Event> make_events(std::size_t n, std::size_t bytes) {
  static const char* services[] = {"s3", "ec2", "iam", "sts", "kms", "lambda"};
  static const char* words[] = {"Describe", "Instances", "arn", "aws", "iam", "Role", "session", "Get",
                                "Object", "bucket", "key", "us-east-1", "eu-west-1", "principal", "Access", "Token"};
  std::uint64_t rng = 4711;
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
    const std::size_t header = e.record.size();
    // Padding of words drawn from a 256-word vocabulary (about 8 bits per 7 characters), so gzip
    // sees text about as compressible as CloudTrail's, not one repeated character.
    while (e.record.size() + 3 < bytes) {
      rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
      const auto w = static_cast<unsigned>(rng >> 56);
      e.record += words[w % 16];
      e.record += std::to_string(w / 16);
      e.record += ' ';
    }
    if (e.record.size() > header && e.record.size() + 3 > bytes) e.record.resize(std::max(header, bytes - 3));
    e.record += R"("})";
  }
  return out;
}

double self_cpu_seconds() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  auto sec = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; };
  return sec(u.ru_utime) + sec(u.ru_stime);
}

struct Figures {
  double seconds = 0, cpu = 0;
  std::uint64_t wire_bytes = 0;
};

void print(const std::string& what, std::size_t events, std::size_t record_bytes, const Figures& f) {
  std::printf("%-44s %8.0f events/s %7.1f MB/s of records  (%zu events in %.3f s, %.1f MB on the wire, CPU %.2f s)\n",
              what.c_str(), static_cast<double>(events) / f.seconds,
              static_cast<double>(events * record_bytes) / 1e6 / f.seconds, events, f.seconds,
              static_cast<double>(f.wire_bytes) / 1e6, f.cpu);
}

template <class Sink>
Figures run(Sink& sink, const std::vector<ctsqs::Event>& events, std::size_t flush_every) {
  Figures f;
  const double c0 = self_cpu_seconds();
  const auto t0 = Clock::now();
  std::size_t n = 0;
  ctsqs::Diagnostics diag;
  for (const auto& e : events) {
    if (!sink.write(e, diag)) throw std::runtime_error("write: " + diag.message);
    if (++n % flush_every == 0 && !sink.flush(diag)) throw std::runtime_error("flush: " + diag.message);
  }
  if (!sink.flush(diag)) throw std::runtime_error("flush: " + diag.message);
  f.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  f.cpu = self_cpu_seconds() - c0;
  return f;
}

// The test receiver in count-only mode, killed by its pid at the end.
struct HttpReceiver {
  pid_t pid = -1;
  std::uint16_t port = 0;
  std::filesystem::path dir;
  HttpReceiver(const ctsqs::test::TestPki& pki, std::filesystem::path d) : dir(std::move(d)) {
    std::filesystem::create_directories(dir);
    port = ctsqs::test::free_loopback_port();
    const std::string script = std::string(CTSQS_SOURCE_DIR) + "/tests/integration/devo_http_receiver.py";
    std::vector<std::string> argv{"python3", script, "--port", std::to_string(port), "--cert", pki.file("server.pem"),
                                  "--key", pki.file("server.key"), "--domain", "bench", "--token",
                                  "benchTOKEN0123456789abcdefABCDEF", "--dir", dir.string(), "--count-only"};
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    if (posix_spawnp(&pid, "python3", nullptr, nullptr, args.data(), environ) != 0)
      throw std::runtime_error("cannot start python3");
    for (int i = 0; i < 200 && !ctsqs::test::port_accepts(port); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  ~HttpReceiver() {
    ::kill(pid, SIGTERM);
    ::waitpid(pid, nullptr, 0);
  }
  std::uint64_t events_received() const {
    std::ifstream in(dir / "requests.jsonl");
    std::string line;
    std::uint64_t n = 0;
    while (std::getline(in, line)) {
      const auto p = line.find("\"events\": ");
      const bool ok = line.find("\"status\": 200") != std::string::npos;
      if (p != std::string::npos && ok) n += std::stoull(line.substr(p + 10));
    }
    return n;
  }
};

}  // namespace

int main(int argc, char** argv) {
  const std::size_t n = argc > 1 ? std::stoul(argv[1]) : 200000;
  const std::size_t record_bytes = argc > 2 ? std::stoul(argv[2]) : 1200;
  const std::size_t flush_every = argc > 3 ? std::stoul(argv[3]) : 1000;
  const auto events = make_events(n, record_bytes);
  const std::string every = " (flush/" + std::to_string(flush_every) + ")";
  try {
    ctsqs::test::NamedTempDir dir("ctsqs-devo-http-bench");
    ctsqs::test::TestPki pki(dir.path());
    {
      ctsqs::test::RsyslogReceiver rx(dir.path() / "tls",
                                      {true, pki.file("ca.pem"), pki.file("server.pem"), pki.file("server.key")});
      ctsqs::DevoSinkOptions o;
      o.address = "127.0.0.1";
      o.port = rx.port();
      o.cert_file = pki.file("client.pem");
      o.key_file = pki.file("client.key");
      o.chain_file = pki.file("ca.pem");
      o.hostname = "bench-host";
      ctsqs::Diagnostics diag;
      auto sink = ctsqs::DevoSink::create(o, diag);
      if (!sink || !(*sink)->connect(diag)) throw std::runtime_error(diag.message);
      auto f = run(**sink, events, flush_every);
      f.wire_bytes = (*sink)->stats().bytes_written;
      print("devo (TLS syslog) -> rsyslogd" + every, n, record_bytes, f);
      const auto lines = rx.wait_for_lines(events.size(), std::chrono::seconds(60));
      if (lines.size() != events.size()) std::printf("  WARNING: rsyslogd wrote %zu of %zu lines\n", lines.size(), n);
    }
    for (int level : {1, 6}) {
      HttpReceiver rx(pki, dir.path() / ("http" + std::to_string(level)));
      ctsqs::DevoHttpSinkOptions o;
      o.endpoint = "https://localhost:" + std::to_string(rx.port);
      o.domain = "bench";
      o.token = "benchTOKEN0123456789abcdefABCDEF";
      o.hostname = "bench-host";
      o.ca_bundle = pki.file("ca.pem");
      o.proxy = ctsqs::transport::ProxyConfig{};
      o.compression_level = level;
      ctsqs::Diagnostics diag;
      auto sink = ctsqs::DevoHttpSink::create(o, diag);
      if (!sink) throw std::runtime_error(diag.message);
      auto f = run(**sink, events, flush_every);
      const auto st = (*sink)->stats();
      f.wire_bytes = st.bytes_sent;
      print("devo_http gzip " + std::to_string(level) + " -> test receiver" + every, n, record_bytes, f);
      std::printf("  %llu requests, %llu retries; receiver counted %llu events\n",
                  static_cast<unsigned long long>(st.requests), static_cast<unsigned long long>(st.retries),
                  static_cast<unsigned long long>(rx.events_received()));
    }
  } catch (const std::exception& e) {
    std::cerr << "bench failed: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
