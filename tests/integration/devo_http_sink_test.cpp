// Integration tests of DevoHttpSink against a Devo HTTP ingestion receiver written for the tests
// (tests/integration/devo_http_receiver.py, TLS with a test CA): path, token, gzip framing, line
// splitting; injected 5xx, 429 with Retry-After, resets and slow answers; a proxy; and a whole
// `ctsqs drain` through the peers into it.
#include "ctsqs/sink/devo_http_sink.hpp"

#include "catch.hpp"
#include "collector_helpers.hpp"
#include "rsyslog_receiver.hpp"

#include <boost/json.hpp>

#include <map>
#include <random>

using ctsqs::DevoHttpSink;
using ctsqs::DevoHttpSinkOptions;
using ctsqs::Diagnostics;
using ctsqs::Event;
using namespace ctsqs::test;
using namespace std::chrono_literals;

namespace {

const std::string kToken = "a5370g9e8f7d7edf9dTOKENSECRET4711";
const std::string kDomain = "acme_corp";

// A running receiver with its own directory, on a free port, with the test CA's server cert.
struct Receiver {
  std::filesystem::path dir;
  unsigned short port;
  std::unique_ptr<Background> process;

  Receiver(const TestPki& pki, const std::filesystem::path& d) : dir(d), port(free_port()) {
    std::filesystem::create_directories(dir);
    const std::string script = std::string(CTSQS_SOURCE_DIR) + "/tests/integration/devo_http_receiver.py";
    process = std::make_unique<Background>(
        std::vector<std::string>{"python3", script, "--port", std::to_string(port), "--cert", pki.file("server.pem"),
                                 "--key", pki.file("server.key"), "--domain", kDomain, "--token", kToken, "--dir",
                                 dir.string()},
        dir / "receiver.log");
    wait_for_port(port);
  }
  std::string endpoint() const { return "https://localhost:" + std::to_string(port); }
  void faults(const std::string& lines) const { write_text(dir / "faults.txt", lines); }
  std::string violations() const {
    return std::filesystem::exists(dir / "violations.txt") ? read_file(dir / "violations.txt") : "";
  }
  std::vector<boost::json::object> read_jsonl(const std::string& name) const {
    std::vector<boost::json::object> out;
    if (!std::filesystem::exists(dir / name)) return out;
    std::istringstream in(read_file(dir / name));
    std::string line;
    while (std::getline(in, line))
      if (!line.empty()) out.push_back(boost::json::parse(line).as_object());
    return out;
  }
  std::vector<boost::json::object> events() const { return read_jsonl("events.jsonl"); }
  std::vector<boost::json::object> requests() const { return read_jsonl("requests.jsonl"); }
};

// Event `i`: tags over three services, records with escaped line breaks, quotes and non-ASCII.
Event make_event(int i) {
  static const char* services[] = {"s3", "ec2", "iam"};
  Event e;
  e.tag = std::string("cloud.aws.cloudtrail.") + services[i % 3];
  e.record = R"({"eventVersion":"1.08","id":)" + std::to_string(i) +
             R"(,"note":"line1\nline2 \"q\" caf\u00e9 é 😀","pad":")" + std::string(static_cast<std::size_t>(i % 50), 'x') +
             R"("})";
  return e;
}

DevoHttpSinkOptions options_for(const TestPki& pki, const Receiver& rx) {
  DevoHttpSinkOptions o;
  o.endpoint = rx.endpoint();
  o.domain = kDomain;
  o.token = kToken;
  o.hostname = "ctsqs-test-host";
  o.ca_bundle = pki.file("ca.pem");
  o.proxy = ctsqs::transport::ProxyConfig{};  // not the environment's
  o.batch_bytes = 16 << 10;
  o.flush_timeout = 20s;
  o.request_timeout = 5s;
  o.backoff_initial = 50ms;
  o.backoff_max = 300ms;
  return o;
}

std::unique_ptr<DevoHttpSink> make_sink(const DevoHttpSinkOptions& o) {
  Diagnostics diag;
  auto sink = DevoHttpSink::create(o, diag);
  INFO(diag.message);
  REQUIRE(sink.has_value());
  return std::move(*sink);
}

