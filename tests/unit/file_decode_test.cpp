// decode_files: the worker pool keeps each file's events in order (between its on_begin and
// on_done), input order under `ordered`, names bad files, and stops on a callback's exception.
#include "ctsqs/decode/file_decode.hpp"

#include "catch.hpp"
#include "gzip_helper.hpp"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <algorithm>
#include <map>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

using namespace ctsqs;
namespace fs = std::filesystem;

namespace {

struct TempTree {
  fs::path dir;
  TempTree() {
    dir = fs::temp_directory_path() / ("ctsqs-file-decode-" + std::to_string(::getpid()));
    fs::remove_all(dir);
    fs::create_directories(dir / "sub");
  }
  ~TempTree() { fs::remove_all(dir); }
  void write(const std::string& rel, const std::string& bytes) const {
    std::ofstream(dir / rel, std::ios::binary) << bytes;
  }
};

// A log file whose records say which file and which record they are.
std::string log_file(int file, int records) {
  std::string s = R"({"Records":[)";
  for (int r = 0; r < records; ++r) {
    if (r) s += ',';
    s += R"({"eventSource":"s3.amazonaws.com","f":)" + std::to_string(file) + R"(,"r":)" +
         std::to_string(r) + R"(,"pad":")" + std::string(200, 'x') + R"("})";
  }
  return s + "]}";
}

struct Seen {
  std::vector<std::string> begun;
  std::vector<std::string> done;
  std::vector<std::string> events;  // "file:record" in arrival order
  std::vector<std::string> bad;
};

// Events carry their file number in column f; file N is sub/N.json(.gz).
std::string file_number(const std::string& name) {
  const auto slash = name.rfind('/');
  return name.substr(slash + 1, name.find('.', slash) - slash - 1);
}

Seen run(const std::vector<FileInput>& inputs, FileDecodeOptions opt) {
  Seen s;
  std::set<std::string> open, closed;  // file numbers begun and not done, done
  decode_files(
      inputs, opt,
      [&](const FileInput& in) {
        s.begun.push_back(in.name);
        CHECK(open.insert(file_number(in.name)).second);
      },
      [&](Event& e) {
        const auto f = e.columns.find("\"f\":");
        const auto r = e.columns.find("\"r\":");
        const std::string file = e.columns.substr(f + 4, e.columns.find(',', f) - f - 4);
        CHECK(open.count(file) == 1);  // after its on_begin, before its on_done
        s.events.push_back(file + ":" + e.columns.substr(r + 4, e.columns.find(',', r) - r - 4));
      },
      [&](const FileInput& in, FileOutcome& o) {
        const std::string file = file_number(in.name);
        CHECK(open.erase(file) == 1);
        CHECK(closed.insert(file).second);
        s.done.push_back(in.name);
        if (!o.summary) s.bad.push_back(o.message);
      });
  CHECK(open.empty());
  return s;
}

}  // namespace

TEST_CASE("decode_files: every thread count gives each file's events in order", "[file_decode]") {
  TempTree t;
  const int files = 9;
  for (int f = 0; f < files; ++f) {
    const std::string body = log_file(f, 50 + 40 * f);
    // Plain, gzip, and a gzip file over the whole-read limit (streamed).
    if (f % 3 == 0) t.write("sub/" + std::to_string(f) + ".json", body);
    else t.write("sub/" + std::to_string(f) + ".json.gz", test::gzip(body));
  }
  t.write("sub/not-a-log.txt", "ignored");
  t.write("sub/bad.json.gz", test::gzip(log_file(99, 3)).substr(0, 40));
  const auto inputs = collect_file_inputs({t.dir.string(), (t.dir / "missing").string()},
                                          RecordLayout::records_array);
  REQUIRE(inputs.size() == files + 2);
  CHECK(inputs.back().open_error == "no such file or directory");

  FileDecodeOptions one;
  one.threads = 1;
  const Seen seq = run(inputs, one);
  REQUIRE(seq.bad.size() == 2);
  CHECK(seq.bad[0].find("bad.json.gz") != std::string::npos);
  CHECK(seq.bad[1].find("missing: no such file or directory") != std::string::npos);

  for (unsigned threads : {2u, 3u, 8u}) {
    for (bool ordered : {true, false}) {
      INFO("threads " << threads << " ordered " << ordered);
      FileDecodeOptions opt;
      opt.threads = threads;
      opt.ordered = ordered;
      opt.queue_bytes = 4096;  // workers wait for the caller often
      opt.whole_read_limit = 2000;  // the bigger files are streamed
      opt.chunk_bytes = 999;
      const Seen par = run(inputs, opt);
      CHECK(par.bad.size() == 2);
      REQUIRE(par.events.size() == seq.events.size());
      if (ordered) {
        CHECK(par.events == seq.events);
        CHECK(par.done == seq.done);
        CHECK(par.begun == seq.begun);
      } else {
        // Each file's events in order, "f:0" .. "f:n-1" (files may interleave), all of them.
        std::map<std::string, int> next;
        for (const auto& ev : par.events) {
          const std::string f = ev.substr(0, ev.find(':'));
          const int r = std::stoi(ev.substr(ev.find(':') + 1));
          CHECK(r == next[f]);
          next[f] = r + 1;
        }
        CHECK(next.size() == files);
        for (const auto& [f, n] : next) CHECK(n == 50 + 40 * std::stoi(f));
        auto sorted = [](std::vector<std::string> v) {
          std::sort(v.begin(), v.end());
          return v;
        };
        CHECK(sorted(par.done) == sorted(seq.done));
        CHECK(sorted(par.begun) == sorted(seq.begun));
      }
    }
  }
}

TEST_CASE("decode_files: an exception from the caller's callback stops the pool and comes out", "[file_decode]") {
  TempTree t;
  for (int f = 0; f < 6; ++f) t.write("sub/" + std::to_string(f) + ".json", log_file(f, 300));
  const auto inputs = collect_file_inputs({t.dir.string()}, RecordLayout::records_array);
  for (unsigned threads : {1u, 2u, 4u}) {
    FileDecodeOptions opt;
    opt.threads = threads;
    opt.queue_bytes = 2048;
    int events = 0;
    CHECK_THROWS_AS(decode_files(
                        inputs, opt, {},
                        [&](Event&) {
                          if (++events == 400) throw std::runtime_error("sink broke");
                        },
                        [](const FileInput&, FileOutcome&) {}),
                    std::runtime_error);
    CHECK(events == 400);
  }
}
