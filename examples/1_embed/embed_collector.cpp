// Example: an application running a collector from a Devo template file (the same file
// `ctsqs run --config` takes), with a sink of its own beside the configured outputs. A message is
// deleted only once the configured outputs AND this sink flushed its events.
//
//   example_embed_collector COLLECTOR_FILE [--drain]
//
// SIGINT/SIGTERM stop it as they stop `ctsqs run`: in-flight messages get the grace period, the
// rest is released.
#include "ctsqs/collector/assembly.hpp"

#include <boost/asio/io_context.hpp>

#include <iostream>
#include <map>
#include <string_view>

namespace {

// The application's own destination: count events per eventSource. A real application
// would write to its database or bus, and fail flush() unless everything since the previous
// flush is stored (returning the error, with diag.message naming what failed).
class SourceCounter final : public ctsqs::Sink {
 public:
  ctsqs::result<void> write(const ctsqs::Event& e, ctsqs::Diagnostics&) override {
    ++pending_[e.event_source.empty() ? "(none)" : e.event_source];
    return {};
  }
  ctsqs::result<void> flush(ctsqs::Diagnostics&) override {
    for (auto& [source, n] : pending_) seen_[source] += n;
    pending_.clear();
    return {};
  }
  const std::map<std::string, std::uint64_t>& seen() const { return seen_; }

 private:
  std::map<std::string, std::uint64_t> pending_, seen_;
};

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: example_embed_collector COLLECTOR_FILE [--drain]\n";
    return 2;
  }
  ctsqs::Diagnostics diag;
  auto config = ctsqs::load_collector_config(argv[1], diag);
  if (!config) {
    std::cerr << diag.message << "\n";
    return 2;
  }
  boost::asio::io_context ioc{1};
  SourceCounter sources;
  ctsqs::AssemblyOptions options;
  options.drain = argc > 2 && std::string_view(argv[2]) == "--drain";
  options.extra_sinks.push_back(&sources);
  auto collector = ctsqs::build_collector(std::move(*config), ioc.get_executor(), options, diag);
  if (!collector) {
    std::cerr << diag.message << "\n";
    return 2;
  }
  const ctsqs::CollectorResult result = ctsqs::run_until_signal(ioc, **collector);

  for (auto& [tag, n] : (*collector)->delivered_per_tag()) std::cerr << tag << " " << n << "\n";
  for (auto& [source, n] : sources.seen()) std::cerr << "  " << source << ": " << n << " events\n";
  return result.clean() ? 0 : 1;
}
