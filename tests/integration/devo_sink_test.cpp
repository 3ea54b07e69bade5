// Integration tests of DevoSink against a real rsyslogd on loopback (TLS with client
// certificates via the ossl driver, and plain TCP as a relay).
#include "ctsqs/sink/devo_sink.hpp"

#include "catch.hpp"
#include "rsyslog_receiver.hpp"

#include <atomic>
#include <csignal>
#include <map>
#include <regex>
#include <set>
#include <thread>

using ctsqs::DevoSink;
using ctsqs::DevoSinkOptions;
using ctsqs::Diagnostics;
using ctsqs::Event;
using ctsqs::test::RsyslogReceiver;
using ctsqs::test::NamedTempDir;
using ctsqs::test::TestPki;

namespace {

bool have_rsyslog() {
  return std::system("command -v rsyslogd >/dev/null 2>&1 && command -v openssl >/dev/null 2>&1") == 0 &&
         (std::filesystem::exists("/usr/lib/x86_64-linux-gnu/rsyslog/lmnsd_ossl.so") ||
          std::system("ls /usr/lib/*/rsyslog/lmnsd_ossl.so /usr/lib/rsyslog/lmnsd_ossl.so "
                      ">/dev/null 2>&1") == 0);
}

#define REQUIRE_RSYSLOG()                                                              \
  do {                                                                                 \
    if (!have_rsyslog()) {                                                             \
      WARN("SKIPPED: rsyslogd with the ossl driver or openssl missing (scripts/deps installs them)"); \
      return;                                                                          \
    }                                                                                  \
  } while (0)

// Event number `i`: varied tags and records with the characters that break naive framing
// (escaped newlines and quotes, non-ASCII, a colon and a '<' early in the JSON).
Event make_event(int i, std::size_t pad = 0) {
  static const char* services[] = {"s3", "ec2", "iam", "sts", "kms", "cloudtrail"};
  Event e;
  e.tag = std::string("cloud.aws.cloudtrail.") + services[i % 6];
  e.record = R"({"eventVersion":"1.08","id":)" + std::to_string(i) +
             R"(,"eventName":"Get<Object>: x","note":"line1\nline2 \"q\" \u00e9 caf\u00e9 é 😀",)" +
             R"("pad":")" + std::string(pad, 'x') + R"("})";
  return e;
}

// A TLS receiver with the test CA's server certificate, requiring client certificates of that CA.
RsyslogReceiver::Options tls_receiver(const TestPki& pki) {
  return {true, pki.file("ca.pem"), pki.file("server.pem"), pki.file("server.key")};
}

DevoSinkOptions tls_options(const TestPki& pki, const RsyslogReceiver& rx) {
  DevoSinkOptions o;
  o.address = "127.0.0.1";
  o.port = rx.port();
  o.cert_file = pki.file("client.pem");
  o.key_file = pki.file("client.key");
  o.chain_file = pki.file("ca.pem");
  o.hostname = "ctsqs-test-host";
  o.flush_timeout = std::chrono::seconds(20);
  o.backoff_initial = std::chrono::milliseconds(50);
  o.backoff_max = std::chrono::milliseconds(400);
  return o;
}

std::unique_ptr<DevoSink> make_sink(const DevoSinkOptions& o) {
  Diagnostics diag;
  auto sink = DevoSink::create(o, diag);
  INFO(diag.message);
  REQUIRE(sink);
  return std::move(*sink);
}

// Split a received line into (tag, record) after checking the syslog header.
struct Received {
  std::string tag, record;
};
Received parse_line(const std::string& line, const std::string& hostname) {
  static const std::regex header(R"(^<14>[A-Z][a-z]{2} [ 0-9][0-9] [0-9]{2}:[0-9]{2}:[0-9]{2} )");
  std::smatch m;
  INFO(line.substr(0, 200));
  REQUIRE(std::regex_search(line, m, header));
  std::string rest = line.substr(static_cast<std::size_t>(m.length(0)));
  REQUIRE(rest.rfind(hostname + " ", 0) == 0);
  rest = rest.substr(hostname.size() + 1);
  const auto colon = rest.find(": ");
  REQUIRE(colon != std::string::npos);
  return {rest.substr(0, colon), rest.substr(colon + 2)};
}

