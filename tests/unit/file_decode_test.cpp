// decode_files: the worker pool keeps each file's events in order (between its on_begin and
// on_done), input order under `ordered`, names bad files, and stops on a callback's exception.
#include "ctsqs/decode/file_decode.hpp"

#include "../../lib/detail/file_decode_lines.hpp"

#include "catch.hpp"
#include "gzip_helper.hpp"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <algorithm>
#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
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

// Files sub/0 .. sub/<files - 1>, file f with 50 + 40 * f records: plain JSON (f % 3 == 0) or
// gzip; the options of the tests stream the bigger ones.
void write_numbered_logs(const TempTree& t, int files) {
  for (int f = 0; f < files; ++f) {
    const std::string body = log_file(f, 50 + 40 * f);
    if (f % 3 == 0) t.write("sub/" + std::to_string(f) + ".json", body);
    else t.write("sub/" + std::to_string(f) + ".json.gz", test::gzip(body));
  }
}

// Each file's events in order, "f:0" .. "f:n-1" (files may interleave), all of them: file f has
// 50 + 40 * f.
void check_each_file_in_order(const std::vector<std::string>& events, int files) {
  std::map<std::string, int> next;
  for (const auto& ev : events) {
    const std::string f = ev.substr(0, ev.find(':'));
    const int r = std::stoi(ev.substr(ev.find(':') + 1));
    CHECK(r == next[f]);
    next[f] = r + 1;
  }
  CHECK(next.size() == static_cast<std::size_t>(files));
  for (const auto& [f, n] : next) CHECK(n == 50 + 40 * std::stoi(f));
}