// id -> times received, checking each received line against what was sent.
std::map<int, int> received_ids(const Receiver& rx, const std::map<int, Event>& sent) {
  std::map<int, int> seen;
  for (auto& e : rx.events()) {
    const std::string line(e.at("line").as_string());
    const auto v = boost::json::parse(line).as_object();
    const int id = static_cast<int>(v.at("id").as_int64());
    ++seen[id];
    auto it = sent.find(id);
    REQUIRE(it != sent.end());
    CHECK(line == it->second.record);
    CHECK(std::string(e.at("tag").as_string()) == it->second.tag);
    CHECK(std::string(e.at("host").as_string()) == "ctsqs-test-host");
  }
  return seen;
}

}  // namespace

TEST_CASE("DevoHttpSink: every event arrives as one line of a gzipped POST to its tag's stream path",
          "[devo_http]") {
  Diagnostics sd;  // the sink's report of a failure
  TempDir tmp;
  TestPki pki(tmp.path);
  Receiver rx(pki, tmp.path / "rx");
  auto sink = make_sink(options_for(pki, rx));
  std::map<int, Event> sent;
  for (int i = 0; i < 3000; ++i) {
    sent[i] = make_event(i);
    REQUIRE(sink->write(sent[i], sd).has_value());
    if (i % 1000 == 999) REQUIRE(sink->flush(sd).has_value());
  }
  REQUIRE(sink->flush(sd).has_value());
  CHECK(rx.violations().empty());
  auto seen = received_ids(rx, sent);
  CHECK(seen.size() == 3000);
  for (auto& [id, n] : seen) CHECK(n == 1);
  // Order within a tag is kept.
  std::map<std::string, int> last;
  for (auto& e : rx.events()) {
    const int id = static_cast<int>(boost::json::parse(e.at("line").as_string()).as_object().at("id").as_int64());
    const std::string tag(e.at("tag").as_string());
    if (last.count(tag)) CHECK(id > last[tag]);
    last[tag] = id;
  }
  const auto st = sink->stats();
  CHECK(st.events == 3000);
  CHECK(st.retries == 0);
  CHECK(st.batches == rx.requests().size());
  CHECK(st.batches >= 9);  // three tags, batches of 16 KiB: split, not one request per tag
  CHECK(st.bytes_sent < st.bytes_in);
  for (auto& r : rx.requests()) CHECK(r.at("bytes").as_int64() <= (16 << 10));  // gzipped under the batch size
}

TEST_CASE("DevoHttpSink: 5xx, 429 with Retry-After and resets are retried; the flush waits for the 2xx",
          "[devo_http]") {
  Diagnostics sd;  // the sink's report of a failure
  TempDir tmp;
  TestPki pki(tmp.path);
  Receiver rx(pki, tmp.path / "rx");
  auto o = options_for(pki, rx);
  o.batch_bytes = 1 << 20;  // one request per tag per flush
  auto sink = make_sink(o);
  rx.faults("503\n429 1\n500\nreset\nreset-after\n429date 2\n");
  std::map<int, Event> sent;
  for (int i = 0; i < 300; ++i) {
    sent[i] = make_event(i);
    REQUIRE(sink->write(sent[i], sd).has_value());
  }
  const auto start = std::chrono::steady_clock::now();
  auto f = sink->flush(sd);
  INFO(sd.message);
  REQUIRE(f.has_value());
  const auto took = std::chrono::steady_clock::now() - start;
  CHECK(rx.violations().empty());
  auto seen = received_ids(rx, sent);
  CHECK(seen.size() == 300);  // all there; the reset-after batch may come twice, never zero times
  const auto reqs = rx.requests();
  // Three tags plus one request per injected fault (a reset on a kept-alive connection may be
  // replayed by the transport itself, so the sink's own count can be lower).
  CHECK(reqs.size() == 3 + 6);
  CHECK(sink->stats().retries >= 4);
  // Retry-After 1 and an HTTP date 2 s ahead were honoured (backoff alone is under 0.3 s).
  for (std::size_t i = 0; i + 1 < reqs.size(); ++i) {
    const std::string fault = reqs[i].at("fault").is_string() ? std::string(reqs[i].at("fault").as_string()) : "";
    const double gap = reqs[i + 1].at("t").as_double() - reqs[i].at("t").as_double();
    if (fault == "429 1") CHECK(gap >= 0.95);
    if (fault == "429date 2") CHECK(gap >= 0.9);  // a date has whole-second precision
  }
  CHECK(took >= 2s);
}