// The event id in a record made by make_event.
int id_of(const std::string& record) {
  const auto p = record.find(R"("id":)");
  REQUIRE(p != std::string::npos);
  return std::stoi(record.substr(p + 5));
}

}  // namespace

TEST_CASE("DevoSink over TLS: every event arrives exactly as sent, tags intact", "[devo]") {
  Diagnostics sd;  // the sink's report of a failure
  REQUIRE_RSYSLOG();
  NamedTempDir dir("ctsqs-devo");
  TestPki pki(dir.path());
  RsyslogReceiver rx(dir.path() / "rx", tls_receiver(pki));
  auto o = tls_options(pki, rx);
  o.batch_bytes = 16 << 10;
  auto sink = make_sink(o);
  Diagnostics diag;
  REQUIRE(sink->connect(diag));

  std::vector<Event> sent;
  for (int i = 0; i < 3000; ++i) {
    sent.push_back(make_event(i, i % 500 == 7 ? 200000 : static_cast<std::size_t>(i % 97)));
    REQUIRE(sink->write(sent.back(), sd));
    if (i % 1000 == 999) REQUIRE(sink->flush(sd));
  }
  REQUIRE(sink->flush(sd));
  const auto lines = rx.wait_for_lines(sent.size());
  REQUIRE(lines.size() == sent.size());
  for (std::size_t i = 0; i < sent.size(); ++i) {
    const Received r = parse_line(lines[i], "ctsqs-test-host");
    CHECK(r.tag == sent[i].tag);
    CHECK(r.record == sent[i].record);
  }
  CHECK(sink->stats().events == sent.size());
  CHECK(sink->stats().failed_flushes == 0);
}

TEST_CASE("DevoSink warns when it is created with server verification off, and only then", "[devo]") {
  NamedTempDir dir("ctsqs-devo");
  TestPki pki(dir.path());
  DevoSinkOptions o;
  o.address = "127.0.0.1";
  o.port = 9;  // never connected to here
  o.cert_file = pki.file("client.pem");
  o.key_file = pki.file("client.key");
  o.chain_file = pki.file("ca.pem");
  std::vector<std::string> logged;
  o.log = [&](std::string_view l) { logged.emplace_back(l); };
  Diagnostics diag;
  REQUIRE(DevoSink::create(o, diag));
  CHECK(logged.empty());
  o.verify_server = false;
  REQUIRE(DevoSink::create(o, diag));
  REQUIRE(logged.size() == 1);
  CHECK(logged[0].find("warning: Devo server certificate verification is OFF for 127.0.0.1:9 "
                       "(outputs.devo.verify_server: false)") != std::string::npos);
}

TEST_CASE("DevoSink to a relay over plain TCP", "[devo]") {
  Diagnostics sd;  // the sink's report of a failure
  REQUIRE_RSYSLOG();
  NamedTempDir dir("ctsqs-devo");
  RsyslogReceiver rx(dir.path() / "rx", {false, {}, {}, {}});
  DevoSinkOptions o;
  o.address = "localhost";
  o.port = rx.port();
  o.tls = false;
  o.hostname = "relay-client";
  o.priority = 14;
  auto sink = make_sink(o);
  std::vector<Event> sent;
  for (int i = 0; i < 500; ++i) {
    sent.push_back(make_event(i, static_cast<std::size_t>(i)));
    REQUIRE(sink->write(sent.back(), sd));
  }
  REQUIRE(sink->flush(sd));
  const auto lines = rx.wait_for_lines(sent.size());
  REQUIRE(lines.size() == sent.size());
  for (std::size_t i = 0; i < sent.size(); ++i) {
    const Received r = parse_line(lines[i], "relay-client");
    CHECK(r.tag == sent[i].tag);
    CHECK(r.record == sent[i].record);
  }
}

