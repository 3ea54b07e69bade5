// Replay driver for fuzz targets without libFuzzer: runs every seed file, then deterministic
// mutations of them (bit flips, truncation, splices, byte insertion), so ctest exercises the
// parsers of untrusted input on every run. Usage: fuzz_x [--iterations N] [--seed S] PATH...
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace {

constexpr std::uintmax_t max_seed_bytes = 256 * 1024;

void collect(const std::filesystem::path& p, std::vector<std::string>& seeds) {
  std::error_code ec;
  if (std::filesystem::is_directory(p, ec)) {
    std::vector<std::filesystem::path> files;
    for (auto it = std::filesystem::recursive_directory_iterator(p, ec);
         !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
      if (it->is_regular_file(ec) && it->file_size(ec) <= max_seed_bytes) files.push_back(it->path());
    }
    std::sort(files.begin(), files.end());  // deterministic order
    for (auto& f : files) collect(f, seeds);
  } else if (std::filesystem::is_regular_file(p, ec)) {
    std::ifstream in(p, std::ios::binary);
    seeds.emplace_back(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
}

void run(const std::string& s) {
  LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(s.data()), s.size());
}

}  // namespace

int main(int argc, char** argv) {
  long iterations = 10000;
  std::uint32_t seed = 1;
  std::vector<std::string> seeds;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--iterations") == 0 && i + 1 < argc) {
      iterations = std::atol(argv[++i]);
    } else if (std::strcmp(argv[i], "--seed") == 0 && i + 1 < argc) {
      seed = static_cast<std::uint32_t>(std::atol(argv[++i]));
    } else {
      collect(argv[i], seeds);
    }
  }
  seeds.emplace_back();  // the empty input
  for (const auto& s : seeds) run(s);

  std::mt19937 rng(seed);
  auto pick = [&](std::size_t n) { return n == 0 ? 0 : std::uniform_int_distribution<std::size_t>(0, n - 1)(rng); };
  for (long it = 0; it < iterations; ++it) {
    std::string s = seeds[pick(seeds.size())];
    int rounds = 1 + static_cast<int>(pick(4));
    for (int r = 0; r < rounds; ++r) {
      switch (pick(6)) {
        case 0:  // flip a bit
          if (!s.empty()) s[pick(s.size())] ^= static_cast<char>(1u << pick(8));
          break;
        case 1:  // truncate
          if (!s.empty()) s.resize(pick(s.size()));
          break;
        case 2:  // insert an interesting byte
          s.insert(s.begin() + static_cast<std::ptrdiff_t>(pick(s.size() + 1)),
                   "\0\xff{}[]\",:\\\x80\xc3"[pick(12)]);
          break;
        case 3: {  // splice with another seed
          const std::string& o = seeds[pick(seeds.size())];
          if (!o.empty()) s = s.substr(0, pick(s.size() + 1)) + o.substr(pick(o.size()));
          break;
        }
        case 4:  // erase a range
          if (!s.empty()) {
            std::size_t a = pick(s.size());
            s.erase(a, pick(s.size() - a + 1));
          }
          break;
        default:  // overwrite with a random byte
          if (!s.empty()) s[pick(s.size())] = static_cast<char>(pick(256));
          break;
      }
    }
    run(s);
  }
  std::cout << "replayed " << seeds.size() << " seeds and " << iterations << " mutations\n";
  return 0;
}