std::vector<std::string> sorted(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  return v;
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
  write_numbered_logs(t, files);
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
        check_each_file_in_order(par.events, files);
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

namespace {

// Formats "f:r\n" per event; with `per_file`, one part per file ("f"), else one stream (""). It
// checks that all its calls come from one thread.
class TestFormatter final : public detail::LineFormatter {
 public:
  explicit TestFormatter(bool per_file) : per_file_(per_file) {}
  void begin(const FileInput&) override { check_thread(); }
  void format(Event& e, detail::LineBatch& out) override {
    check_thread();
    const auto f = e.columns.find("\"f\":");
    const auto r = e.columns.find("\"r\":");
    const std::string file = e.columns.substr(f + 4, e.columns.find(',', f) - f - 4);
    const std::string line = file + ":" + e.columns.substr(r + 4, e.columns.find(',', r) - r - 4) + "\n";
    if (line == throw_at + "\n") throw std::runtime_error("formatter broke at " + throw_at);
    auto& part = out.part(per_file_ ? file : std::string());
    part.bytes += line;
    ++part.lines;
    out.bytes += line.size();
    ++out.lines;
  }
  bool wrong_thread = false;
  std::string throw_at;  // "f:r": format() throws there

 private:
  void check_thread() {
    if (owner_ == std::thread::id()) owner_ = std::this_thread::get_id();
    if (owner_ != std::this_thread::get_id()) wrong_thread = true;
  }
  bool per_file_;
  std::thread::id owner_;
};

struct LineRun {
  Seen seen;
  std::size_t formatters = 0;
  bool overlapped = false;    // two callbacks at once
  bool wrong_thread = false;  // a formatter called from two threads
};

LineRun run_lines(const std::vector<FileInput>& inputs, const FileDecodeOptions& opt, bool per_file,
                  const std::string& throw_at = {}) {
  LineRun out;
  Seen& s = out.seen;
  std::mutex mu;
  std::vector<std::unique_ptr<TestFormatter>> formatters;
  std::atomic<int> inside{0};
  std::set<std::string> open, closed;
  auto enter = [&] {
    if (inside.fetch_add(1) != 0) out.overlapped = true;
  };
  auto leave = [&] { inside.fetch_sub(1); };
  detail::decode_files_to_lines(
      inputs, opt,
      [&]() -> detail::LineFormatter* {
        std::lock_guard lk(mu);
        formatters.push_back(std::make_unique<TestFormatter>(per_file));
        formatters.back()->throw_at = throw_at;
        return formatters.back().get();
      },
      [&](const FileInput& in) {
        enter();
        s.begun.push_back(in.name);
        CHECK(open.insert(file_number(in.name)).second);
        leave();
      },
      [&](const FileInput& in, detail::LineBatch& b) {
        enter();
        std::uint64_t lines = 0;
        std::size_t bytes = 0;
        for (const auto& part : b.parts) {
          lines += part.lines;
          bytes += part.bytes.size();
          std::size_t at = 0, n = 0;
          for (std::size_t nl; (nl = part.bytes.find('\n', at)) != std::string::npos; at = nl + 1, ++n) {
            const std::string line = part.bytes.substr(at, nl - at);
            const std::string file = line.substr(0, line.find(':'));
            CHECK(file == file_number(in.name));  // the batch is of one input
            if (per_file) CHECK(part.key == file);
            s.events.push_back(line);
          }
          CHECK(n == part.lines);
        }
        CHECK(lines == b.lines);
        CHECK(bytes == b.bytes);
        CHECK(b.lines != 0);
        CHECK(open.count(file_number(in.name)) == 1);  // after its on_begin, before its on_done
        leave();
      },
      [&](const FileInput& in, FileOutcome& o) {
        enter();
        const std::string file = file_number(in.name);
        CHECK(open.erase(file) == 1);
        CHECK(closed.insert(file).second);
        s.done.push_back(in.name);
        if (!o.summary) s.bad.push_back(o.message);
        leave();
      });
  CHECK(open.empty());
  out.formatters = formatters.size();
  for (const auto& f : formatters) out.wrong_thread = out.wrong_thread || f->wrong_thread;
  return out;
}

}  // namespace

TEST_CASE("decode_files_to_lines: every thread count formats each file's lines in order, one callback at a time",
          "[file_decode]") {
  TempTree t;
  const int files = 9;
  write_numbered_logs(t, files);
  t.write("sub/bad.json.gz", test::gzip(log_file(99, 3)).substr(0, 40));
  const auto inputs = collect_file_inputs({t.dir.string(), (t.dir / "missing").string()},
                                          RecordLayout::records_array);
  REQUIRE(inputs.size() == files + 2);
  FileDecodeOptions one;
  one.threads = 1;
  const Seen seq = run(inputs, one);  // the event path, one thread: the reference
  REQUIRE(seq.bad.size() == 2);

  for (unsigned threads : {1u, 2u, 3u, 8u}) {
    for (bool ordered : {true, false}) {
      for (bool per_file : {false, true}) {
        INFO("threads " << threads << " ordered " << ordered << " per_file " << per_file);
        FileDecodeOptions opt;
        opt.threads = threads;
        opt.ordered = ordered;
        opt.queue_bytes = 4096;       // many small batches
        opt.whole_read_limit = 2000;  // the bigger files are streamed
        opt.chunk_bytes = 999;
        const LineRun par = run_lines(inputs, opt, per_file);
        CHECK_FALSE(par.overlapped);
        CHECK_FALSE(par.wrong_thread);
        CHECK(par.formatters == std::min<std::size_t>(threads, inputs.size()));
        REQUIRE(par.seen.events.size() == seq.events.size());
        CHECK(sorted(par.seen.bad) == sorted(seq.bad));
        if (ordered || threads == 1) {
          CHECK(par.seen.events == seq.events);
          CHECK(par.seen.done == seq.done);
          CHECK(par.seen.begun == seq.begun);
        } else {
          check_each_file_in_order(par.seen.events, files);
          CHECK(sorted(par.seen.done) == sorted(seq.done));
          CHECK(sorted(par.seen.begun) == sorted(seq.begun));
        }
      }
    }
  }
}

TEST_CASE("decode_files_to_lines: an exception from a callback stops every thread and comes out", "[file_decode]") {
  TempTree t;
  for (int f = 0; f < 8; ++f) t.write("sub/" + std::to_string(f) + ".json", log_file(f, 300));
  const auto inputs = collect_file_inputs({t.dir.string()}, RecordLayout::records_array);
  for (unsigned threads : {1u, 2u, 4u}) {
    for (bool ordered : {true, false}) {
      for (int where : {0, 1}) {  // thrown from on_lines, from on_done
        INFO("threads " << threads << " ordered " << ordered << " where " << where);
        FileDecodeOptions opt;
        opt.threads = threads;
        opt.ordered = ordered;
        opt.queue_bytes = 2048;
        TestFormatter formatters[4] = {TestFormatter(false), TestFormatter(false), TestFormatter(false),
                                       TestFormatter(false)};
        std::atomic<int> made{0};
        std::atomic<int> batches{0}, done{0}, after{0};
        std::atomic<bool> thrown{false};
        CHECK_THROWS_WITH(detail::decode_files_to_lines(
                              inputs, opt, [&]() -> detail::LineFormatter* { return &formatters[made++]; }, {},
                              [&](const FileInput&, detail::LineBatch&) {
                                if (thrown) ++after;
                                if (++batches == 20 && where == 0) {
                                  thrown = true;
                                  throw std::runtime_error("sink broke");
                                }
                              },
                              [&](const FileInput&, FileOutcome&) {
                                if (thrown) ++after;
                                if (++done == 2 && where == 1) {
                                  thrown = true;
                                  throw std::runtime_error("sink broke");
                                }
                              }),
                          "sink broke");
        CHECK(after == 0);  // no callback once one threw
        if (where == 0) CHECK(batches == 20);
        else CHECK(done == 2);
      }
    }
  }
}

namespace {

// A service's own decoder for the tests: one event per line "F R" of its input, with the
// columns `"f":F,"r":R,` the formatters above read.
class NumberedLines final : public PayloadDecoder {
 public:
  result<void> feed(std::string_view chunk, std::vector<Event>& out, Diagnostics&) override {
    pending_.append(chunk);
    std::size_t at = 0;
    for (std::size_t nl; (nl = pending_.find('\n', at)) != std::string::npos; at = nl + 1) {
      const std::string line = pending_.substr(at, nl - at);
      Event e;
      e.tag = "numbered";
      e.columns = "\"f\":" + line.substr(0, line.find(' ')) + ",\"r\":" + line.substr(line.find(' ') + 1) + ",";
      out.push_back(std::move(e));
    }
    pending_.erase(0, at);
    return {};
  }
  result<void> finish(std::vector<Event>&, Diagnostics&) override { return {}; }
  void begin(std::string_view) override { pending_.clear(); }

 private:
  std::string pending_;
};

}  // namespace

TEST_CASE("decode_files_to_lines: a formatter that throws fails its input only, nothing of it reaches the next",
          "[file_decode]") {
  // The service decoder hands each read's events over in one go: when the formatter throws in
  // the middle, the rest must not be written as the next input's lines (run_lines checks every
  // line's file against the input it came with).
  TempTree t;
  const int files = 6;
  for (int f = 0; f < files; ++f) {
    std::string body;
    for (int r = 0; r < 50 + 40 * f; ++r) body += std::to_string(f) + " " + std::to_string(r) + "\n";
    t.write("sub/" + std::to_string(f) + ".txt", body);
  }
  const auto inputs = collect_file_inputs({t.dir.string()}, std::nullopt);
  REQUIRE(inputs.size() == files);
  for (unsigned threads : {2u, 3u}) {
    for (bool ordered : {true, false}) {
      INFO("threads " << threads << " ordered " << ordered);
      FileDecodeOptions opt;
      opt.threads = threads;
      opt.ordered = ordered;
      opt.make_decoder = [] { return std::unique_ptr<PayloadDecoder>(std::make_unique<NumberedLines>()); };
      const LineRun run = run_lines(inputs, opt, false, "2:5");
      REQUIRE(run.seen.bad.size() == 1);
      CHECK(run.seen.bad[0].find("2.txt: formatter broke at 2:5") != std::string::npos);
      std::map<std::string, int> per_file;
      for (const auto& ev : run.seen.events) ++per_file[ev.substr(0, ev.find(':'))];
      for (int f = 0; f < files; ++f)
        if (f != 2) CHECK(per_file[std::to_string(f)] == 50 + 40 * f);
      CHECK(per_file["2"] == 0);  // one read, one hand-over: nothing of it was written
      CHECK(run.seen.done.size() == files);
    }
  }
}