TEST_CASE("DevoHttpSink: a slow answer is not a receipt: the flush succeeds only after a 2xx", "[devo_http]") {
  Diagnostics sd;  // the sink's report of a failure
  TempDir tmp;
  TestPki pki(tmp.path);
  Receiver rx(pki, tmp.path / "rx");
  auto o = options_for(pki, rx);
  o.request_timeout = 1s;
  auto sink = make_sink(o);
  rx.faults("slow 3\n");  // recorded, but answered after our 1 s timeout: we must send again
  REQUIRE(sink->write(make_event(1), sd).has_value());
  REQUIRE(sink->flush(sd).has_value());
  CHECK(sink->stats().retries >= 1);
  // When the flush returned, only the retry had been answered; the slow one ends later.
  CHECK(rx.requests().size() == 1);
  std::this_thread::sleep_for(3s);
  const auto reqs = rx.requests();
  REQUIRE(reqs.size() == 2);
  CHECK(rx.events().size() == 2);  // a duplicate, not a loss
  CHECK(rx.violations().empty());
}

TEST_CASE("DevoHttpSink: a flush that outlives flush_timeout fails, names the cause, and the sink recovers",
          "[devo_http]") {
  Diagnostics sd;  // the sink's report of a failure
  TempDir tmp;
  TestPki pki(tmp.path);
  Receiver rx(pki, tmp.path / "rx");
  auto o = options_for(pki, rx);
  o.flush_timeout = 1500ms;
  auto sink = make_sink(o);
  std::string many;
  for (int i = 0; i < 200; ++i) many += "reset\n";
  rx.faults(many);
  REQUIRE(sink->write(make_event(1), sd).has_value());
  const auto start = std::chrono::steady_clock::now();
  auto f = sink->flush(sd);
  REQUIRE_FALSE(f.has_value());
  CHECK(f.error() == ctsqs::client_errc::sink_failed);
  CHECK(std::chrono::steady_clock::now() - start < 4s);
  const std::string err = sd.message;
  INFO(err);
  CHECK(err.find("devo_http") != std::string::npos);
  // The transport names the request it was sending; the token in its path is masked.
  CHECK(err.find("/stream/" + kDomain + "/token!***/ctsqs-test-host/cloud.aws.cloudtrail.ec2") != std::string::npos);
  CHECK(err.find(kToken) == std::string::npos);
  // The receiver works again: later events get through.
  rx.faults("");
  std::this_thread::sleep_for(500ms);
  REQUIRE(sink->write(make_event(2), sd).has_value());
  auto g = sink->flush(sd);
  INFO(sd.message);
  CHECK(g.has_value());
  bool got2 = false;
  for (auto& e : rx.events()) got2 = got2 || std::string(e.at("line").as_string()).find(R"("id":2,)") != std::string::npos;
  CHECK(got2);
}

TEST_CASE("DevoHttpSink: a 4xx (wrong token) is named and fatal, without the token", "[devo_http]") {
  Diagnostics sd;  // the sink's report of a failure
  TempDir tmp;
  TestPki pki(tmp.path);
  Receiver rx(pki, tmp.path / "rx");
  auto o = options_for(pki, rx);
  o.token = "wrongTOKEN0000000000000000000000";
  auto sink = make_sink(o);
  REQUIRE(sink->write(make_event(1), sd).has_value());
  auto f = sink->flush(sd);
  REQUIRE_FALSE(f.has_value());
  CHECK(f.error() == ctsqs::client_errc::sink_closed);
  const std::string err = sd.message;
  INFO(err);
  CHECK(err.find("401 Unauthorized: check domain and token") != std::string::npos);
  CHECK(err.rfind("devo_http: tag cloud.aws.cloudtrail.ec2 (1 events, ", 0) == 0);  // names the batch
  CHECK(sd.http_status == 401);  // Devo's answer, for a program to branch on
  CHECK(err.find("wrongTOKEN") == std::string::npos);
  CHECK(sink->stats().requests == 1);  // not retried
  Diagnostics wd;
  auto w = sink->write(make_event(2), wd);
  REQUIRE_FALSE(w.has_value());
  CHECK(w.error() == ctsqs::client_errc::sink_closed);
  CHECK(wd.message == err);  // every later write says why the sink is closed
}