TEST_CASE("DevoSink: certificate and connection errors say what and where", "[devo]") {
  Diagnostics sd;  // the sink's report of a failure
  REQUIRE_RSYSLOG();
  NamedTempDir dir("ctsqs-devo");
  TestPki pki(dir.path());
  RsyslogReceiver rx(dir.path() / "rx", tls_receiver(pki));
  const std::string endpoint = "127.0.0.1:" + std::to_string(rx.port());
  Diagnostics diag;

  SECTION("a client certificate from another CA is refused by the receiver") {
    auto o = tls_options(pki, rx);
    o.cert_file = pki.file("other-client.pem");
    o.key_file = pki.file("other-client.key");
    auto sink = make_sink(o);
    CHECK_FALSE(sink->connect(diag));
    INFO(diag.message);
    CHECK(diag.message.find(endpoint + " rejected the client certificate " + o.cert_file) !=
          std::string::npos);
    // Writing anyway: the flush fails (quickly, with the same reason) and nothing arrives.
    REQUIRE(sink->write(make_event(1), sd));
    CHECK_FALSE(sink->flush(sd));
    CHECK(sd.message.find("rejected the client certificate") !=
          std::string::npos);
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    CHECK(rx.lines().empty());
  }
  SECTION("an expired client certificate is reported at creation, naming the file") {
    auto o = tls_options(pki, rx);
    o.cert_file = pki.file("expired-client.pem");
    o.key_file = pki.file("expired-client.key");
    auto sink = DevoSink::create(o, diag);
    CHECK_FALSE(sink);
    CHECK(diag.message == "devo: certificate " + o.cert_file + " expired on Feb  1 00:00:00 2020 GMT");
  }
  SECTION("a key that does not match the certificate") {
    auto o = tls_options(pki, rx);
    o.key_file = pki.file("other-client.key");
    CHECK_FALSE(DevoSink::create(o, diag));
    CHECK(diag.message == "devo: private key " + o.key_file + " does not match certificate " +
                              o.cert_file);
  }
  SECTION("a certificate file that is not PEM, and a missing key file") {
    auto o = tls_options(pki, rx);
    o.cert_file = pki.file("san.ext");
    CHECK_FALSE(DevoSink::create(o, diag));
    CHECK(diag.message == "devo: certificate file " + o.cert_file + " does not hold a PEM certificate");
    o = tls_options(pki, rx);
    o.key_file = pki.file("nope.key");
    CHECK_FALSE(DevoSink::create(o, diag));
    CHECK(diag.message.find("devo: cannot read key file " + o.key_file) == 0);
  }
  SECTION("a server certificate not signed by the given chain is not trusted") {
    auto o = tls_options(pki, rx);
    o.chain_file = pki.file("other-ca.pem");
    auto sink = make_sink(o);
    CHECK_FALSE(sink->connect(diag));
    CHECK(diag.message.find("devo: server certificate of " + endpoint + " is not trusted (chain " +
                            o.chain_file) == 0);
  }
  SECTION("a server name that does not match its certificate is not trusted") {
    auto o = tls_options(pki, rx);
    o.server_name = "collector-us.devo.io";
    auto sink = make_sink(o);
    CHECK_FALSE(sink->connect(diag));
    INFO(diag.message);
    CHECK(diag.message.find("is not trusted") != std::string::npos);
  }
  SECTION("a refused connection names the address; flush fails after its timeout") {
    auto o = tls_options(pki, rx);
    rx.stop(SIGTERM);
    o.flush_timeout = std::chrono::milliseconds(800);
    auto sink = make_sink(o);
    CHECK_FALSE(sink->connect(diag));
    CHECK(diag.message == "devo: connection to " + endpoint + " refused");
    REQUIRE(sink->write(make_event(1), sd));
    CHECK_FALSE(sink->flush(sd));
    CHECK(sd.message.find("last error: devo: connection to " + endpoint +
                                                " refused") != std::string::npos);
  }
}

