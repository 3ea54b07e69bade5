// FileDecodeJob: a service handler of the embedder's own, registered in its own registry, decodes
// local files through the library entry `ctsqs decode` runs (any thread count, bad and skipped
// files, its filter); the built-in handlers into a caller's sink; outputs built by make_output_sink.
#include "ctsqs/decode/file_decode_job.hpp"

#include "ctsqs/sink/outputs.hpp"

#include "catch.hpp"

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

using namespace ctsqs;
namespace fs = std::filesystem;

namespace {

struct TempTree {
  fs::path dir;
  explicit TempTree(const std::string& name) {
    dir = fs::temp_directory_path() / ("ctsqs-file-decode-job-" + name + "-" + std::to_string(::getpid()));
    fs::remove_all(dir);
    fs::create_directories(dir);
  }
  ~TempTree() { fs::remove_all(dir); }
  TempTree(const TempTree&) = delete;
  TempTree& operator=(const TempTree&) = delete;
  void write(const std::string& rel, const std::string& bytes) const {
    fs::create_directories((dir / rel).parent_path());
    std::ofstream(dir / rel, std::ios::binary) << bytes;
  }
};

/// A service of the embedder's own: one event per line "<aws service> <text>", tagged
/// "<routing template>.<aws service>"; `aws_services` keeps some; a line "BAD" makes the object
/// bad (the message does not name the file: the job must); "#skip" as first line skips it.
class LinesHandler final : public ServiceHandler {
 public:
  std::string_view name() const override { return "acme_lines"; }
  std::vector<std::string> aliases() const override { return {"lines"}; }
  std::string_view description() const override { return "Acme's line logs"; }
  std::string_view default_routing_template() const override { return "acme.lines"; }
  result<ServiceSettings> parse_options(ServiceOptions&, Diagnostics&) const override {
    ServiceSettings s;
    s.name = std::string(name());
    s.routing_template = std::string(default_routing_template());
    return s;
  }
  result<void> check(const ServiceSettings& s, std::string_view path, Diagnostics& diag) const override {
    if (s.routing_template.find('{') == std::string::npos) return {};
    diag.message = std::string(path) + ".routing_template: no placeholders here";
    return make_error_code(client_errc::invalid_argument);
  }

  class Decoder final : public PayloadDecoder {
   public:
    explicit Decoder(ServiceSettings s) : s_(std::move(s)) {}
    void begin(std::string_view) override {
      pending_.clear();
      lines_ = filtered_ = 0;
      skipped_ = SkipReason::none;
    }
    result<void> feed(std::string_view chunk, std::vector<Event>& out, Diagnostics& diag) override {
      pending_ += chunk;
      for (auto nl = pending_.find('\n'); nl != std::string::npos; nl = pending_.find('\n')) {
        auto r = line(pending_.substr(0, nl), out, diag);
        pending_.erase(0, nl + 1);
        if (!r) return r;
      }
      return {};
    }
    result<void> finish(std::vector<Event>& out, Diagnostics& diag) override {
      if (pending_.empty()) return {};
      auto r = line(pending_, out, diag);
      pending_.clear();
      return r;
    }
    std::uint64_t filtered() const noexcept override { return filtered_; }
    SkipReason skipped() const noexcept override { return skipped_; }

   private:
    result<void> line(const std::string& l, std::vector<Event>& out, Diagnostics& diag) {
      ++lines_;
      if (lines_ == 1 && l == "#skip") skipped_ = SkipReason::empty;
      if (skipped_ != SkipReason::none) return {};
      if (l == "BAD") {
        diag.message = "line " + std::to_string(lines_) + " is BAD";
        return make_error_code(client_errc::invalid_argument);
      }
      const std::string service = l.substr(0, l.find(' '));
      if (!s_.aws_services.empty() &&
          std::find(s_.aws_services.begin(), s_.aws_services.end(), service) == s_.aws_services.end()) {
        ++filtered_;
        return {};
      }
      Event e;
      e.tag = s_.routing_template + "." + service;
      e.record = "\"" + l + "\"";
      e.columns = "\"line\":\"" + l + "\"";
      out.push_back(std::move(e));
      return {};
    }
    ServiceSettings s_;
    std::string pending_;
    std::uint64_t lines_ = 0, filtered_ = 0;
    SkipReason skipped_ = SkipReason::none;
  };

