// Decoder-only throughput (no output): CloudTrailDecoder::decode_buffer (whole object),
// feed() in 64 KiB chunks as an S3 body stream gets them (default: gathers small gzip objects,
// then whole), and feed() with gather_bytes = 0 (pure streaming); the inflate library is the
// build's (CTSQS_INFLATE: isal, libdeflate or zlib). Over every
// *.json.gz / *.json file under DIR, loaded into memory first. CPU time per mode, best of 3.
//
//   bench_decode_modes DIR        (e.g. a corpus from ../shared/tools/gen_corpus.py)
#include <ctsqs/decode/cloudtrail_decoder.hpp>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace fs = std::filesystem;

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s DIR\n", argv[0]);
    return 2;
  }
  std::vector<std::pair<std::string, std::string>> objects;
  for (const auto& e : fs::recursive_directory_iterator(argv[1])) {
    const auto n = e.path().string();
    if (!e.is_regular_file() || !(n.ends_with(".json.gz") || n.ends_with(".json"))) continue;
    std::ifstream in(e.path(), std::ios::binary);
    objects.emplace_back(n, std::string(std::istreambuf_iterator<char>(in), {}));
  }
  std::sort(objects.begin(), objects.end());
  for (const char* what : {"flat columns", "raw record"}) {
    ctsqs::DecoderOptions opt;
    opt.build_record = std::string(what) == "raw record";
    opt.build_columns = !opt.build_record;
    for (int mode = 0; mode < 3; ++mode) {
      ctsqs::DecoderOptions o = opt;
      if (mode == 2) o.gather_bytes = 0;
      ctsqs::CloudTrailDecoder dec(o);
      double best = 1e9;
      std::uint64_t events = 0, bytes = 0;
      for (int run = 0; run < 3; ++run) {
        events = bytes = 0;
        std::size_t sink = 0;
        auto h = [&](ctsqs::Event& e) { sink += e.columns.size() + e.record.size(); ++events; };
        ctsqs::Diagnostics diag;
        const std::clock_t t0 = std::clock();
        for (const auto& [name, data] : objects) {
          ctsqs::result<ctsqs::ObjectSummary> r = ctsqs::make_error_code(ctsqs::client_errc::io_error);
          if (mode == 0) {
            r = dec.decode_buffer(name, data, h, diag);
          } else {
            dec.begin(name);
            for (std::size_t i = 0; i < data.size(); i += 65536)
              if (!dec.feed(std::string_view(data).substr(i, 65536), h, diag)) break;
            r = dec.finish(h, diag);
          }
          if (r) bytes += r->uncompressed_bytes;
        }
        best = std::min(best, double(std::clock() - t0) / CLOCKS_PER_SEC);
        if (sink == 0) std::puts("");
      }
      static const char* const names[] = {"decode_buffer", "feed 64 KiB chunks",
                                          "feed 64 KiB, gather_bytes=0 (stream)"};
      std::printf("%-13s %-35s %6.3f cpu-s %9.0f records/s %7.1f MB/s\n", what, names[mode], best,
                  double(events) / best, double(bytes) / 1e6 / best);
    }
  }
  return 0;
}