// With TLS 1.2 the receiver checks the client certificate inside the handshake.
TEST_CASE("DevoSink against a TLS 1.2-only receiver", "[devo]") {
  Diagnostics sd;  // the sink's report of a failure
  REQUIRE_RSYSLOG();
  NamedTempDir dir("ctsqs-devo");
  TestPki pki(dir.path());
  RsyslogReceiver rx(dir.path() / "rx", {true, pki.file("ca.pem"), pki.file("server.pem"),
                                         pki.file("server.key"), true});
  Diagnostics diag;
  {
    auto o = tls_options(pki, rx);
    o.cert_file = pki.file("other-client.pem");
    o.key_file = pki.file("other-client.key");
    auto sink = make_sink(o);
    CHECK_FALSE(sink->connect(diag));
    CHECK(diag.message.find("rejected the client certificate " + o.cert_file) != std::string::npos);
  }
  auto sink = make_sink(tls_options(pki, rx));
  for (int i = 0; i < 100; ++i) REQUIRE(sink->write(make_event(i), sd));
  REQUIRE(sink->flush(sd));
  const auto lines = rx.wait_for_lines(100);
  REQUIRE(lines.size() == 100);
  for (int i = 0; i < 100; ++i)
    CHECK(parse_line(lines[static_cast<std::size_t>(i)], "ctsqs-test-host").record == make_event(i).record);
}

// Receiver killed (SIGKILL) or stopped (SIGTERM) in the middle of a batch, then restarted: the
// flush covering the lost connection fails, the re-sent batch (the SQS message coming back)
// succeeds after the reconnect, every event arrives at least once, and every event of every
// successful flush is in the receiver's output.
TEST_CASE("DevoSink: receiver restarted mid-stream: at least once, nothing acknowledged unflushed",
          "[devo]") {
  Diagnostics sd;  // the sink's report of a failure
  REQUIRE_RSYSLOG();
  NamedTempDir dir("ctsqs-devo");
  TestPki pki(dir.path());
  RsyslogReceiver rx(dir.path() / "rx", tls_receiver(pki));
  auto o = tls_options(pki, rx);
  o.batch_bytes = 2048;  // hand bytes to the socket early so some are on the wire at the kill
  auto sink = make_sink(o);

  constexpr int batches = 8, per_batch = 300;
  std::set<int> acknowledged;
  int failed_flushes = 0, restarts = 0;

  // Acknowledged events the receiver has not written yet, waiting up to 10 s for it to catch up.
  std::vector<std::string> lines;
  std::map<int, int> seen;
  const auto missing_after_wait = [&] {
    std::vector<int> missing;
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    do {
      if (!missing.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(50));
      lines = rx.lines();
      seen.clear();
      missing.clear();
      for (const auto& line : lines) ++seen[id_of(parse_line(line, "ctsqs-test-host").record)];
      for (int id : acknowledged)
        if (seen.find(id) == seen.end()) missing.push_back(id);
    } while (!missing.empty() && std::chrono::steady_clock::now() < until);
    return missing;
  };
  for (int b = 0; b < batches; ++b) {
    const bool disrupt = b % 2 == 1;
    for (int attempt = 0; attempt < 10; ++attempt) {
      std::thread restarter;
      const auto bytes_before = sink->stats().bytes_written;
      for (int k = 0; k < per_batch; ++k) {
        REQUIRE(sink->write(make_event(b * per_batch + k), sd));
        if (disrupt && attempt == 0 && k == per_batch / 2) {
          // Wait until the I/O thread put part of this batch on the wire, then take the
          // receiver down.
          const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
          while (sink->stats().bytes_written == bytes_before &&
                 std::chrono::steady_clock::now() < until)
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
          REQUIRE(sink->stats().bytes_written > bytes_before);
          // Syslog has no receipt: what the receiver's TCP acknowledged but its process had not
          // written yet dies with a SIGKILL, invisibly to any sender (documented). So the test
          // takes the receiver down only once it wrote every event of the earlier successful
          // flushes; on a loaded machine rsyslogd can lag behind its TCP by hundreds of lines.
          const auto behind = missing_after_wait();
          INFO("receiver has not written " << behind.size() << " acknowledged events");
          REQUIRE(behind.empty());
          rx.stop(b % 4 == 1 ? SIGKILL : SIGTERM);
          ++restarts;
          restarter = std::thread([&rx] {
            std::this_thread::sleep_for(std::chrono::milliseconds(400));
            rx.start();
          });
        }
      }
      const bool ok = static_cast<bool>(sink->flush(sd));
      if (restarter.joinable()) restarter.join();
      if (ok) {
        for (int k = 0; k < per_batch; ++k) acknowledged.insert(b * per_batch + k);
        break;
      }
      ++failed_flushes;
      INFO(sd.message);
      CHECK(attempt == 0);  // only the flush across the disruption may fail
    }
  }
  CHECK(restarts == batches / 2);
  CHECK(failed_flushes == restarts);  // each disruption failed exactly the flush it hit
  CHECK(acknowledged.size() == static_cast<std::size_t>(batches * per_batch));

  // Every acknowledged event is in the output (at least once); count duplicates for the log.
  // (The receiver may still be writing what its TCP already acknowledged: wait up to 10 s.)
  const auto missing = missing_after_wait();
  INFO("missing " << missing.size() << " events, first " << (missing.empty() ? -1 : missing[0]));
  CHECK(missing.empty());
  std::size_t dups = 0;
  for (const auto& [id, n] : seen) dups += static_cast<std::size_t>(n - 1);
  WARN("received " << lines.size() << " lines for " << acknowledged.size() << " events (" << dups
                   << " duplicates from re-sent batches)");
  CHECK(sink->stats().failed_flushes == static_cast<std::uint64_t>(failed_flushes));
}