TEST_CASE("DevoHttpSink: through an HTTPS proxy (CONNECT), as the AWS calls", "[devo_http]") {
  Diagnostics sd;  // the sink's report of a failure
  TempDir tmp;
  TestPki pki(tmp.path);
  Receiver rx(pki, tmp.path / "rx");
  const auto proxy_port = free_port();
  const std::string script = std::string(CTSQS_SOURCE_DIR) + "/tests/integration/connect_proxy.py";
  Background proxy({"python3", script, std::to_string(proxy_port), (tmp.path / "proxy.log").string()},
                   tmp.path / "proxy.out");
  wait_for_port(proxy_port);
  auto o = options_for(pki, rx);
  o.proxy->https_proxy = "http://127.0.0.1:" + std::to_string(proxy_port);
  auto sink = make_sink(o);
  std::map<int, Event> sent;
  for (int i = 0; i < 50; ++i) {
    sent[i] = make_event(i);
    REQUIRE(sink->write(sent[i], sd).has_value());
  }
  auto f = sink->flush(sd);
  INFO(sd.message);
  REQUIRE(f.has_value());
  CHECK(received_ids(rx, sent).size() == 50);
  const std::string log = read_file(tmp.path / "proxy.log");
  CHECK(log.find("CONNECT localhost:" + std::to_string(rx.port)) != std::string::npos);
  CHECK(log.find(kToken) == std::string::npos);  // the path travels inside the tunnel
}

TEST_CASE("DevoHttpSink: ctsqs drain through the peers delivers every record to Devo HTTP, despite faults",
          "[devo_http][collector]") {
  const std::string external_id = "ext-it-devo-http";
  Peers peers({.peers = "fauxqs s3rver gate", .env = {{"GATE_EXTERNAL_ID", external_id}}});
  const auto seeded = seed_or_throw(peers, {"--files", "4", "--records", "50"});
  const auto ids = seeded_event_ids(peers, seeded);
  REQUIRE(ids.size() == 200);
  TempDir tmp;
  TestPki pki(tmp.path);
  Receiver rx(pki, tmp.path / "rx");
  rx.faults("503\n429 1\nreset\n");
  const std::string out =
      R"("outputs":{"devo_http":{"endpoint":")" + rx.endpoint() + R"(","domain":")" + kDomain + R"(","token":")" +
      kToken + R"(","hostname":"ctsqs-test-host","chain":")" + pki.file("ca.pem") +
      R"(","backoff_initial":"50ms","backoff_max":"500ms"}})";
  const auto cfg = tmp.path / "collector.json";
  write_text(cfg, collector_config(peers, "ct-s3-events", external_id, out));
  {
    Child c({ctsqs_exe().string(), "check-config", cfg.string()}, tmp.path / "check.out",
            tmp.path / "check.err");
    CHECK(c.wait(60s) == 0);
    const std::string text = read_file(tmp.path / "check.out") + read_file(tmp.path / "check.err");
    INFO(text);
    CHECK(text.find("devo_http") != std::string::npos);
    CHECK(text.find(kToken) == std::string::npos);
  }
  Child c({ctsqs_exe().string(), "drain", "--config", cfg.string(), "--progress", "0"}, tmp.path / "drain.out",
          tmp.path / "drain.err");
  const int rc = c.wait(240s);
  const std::string log = read_file(tmp.path / "drain.err");
  INFO(log);
  CHECK(rc == 0);
  CHECK(log.find(kToken) == std::string::npos);
  CHECK(rx.violations().empty());
  std::map<std::string, int> got;
  for (auto& e : rx.events()) {
    const auto rec = boost::json::parse(e.at("line").as_string()).as_object();
    const std::string tag(e.at("tag").as_string());
    CHECK(tag.rfind("cloud.aws.cloudtrail.", 0) == 0);
    ++got[std::string(rec.at("eventID").as_string())];
  }
  CHECK(got.size() == ids.size());
  for (auto& id : ids) CHECK(got.count(id) == 1);
  CHECK(queue_depth(peers, "ct-s3-events") == std::pair<long, long>{0, 0});
}