  result<std::unique_ptr<PayloadDecoder>> make_payload_decoder(const ServiceSettings& s, const DecoderOptions&,
                                                               Diagnostics& diag) const override {
    if (auto c = check(s, "service " + s.name, diag); !c) return c.error();
    return std::unique_ptr<PayloadDecoder>(std::make_unique<Decoder>(s));
  }
};

/// The caller's sink: keeps "tag record" lines and counts flushes; fails the write number
/// `fail_at` (1-based) when set.
class CollectingSink final : public Sink {
 public:
  result<void> write(const Event& e, Diagnostics& diag) override {
    if (fail_at != 0 && ++writes == fail_at) {
      diag.message = "collecting sink: full";
      return make_error_code(client_errc::sink_failed);
    }
    lines.push_back(e.tag + " " + e.record);
    both_fields = both_fields && !e.record.empty() && !e.columns.empty();
    return {};
  }
  result<void> flush(Diagnostics&) override {
    ++flushes;
    return {};
  }

  std::vector<std::string> lines;
  int flushes = 0;
  bool both_fields = true;
  std::size_t fail_at = 0;
  std::size_t writes = 0;
};

ServiceHandlerRegistry acme_registry() {
  ServiceHandlerRegistry reg;
  Diagnostics d;
  REQUIRE(reg.add(std::make_shared<LinesHandler>(), d).has_value());
  return reg;
}

const fs::path example_logs = fs::path(CTSQS_SOURCE_DIR) / "examples" / "logs";

}  // namespace

TEST_CASE("FileDecodeJob: a handler of your own decodes files with every thread count", "[file_decode_job]") {
  TempTree t("own");
  t.write("a.log", "s3 one\niam two\ns3 three");  // no newline at the end: finish() has it
  t.write("b/c.log", "ec2 four\nBAD\nec2 never\n");
  t.write("b/d.log", "#skip\ns3 hidden\n");
  t.write("b/.hidden", "s3 not read\n");
  t.write("e.log", "iam five\n");
  const auto registry = acme_registry();
  for (unsigned threads : {1u, 3u}) {
    DYNAMIC_SECTION("threads " << threads) {
      FileDecodeJobOptions o;
      o.service = "lines";  // an alias
      o.paths = {t.dir.string(), (t.dir / "missing.log").string()};
      o.threads = threads;
      o.ordered = true;
      int progress_calls = 0;
      o.on_progress = [&](const FileDecodeProgress& p) {
        ++progress_calls;
        CHECK(p.objects_total == 5);
      };
      CollectingSink sink;
      Diagnostics diag;
      auto job = FileDecodeJob::create(o, registry, sink, diag);
      REQUIRE(job.has_value());
      auto r = job->run(diag);
      REQUIRE(r.has_value());
      // Directories give every file not starting with '.', sorted; each file's events in order.
      CHECK(sink.lines == std::vector<std::string>{"acme.lines.s3 \"s3 one\"", "acme.lines.iam \"iam two\"",
                                                   "acme.lines.s3 \"s3 three\"", "acme.lines.ec2 \"ec2 four\"",
                                                   "acme.lines.iam \"iam five\""});
      CHECK(sink.both_fields);
      CHECK(sink.flushes == 5);  // once per input
      CHECK(progress_calls == 5);
      CHECK(r->objects == 5);
      CHECK(r->decoded == 2);
      CHECK(r->events == 5);
      CHECK(r->events_per_tag == std::map<std::string, std::uint64_t, std::less<>>{
                                     {"acme.lines.ec2", 1}, {"acme.lines.iam", 2}, {"acme.lines.s3", 2}});
      CHECK(r->skipped == std::vector<std::string>{(t.dir / "b/d.log").string() + " (empty)"});
      REQUIRE(r->bad.size() == 2);
      CHECK(r->bad[0] == (t.dir / "b/c.log").string() + ": line 2 is BAD");
      CHECK(r->bad[1] == (t.dir / "missing.log").string() + ": no such file or directory");
    }
  }
}