// A receiver that stops reading (SIGSTOP): writes block on the bounded buffer, then the write
// or the flush fails after flush_timeout naming the endpoint; once the receiver reads again the
// sink replaces the stuck connection and the re-sent events are delivered.
TEST_CASE("DevoSink: stalled receiver: backpressure, flush timeout, recovery", "[devo]") {
  Diagnostics sd;  // the sink's report of a failure
  REQUIRE_RSYSLOG();
  NamedTempDir dir("ctsqs-devo");
  TestPki pki(dir.path());
  RsyslogReceiver rx(dir.path() / "rx", tls_receiver(pki));
  auto o = tls_options(pki, rx);
  o.buffer_bytes = 256 << 10;
  o.batch_bytes = 16 << 10;
  o.flush_timeout = std::chrono::milliseconds(1500);
  auto sink = make_sink(o);
  Diagnostics diag;
  REQUIRE(sink->connect(diag));

  rx.pause();
  // ~64 MB: far more than the socket buffers and our 256 KiB hold, so a write must block and
  // give up after flush_timeout.
  bool write_failed = false;
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < 6000 && !write_failed; ++i) write_failed = !sink->write(make_event(i, 10000), sd);
  const auto waited = std::chrono::steady_clock::now() - t0;
  CHECK(write_failed);
  CHECK(waited >= std::chrono::milliseconds(1400));
  CHECK(sd.message.find("devo: buffer to 127.0.0.1:" + std::to_string(rx.port()) +
                                              " stayed full for 1500 ms") == 0);
  CHECK_FALSE(sink->flush(sd));  // the events of this flush are not all delivered

  // Still stalled: a small flush times out (the receiver's TCP does not acknowledge).
  REQUIRE(sink->write(make_event(100000), sd));
  CHECK_FALSE(sink->flush(sd));
  INFO(sd.message);
  CHECK(sd.message.find("not confirmed within 1500 ms") != std::string::npos);

  rx.resume();
  // The re-sent events (the SQS messages coming back) get through on a fresh connection.
  for (int i = 200000; i < 200100; ++i) REQUIRE(sink->write(make_event(i), sd));
  bool ok = static_cast<bool>(sink->flush(sd));
  if (!ok) ok = static_cast<bool>(sink->flush(sd));  // a flush may still meet the old connection
  REQUIRE(ok);
  std::set<int> seen;
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (std::chrono::steady_clock::now() < until) {
    seen.clear();
    for (const auto& line : rx.lines()) seen.insert(id_of(parse_line(line, "ctsqs-test-host").record));
    bool all = true;
    for (int i = 200000; i < 200100; ++i) all = all && seen.count(i) == 1;
    if (all) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  for (int i = 200000; i < 200100; ++i) CHECK(seen.count(i) == 1);
}