TEST_CASE("DevoHttpSink: kept-alive POSTs are not held back by Nagle's algorithm and delayed ACKs",
          "[devo_http]") {
  Diagnostics sd;  // the sink's report of a failure
  // Beast sends a request's header and body in two writes; without TCP_NODELAY the body waits
  // for the ACK of the header, which the receiver delays by ~40 ms: 40 requests took >= 1.6 s.
  TempDir tmp;
  TestPki pki(tmp.path);
  Receiver rx(pki, tmp.path / "rx");
  auto sink = make_sink(options_for(pki, rx));
  Event e = make_event(3);
  // A body of ~30 KB after gzip (random hex does not compress below half).
  std::string pad;
  std::mt19937 rng(7);
  for (int i = 0; i < 60000; ++i) pad += "0123456789abcdef"[rng() % 16];
  e.record = R"({"id":3,"pad":")" + pad + R"("})";
  REQUIRE(sink->write(e, sd).has_value());
  REQUIRE(sink->flush(sd).has_value());  // the connection is open and kept alive from here
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 40; ++i) {
    REQUIRE(sink->write(e, sd).has_value());
    REQUIRE(sink->flush(sd).has_value());
  }
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
  INFO("40 requests took " << took.count() << " ms");
  CHECK(took < 1200ms);
  CHECK(rx.requests().size() == 41);
}

TEST_CASE("DevoHttpSink: a batch dropped because the buffer stayed full fails the next flush",
          "[devo_http]") {
  Diagnostics sd;  // the sink's report of a failure
  TempDir tmp;
  TestPki pki(tmp.path);
  Receiver rx(pki, tmp.path / "rx");
  auto o = options_for(pki, rx);
  o.batch_bytes = 1024;
  o.buffer_bytes = 2048;  // one batch in flight and one queued
  o.flush_timeout = 1500ms;
  auto sink = make_sink(o);
  rx.faults("slow 2\n");  // the first answer takes 2 s, the rest are quick
  Event e;
  e.tag = "cloud.aws.cloudtrail.s3";
  bool write_failed = false;
  for (int i = 0; i < 40 && !write_failed; ++i) {
    e.record = R"({"id":)" + std::to_string(i) + R"(,"pad":")" + std::string(90, 'x') + R"("})";
    write_failed = !sink->write(e, sd).has_value();
  }
  REQUIRE(write_failed);  // the buffer stayed full for flush_timeout: a batch was dropped
  INFO(sd.message);
  CHECK(sd.message.find("stayed full") != std::string::npos);
  // Devo answers again in time for this flush, but the dropped batch is not delivered: it fails.
  auto f = sink->flush(sd);
  CHECK_FALSE(f.has_value());
  // The next window is clean again.
  REQUIRE(sink->write(e, sd).has_value());
  auto g = sink->flush(sd);
  INFO(sd.message);
  CHECK(g.has_value());
}

TEST_CASE("DevoHttpSink: destroying the sink with a request in flight cancels it promptly", "[devo_http]") {
  Diagnostics sd;  // the sink's report of a failure
  TempDir tmp;
  TestPki pki(tmp.path);
  Receiver rx(pki, tmp.path / "rx");
  auto o = options_for(pki, rx);
  o.batch_bytes = 1024;
  o.request_timeout = 20s;
  auto sink = make_sink(o);
  rx.faults("slow 10\n");
  Event e = make_event(1);
  e.record = R"({"id":1,"pad":")" + std::string(2000, 'x') + R"("})";
  REQUIRE(sink->write(e, sd).has_value());  // over batch_bytes: handed on and posted at once
  std::this_thread::sleep_for(500ms);    // the POST is waiting for its (slow) answer
  CHECK(sink->stats().requests == 1);
  const auto start = std::chrono::steady_clock::now();
  sink.reset();
  CHECK(std::chrono::steady_clock::now() - start < 3s);
}
