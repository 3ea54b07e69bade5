// Example (building block: CloudTrailDecoder): decode one CloudTrail log file (gzip or plain
// JSON), fed in chunks as the pipeline feeds an S3 body, and print each event's eventSource and
// flattened columns; the object's summary goes to stderr. Exit 1 when the file is not CloudTrail.
//
//   example_decode_file FILE
//   e.g. example_decode_file examples/logs/AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/28/111122223333_CloudTrail_us-east-1_20261128T1005Z_Ex4mpLe0us1a.json.gz
#include <ctsqs/decode/cloudtrail_decoder.hpp>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <vector>

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: " << argv[0] << " FILE\n";
    return 2;
  }
  ctsqs::DecoderOptions options;
  options.build_record = false;  // we only print the flattened columns
  ctsqs::CloudTrailDecoder decoder(options);

  // Stream the file in chunks, as a pipeline would feed an S3 body: memory stays bounded by the
  // largest record. (For small files, decoder.decode_buffer(name, whole, ...) is simpler and faster.)
  std::ifstream in(argv[1], std::ios::binary);
  if (!in) {
    std::cerr << argv[1] << ": cannot open\n";
    return 1;
  }
  auto print = [](ctsqs::Event& e) { std::cout << e.event_source << " {" << e.columns << "}\n"; };
  ctsqs::Diagnostics diag;
  decoder.begin(argv[1]);
  std::vector<char> chunk(64 * 1024);
  while (in) {
    in.read(chunk.data(), static_cast<std::streamsize>(chunk.size()));
    const auto n = static_cast<std::size_t>(in.gcount());
    if (n == 0) break;
    if (auto r = decoder.feed(std::string_view(chunk.data(), n), print, diag); !r) {
      std::cerr << diag.message << "\n";
      return 1;
    }
  }
  auto summary = decoder.finish(print, diag);
  if (!summary) {
    std::cerr << diag.message << "\n";
    return 1;
  }
  std::cerr << *summary << "\n";
  return 0;
}