TEST_CASE("DevoSink: periodic reconnect recycles the connection without losing events", "[devo]") {
  Diagnostics sd;  // the sink's report of a failure
  REQUIRE_RSYSLOG();
  NamedTempDir dir("ctsqs-devo");
  TestPki pki(dir.path());
  RsyslogReceiver rx(dir.path() / "rx", tls_receiver(pki));
  auto o = tls_options(pki, rx);
  o.reconnect_every = std::chrono::seconds(1);
  o.batch_bytes = 1024;
  auto sink = make_sink(o);
  int n = 0;
  const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(3300);
  while (std::chrono::steady_clock::now() < until) {
    for (int k = 0; k < 20; ++k) REQUIRE(sink->write(make_event(n++), sd));
    REQUIRE(sink->flush(sd));
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  const auto lines = rx.wait_for_lines(static_cast<std::size_t>(n));
  REQUIRE(lines.size() == static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) CHECK(id_of(parse_line(lines[static_cast<std::size_t>(i)], "ctsqs-test-host").record) == i);
  CHECK(sink->stats().connections >= 3);
}

// `ctsqs decode --output devo://...` delivers the same lines `--format devo` prints (apart from
// the time stamp), and a refused certificate ends it with exit 1 and the reason.
TEST_CASE("ctsqs decode --output devo:// sends the devo lines to the receiver", "[devo][cli]") {
  REQUIRE_RSYSLOG();
  const std::filesystem::path bin = std::filesystem::path(CTSQS_BINARY_DIR) / "cli" / "ctsqs";
  const std::filesystem::path logs = std::filesystem::path(CTSQS_SOURCE_DIR) / "examples" / "logs";
  if (!std::filesystem::exists(bin)) {
    WARN("ctsqs CLI not built: " << bin);
    return;
  }
  NamedTempDir dir("ctsqs-devo");
  TestPki pki(dir.path());
  RsyslogReceiver rx(dir.path() / "rx", tls_receiver(pki));
  // --ordered: files decode in parallel, and the two runs are compared line by line.
  const std::string common = bin.string() + " decode -q --ordered --hostname cli-host ";
  const std::string expected_file = (dir.path() / "expected.log").string();
  REQUIRE(std::system((common + "-f devo '" + logs.string() + "' > '" + expected_file + "' 2>/dev/null").c_str()) == 0);
  const std::string to_devo = common + "--output devo://127.0.0.1:" + std::to_string(rx.port()) +
                              " --devo-chain '" + pki.file("ca.pem") + "' ";
  const std::string err_file = (dir.path() / "err.txt").string();
  REQUIRE(std::system((to_devo + "--devo-cert '" + pki.file("client.pem") + "' --devo-key '" +
                       pki.file("client.key") + "' '" + logs.string() + "' 2>'" + err_file + "'")
                          .c_str()) == 0);

  std::vector<std::string> expected;
  {
    std::ifstream in(expected_file);
    for (std::string l; std::getline(in, l);) expected.push_back(l);
  }
  REQUIRE(expected.size() > 5);
  const auto lines = rx.wait_for_lines(expected.size());
  REQUIRE(lines.size() == expected.size());
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const Received got = parse_line(lines[i], "cli-host");
    const Received want = parse_line(expected[i], "cli-host");
    CHECK(got.tag == want.tag);
    CHECK(got.record == want.record);
  }

  // Another CA's certificate: exit 1, the reason on stderr, nothing more arrives.
  const int status = std::system((to_devo + "--devo-cert '" + pki.file("other-client.pem") +
                                  "' --devo-key '" + pki.file("other-client.key") + "' '" +
                                  logs.string() + "' 2>'" + err_file + "'")
                                     .c_str());
  CHECK(WEXITSTATUS(status) == 1);
  const std::string err = RsyslogReceiver::read_file(err_file);
  CHECK(err.find("rejected the client certificate " + pki.file("other-client.pem")) !=
        std::string::npos);
  CHECK(rx.lines().size() == expected.size());

  // A relay over plain TCP: --devo-no-tls.
  RsyslogReceiver relay(dir.path() / "relay", {false, {}, {}, {}});
  REQUIRE(std::system((common + "--output devo://localhost:" + std::to_string(relay.port()) +
                       " --devo-no-tls '" + logs.string() + "' 2>'" + err_file + "'")
                          .c_str()) == 0);
  const auto relayed = relay.wait_for_lines(expected.size());
  REQUIRE(relayed.size() == expected.size());
  for (std::size_t i = 0; i < relayed.size(); ++i)
    CHECK(parse_line(relayed[i], "cli-host").record == parse_line(expected[i], "cli-host").record);
}