TEST_CASE("FileDecodeJob: your handler's filter and checks, unknown services", "[file_decode_job]") {
  TempTree t("filter");
  t.write("a.log", "s3 one\niam two\nec2 three\n");
  const auto registry = acme_registry();
  FileDecodeJobOptions o;
  o.service = "acme_lines";
  o.aws_services = {"iam", "ec2"};
  o.routing_template = "acme.custom";
  o.paths = {(t.dir / "a.log").string()};
  o.threads = 2;
  CollectingSink sink;
  Diagnostics diag;
  auto job = FileDecodeJob::create(o, registry, sink, diag);
  REQUIRE(job.has_value());
  auto r = job->run(diag);
  REQUIRE(r.has_value());
  CHECK(sink.lines == std::vector<std::string>{"acme.custom.iam \"iam two\"", "acme.custom.ec2 \"ec2 three\""});
  CHECK(r->filtered == 1);

  o.routing_template = "acme.{service}";
  Diagnostics refused;
  CHECK_FALSE(FileDecodeJob::create(o, registry, sink, refused).has_value());
  CHECK(refused.message == "--service acme_lines.routing_template: no placeholders here");

  o.service = "aws_sqs_cloudtrail";  // not in this registry
  Diagnostics unknown;
  CHECK_FALSE(FileDecodeJob::create(o, registry, sink, unknown).has_value());
  CHECK(unknown.message == "--service: unknown service \"aws_sqs_cloudtrail\"; known services: acme_lines (alias lines)");
}

TEST_CASE("FileDecodeJob: the built-in CloudTrail handler into your sink", "[file_decode_job]") {
  FileDecodeJobOptions o;
  o.paths = {example_logs.string()};
  o.aws_services = {"s3", "IAM"};
  o.threads = 2;
  CollectingSink sink;
  Diagnostics diag;
  auto job = FileDecodeJob::create(o, ServiceHandlerRegistry::builtin(), sink, diag);
  REQUIRE(job.has_value());
  auto r = job->run(diag);
  REQUIRE(r.has_value());
  CHECK(r->objects == 5);  // 4 log files and a digest
  CHECK(r->decoded == 4);
  REQUIRE(r->skipped.size() == 1);
  CHECK(r->skipped[0].find("(digest)") != std::string::npos);
  CHECK(r->events == 3);
  CHECK(r->filtered == 13);
  CHECK(r->events_per_tag == std::map<std::string, std::uint64_t, std::less<>>{{"cloud.aws.cloudtrail.iam", 1},
                                                                              {"cloud.aws.cloudtrail.s3", 2}});
  CHECK(sink.lines.size() == 3);
  CHECK(sink.both_fields);  // a sink of yours gets record and columns
}

TEST_CASE("FileDecodeJob: a failing sink ends the run with its error", "[file_decode_job]") {
  TempTree t("fail");
  t.write("a.log", "s3 one\ns3 two\ns3 three\n");
  const auto registry = acme_registry();
  FileDecodeJobOptions o;
  o.service = "lines";
  o.paths = {(t.dir / "a.log").string()};
  CollectingSink sink;
  sink.fail_at = 2;
  Diagnostics diag;
  auto job = FileDecodeJob::create(o, registry, sink, diag);
  REQUIRE(job.has_value());
  auto r = job->run(diag);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error() == make_error_code(client_errc::sink_failed));
  CHECK(diag.message == "collecting sink: full");
  CHECK(sink.lines.size() == 1);
}

TEST_CASE("FileDecodeJob: a directory output built by make_output_sink", "[file_decode_job]") {
  TempTree t("dir");
  t.write("in/a.log", "s3 one\niam two\n");
  const auto registry = acme_registry();
  FileDecodeJobOptions o;
  o.service = "lines";
  o.format = OutputFormat::raw;
  o.output = (t.dir / "out").string();
  o.paths = {(t.dir / "in").string()};
  Diagnostics diag;
  auto job = FileDecodeJob::create(o, registry, diag);
  REQUIRE(job.has_value());
  REQUIRE(job->run(diag).has_value());
  std::ifstream s3(t.dir / "out" / "acme.lines.s3.jsonl");
  std::string line;
  REQUIRE(std::getline(s3, line));
  CHECK(line == R"({"tag":"acme.lines.s3","event":"s3 one"})");

  // An output that cannot be made: the setting and the system's reason.
  t.write("file", "x");
  o.output = (t.dir / "file" / "out").string();
  Diagnostics refused;
  auto bad = FileDecodeJob::create(o, registry, refused);
  REQUIRE_FALSE(bad.has_value());
  CHECK(refused.message.rfind("--output " + o.output + ": ", 0) == 0);
  o.output = "devo://127.0.0.1:1";
  Diagnostics no_cert;
  CHECK_FALSE(FileDecodeJob::create(o, registry, no_cert).has_value());
  CHECK(no_cert.message == "--output devo://: --devo-cert and --devo-key are required (or --devo-no-tls for a relay)");
  o.output = "-";
  o.hostname = "two words";
  Diagnostics host;
  CHECK_FALSE(FileDecodeJob::create(o, registry, host).has_value());
  CHECK(host.message == "--hostname must not contain whitespace");
}

