// Example (building block: FileDecodeJob + a ServiceHandler of your own): decode local files of a
// service ctsqs does not ship, the way `ctsqs decode` decodes CloudTrail files. The service here
// reads plain-text application logs, "LEVEL message" per line, and tags each line
// `acme.app.<level>`; the files go through the library's decode job (directories searched, worker
// threads, one flush per file) and out as raw lines on stdout; the summary goes to stderr.
// Exit 1 when a file was bad, 2 on a usage error.
//
//   example_decode_own_service PATH...      (files, directories, or - for stdin)
//   e.g. example_decode_own_service tests/data/text-lines
#include <ctsqs/decode/file_decode_job.hpp>
#include <ctsqs/decode/service_handler.hpp>

#include <cctype>
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

namespace {

// A JSON string holding `s`: the record of an event is JSON text.
std::string json_string(std::string_view s) {
  std::string out = "\"";
  for (const char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(c));
      out += buf;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

// One event per line; the decoder is reused file after file (begin() each time).
class TextLinesDecoder final : public ctsqs::PayloadDecoder {
 public:
  explicit TextLinesDecoder(std::string tag_prefix) : tag_prefix_(std::move(tag_prefix)) {}
  void begin(std::string_view) override { pending_.clear(); }
  ctsqs::result<void> feed(std::string_view chunk, std::vector<ctsqs::Event>& out, ctsqs::Diagnostics&) override {
    pending_ += chunk;
    for (auto nl = pending_.find('\n'); nl != std::string::npos; nl = pending_.find('\n')) {
      emit(std::string_view(pending_).substr(0, nl), out);
      pending_.erase(0, nl + 1);
    }
    return {};
  }
  ctsqs::result<void> finish(std::vector<ctsqs::Event>& out, ctsqs::Diagnostics&) override {
    emit(pending_, out);
    pending_.clear();
    return {};
  }

 private:
  void emit(std::string_view line, std::vector<ctsqs::Event>& out) {
    if (line.empty()) return;
    std::string level(line.substr(0, line.find(' ')));
    for (auto& c : level) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    ctsqs::Event e;
    e.tag = tag_prefix_ + "." + level;
    e.record = json_string(line);
    e.columns = "\"message\":" + e.record;  // what a flat line would show after the tag
    out.push_back(std::move(e));
  }
  std::string tag_prefix_;
  std::string pending_;
};

// The service: its names, its settings, its decoder. It has no AWS services to filter by.
class TextLinesHandler final : public ctsqs::ServiceHandler {
 public:
  std::string_view name() const override { return "acme_text_lines"; }
  std::vector<std::string> aliases() const override { return {"text_lines"}; }
  std::string_view description() const override { return "Acme's plain-text application logs"; }
  std::string_view default_routing_template() const override { return "acme.app"; }
  ctsqs::result<ctsqs::ServiceSettings> parse_options(ctsqs::ServiceOptions&, ctsqs::Diagnostics&) const override {
    ctsqs::ServiceSettings s;
    s.name = std::string(name());
    s.routing_template = std::string(default_routing_template());
    return s;
  }
  ctsqs::result<void> check(const ctsqs::ServiceSettings& s, std::string_view path,
                            ctsqs::Diagnostics& diag) const override {
    if (s.aws_services.empty()) return {};
    diag.message = std::string(path) + ": application logs have no AWS services to keep";
    return ctsqs::make_error_code(ctsqs::client_errc::invalid_argument);
  }
  ctsqs::result<std::unique_ptr<ctsqs::PayloadDecoder>> make_payload_decoder(const ctsqs::ServiceSettings& s,
                                                                             const ctsqs::DecoderOptions&,
                                                                             ctsqs::Diagnostics& diag) const override {
    if (auto c = check(s, "service " + s.name, diag); !c) return c.error();
    return std::unique_ptr<ctsqs::PayloadDecoder>(std::make_unique<TextLinesDecoder>(s.routing_template));
  }
};

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: " << argv[0] << " PATH...\n";
    return 2;
  }
  // Your own registry: the handler is found by its name or alias, as the built-in ones are.
  ctsqs::ServiceHandlerRegistry registry;
  ctsqs::Diagnostics diag;
  if (!registry.add(std::make_shared<TextLinesHandler>(), diag)) {
    std::cerr << diag.message << "\n";
    return 2;
  }
  ctsqs::FileDecodeJobOptions options;
  options.service = "text_lines";
  options.format = ctsqs::OutputFormat::raw;  // {"tag":...,"event":<record>}
  options.output = "-";                       // or a directory, or devo://HOST:PORT
  options.paths.assign(argv + 1, argv + argc);
  options.ordered = true;  // files in the order given, each whole
  auto job = ctsqs::FileDecodeJob::create(options, registry, diag);
  if (!job) {
    std::cerr << diag.message << "\n";
    return 2;
  }
  auto summary = job->run(diag);
  if (!summary) {
    std::cerr << "output failed: " << diag.message << "\n";
    return 1;
  }
  std::cerr << summary->objects << " files, " << summary->events << " events\n";
  for (const auto& [tag, n] : summary->events_per_tag) std::cerr << tag << ": " << n << "\n";
  for (const auto& b : summary->bad) std::cerr << "bad " << b << "\n";
  return summary->bad.empty() ? 0 : 1;
}