namespace {

// True while `pid` is a live process (a zombie or a vanished pid is not).
bool process_alive(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  const auto paren = text.rfind(')');
  return paren != std::string::npos && paren + 2 < text.size() && text[paren + 2] != 'Z';
}

}  // namespace

TEST_CASE("RsyslogReceiver: rsyslogd does not outlive a test process that is killed",
          "[devo][harness]") {
  REQUIRE_RSYSLOG();
  NamedTempDir dir("ctsqs-rx-orphan");
  const auto ready = dir.path() / "ready";
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    // A test process that starts a receiver and then dies without running destructors (as
    // under a ctest timeout or a crash).
    try {
      RsyslogReceiver rx(dir.path() / "rx", {false, {}, {}, {}});
      std::ofstream(ready) << "up\n";
      for (;;) ::pause();
    } catch (...) {
      ::_exit(3);
    }
  }
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (!std::filesystem::exists(ready) && std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  const bool started = std::filesystem::exists(ready);
  pid_t rsyslog_pid = 0;
  std::ifstream(dir.path() / "rx" / "rsyslogd.pid") >> rsyslog_pid;
  ::kill(child, SIGKILL);
  int status = 0;
  ::waitpid(child, &status, 0);
  REQUIRE(started);
  REQUIRE(rsyslog_pid > 0);
  const auto gone_by = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (process_alive(rsyslog_pid) && std::chrono::steady_clock::now() < gone_by)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  const bool leaked = process_alive(rsyslog_pid);
  if (leaked) ::kill(rsyslog_pid, SIGKILL);  // do not leak it from this test either
  CHECK_FALSE(leaked);
}

// flush_timeout bounds the whole flush: the wait for buffer space and the wait for the
// receiver's acknowledgement share one deadline. Here the receiver only starts listening near
// the end of the deadline (so buffer space frees late) and then never reads (so nothing is
// acknowledged): the flush must still fail after about flush_timeout, not twice that.
TEST_CASE("DevoSink: flush_timeout bounds a flush that first waited for buffer space", "[devo]") {
  Diagnostics sd;  // the sink's report of a failure
  // A loopback socket bound now (connections refused) that listens later, with a tiny receive
  // window, and never reads.
  const int lfd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(lfd >= 0);
  int small = 1024;
  ::setsockopt(lfd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  REQUIRE(::bind(lfd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  REQUIRE(::getsockname(lfd, reinterpret_cast<sockaddr*>(&a), &len) == 0);

  const auto timeout = std::chrono::milliseconds(2000);
  DevoSinkOptions o;
  o.address = "127.0.0.1";
  o.port = ntohs(a.sin_port);
  o.tls = false;
  o.hostname = "ctsqs-test-host";
  o.buffer_bytes = 4096;
  o.batch_bytes = 2048;
  o.flush_timeout = timeout;
  o.backoff_initial = std::chrono::milliseconds(20);
  o.backoff_max = std::chrono::milliseconds(50);
  auto sink = make_sink(o);

  // Two ~1.5 KB lines make a batch (queued, the connection is refused); a third stays pending
  // and does not fit beside it in the 4 KiB buffer, so the flush first waits for space.
  for (int i = 0; i < 3; ++i) REQUIRE(sink->write(make_event(i, 1300), sd));

  std::atomic<bool> done{false};
  std::thread receiver([&] {
    std::this_thread::sleep_for(timeout * 8 / 10);
    ::listen(lfd, 1);
    const int cfd = ::accept(lfd, nullptr, nullptr);
    while (!done) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    if (cfd >= 0) ::close(cfd);
  });
  const auto start = std::chrono::steady_clock::now();
  const bool ok = static_cast<bool>(sink->flush(sd));
  const auto took = std::chrono::steady_clock::now() - start;
  sink.reset();
  done = true;
  ::shutdown(lfd, SHUT_RDWR);
  receiver.join();
  ::close(lfd);
  INFO("flush took " << std::chrono::duration_cast<std::chrono::milliseconds>(took).count() << " ms");
  CHECK_FALSE(ok);  // the receiver acknowledged nothing beyond its tiny window
  CHECK(took < timeout + std::chrono::milliseconds(800));
}
