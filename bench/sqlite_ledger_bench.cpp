// SqliteLedger's own cost: records per second committed one per transaction and in groups (as the
// collector's group commit makes them), and batched lookups, on a file in $TMPDIR.
//   build/release/bench/bench_sqlite_ledger_bench [RECORDS]      (default 2000)
#include "ctsqs/ledger/sqlite_ledger.hpp"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <unistd.h>

using namespace ctsqs;
using clk = std::chrono::steady_clock;

int main(int argc, char** argv) {
  const int n = argc > 1 ? std::atoi(argv[1]) : 2000;
  std::string tmpl = (std::filesystem::temp_directory_path() / "ctsqs-ledger-bench-XXXXXX").string();
  const std::filesystem::path dir = ::mkdtemp(tmpl.data());
  auto make = [](int i) {
    LedgerRecord r;
    r.bucket = "trail-bucket";
    r.key = "AWSLogs/111122223333/CloudTrail/us-east-1/2026/12/06/111122223333_CloudTrail_us-east-1_20261206T1000Z_" +
            std::to_string(i) + ".json.gz";
    r.etag = "0123456789abcdef0123456789abcdef";
    r.events = 20;
    r.delivered_at = std::chrono::system_clock::now();
    r.collector_id = "bench";
    return r;
  };
  Diagnostics d;
  std::printf("SqliteLedger on %s (WAL, synchronous=FULL), %d records per row\n", dir.c_str(), n);
  for (int group : {1, 10, 25}) {
    SqliteLedgerOptions o;
    o.path = (dir / ("g" + std::to_string(group) + ".db")).string();
    auto l = SqliteLedger::open(o, d);
    if (!l) {
      std::fprintf(stderr, "%s\n", d.message.c_str());
      return 1;
    }
    const auto t0 = clk::now();
    for (int i = 0; i < n; i += group) {
      std::vector<LedgerRecord> batch;
      for (int j = i; j < std::min(n, i + group); ++j) batch.push_back(make(j));
      if (!(*l)->record(batch, d)) {
        std::fprintf(stderr, "%s\n", d.message.c_str());
        return 1;
      }
    }
    const double s = std::chrono::duration<double>(clk::now() - t0).count();
    std::printf("  record, %2d per transaction: %8.0f records/s (%.2f ms per transaction)\n", group, n / s,
                s * 1000 / ((n + group - 1) / group));
    if (group == 25) {
      const auto t1 = clk::now();
      int found = 0;
      for (int i = 0; i < n; i += 10) {
        std::vector<ObjectRef> ask;
        for (int j = i; j < i + 10; ++j) {
          ObjectRef ref;
          ref.bucket = "trail-bucket";
          ref.key = make(j).key;
          ask.push_back(ref);
        }
        auto r = (*l)->lookup(ask, d);
        if (!r) return 1;
        for (auto& x : *r) found += x ? 1 : 0;
      }
      const double s2 = std::chrono::duration<double>(clk::now() - t1).count();
      std::printf("  lookup, 10 keys per query:   %8.0f keys/s (%.3f ms per query; %d found)\n", n / s2,
                  s2 * 1000 / (n / 10), found);
    }
  }
  std::filesystem::remove_all(dir);
  return 0;
}