TEST_CASE("make_output_sinks: the collector file's outputs, a failure named by its key", "[outputs]") {
  TempTree t("outputs");
  OutputsConfig outputs;
  outputs.standard_output = StdoutOutputConfig{OutputFormat::raw};
  outputs.directory = DirectoryOutputConfig{t.dir / "events", OutputFormat::flat};
  OutputSinkOptions so;
  so.hostname = "h";
  Diagnostics diag;
  auto made = make_output_sinks(outputs, so, diag);
  REQUIRE(made.has_value());
  REQUIRE(made->size() == 2);
  CHECK((*made)[0].needs_record);
  CHECK_FALSE((*made)[0].needs_columns);
  CHECK((*made)[1].needs_columns);
  REQUIRE((*made)[1].line);
  CHECK((*made)[1].line->hostname == "h");
  CHECK(fs::is_directory(t.dir / "events"));

  t.write("plain", "x");
  outputs.standard_output.reset();
  outputs.directory = DirectoryOutputConfig{t.dir / "plain" / "events", OutputFormat::flat};
  Diagnostics refused;
  CHECK_FALSE(make_output_sinks(outputs, so, refused).has_value());
  CHECK(refused.message.rfind("ctsqs.outputs.directory: ", 0) == 0);
  CHECK(make_output_sinks(OutputsConfig{}, so, diag)->empty());
}

TEST_CASE("FileDecodeJob: lines routed and formatted on the decoding threads are one thread's lines",
          "[file_decode_job]") {
  // CloudTrail files whose events cycle over five services; three are kept, so the decoding
  // threads' routers filter too, and their counts must add up to one thread's.
  TempTree t("threads");
  const char* services[] = {"s3", "iam", "ec2", "kms", "sts"};
  for (int f = 0; f < 7; ++f) {
    std::string body = R"({"Records":[)";
    for (int r = 0; r < 300 + 50 * f; ++r) {
      if (r) body += ',';
      body += R"({"eventSource":")" + std::string(services[(r * 7 + f) % 5]) + R"(.amazonaws.com","f":)" +
              std::to_string(f) + R"(,"r":)" + std::to_string(r) + R"(,"pad":")" + std::string(100 + r % 50, 'p') +
              R"("})";
    }
    t.write("in/" + std::to_string(f) + ".json", body + "]}");
  }
  auto run = [&](unsigned threads, bool ordered, OutputFormat format, const std::string& out) {
    FileDecodeJobOptions o;
    o.paths = {(t.dir / "in").string()};
    o.aws_services = {"s3", "iam", "kms"};
    o.format = format;
    o.hostname = "h";
    o.output = (t.dir / out).string();
    o.threads = threads;
    o.ordered = ordered;
    Diagnostics diag;
    auto job = FileDecodeJob::create(o, ServiceHandlerRegistry::builtin(), diag);
    REQUIRE(job.has_value());
    auto r = job->run(diag);
    REQUIRE(r.has_value());
    return *r;
  };
  auto read = [&](const std::string& out, const std::string& tag, bool sorted) {
    std::ifstream in(t.dir / out / (tag + ".jsonl"));
    std::vector<std::string> lines;
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    if (sorted) std::sort(lines.begin(), lines.end());
    return lines;
  };
  for (OutputFormat format : {OutputFormat::flat, OutputFormat::raw}) {
    const std::string f = std::string(to_string(format));
    const FileDecodeSummary one = run(1, false, format, f + "-1");
    CHECK(one.events == 1890);  // 3 of 5 services of 3150 events
    CHECK(one.filtered == 1260);
    REQUIRE(one.events_per_tag.size() == 3);
    for (const auto& [threads, ordered] : std::vector<std::pair<unsigned, bool>>{{2, false}, {3, true}, {4, false}}) {
      INFO(f << " threads " << threads << " ordered " << ordered);
      const std::string out = f + "-" + std::to_string(threads) + (ordered ? "o" : "");
      const FileDecodeSummary par = run(threads, ordered, format, out);
      CHECK(par.events == one.events);
      CHECK(par.filtered == one.filtered);
      CHECK(par.events_per_tag == one.events_per_tag);
      for (const auto& [tag, n] : one.events_per_tag) {
        const auto lines = read(out, tag, !ordered);
        CHECK(lines.size() == n);
        CHECK(lines == read(f + "-1", tag, !ordered));
      }
    }
  }
}
