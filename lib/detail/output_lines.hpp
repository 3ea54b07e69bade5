// Lines formatted off the output's thread, for the outputs that write lines (stdout, a
// directory): the formatter the decoding threads use and the writer of what they formatted.
// Why formatted there: see file_decode_lines.hpp.
#pragma once

#include "ctsqs/error.hpp"
#include "ctsqs/sink/format.hpp"
#include "ctsqs/sink/sink.hpp"

#include "file_decode_lines.hpp"

#include <string_view>
#include <utility>

namespace ctsqs::detail {

/// Lines of tagged events in an output's format: one stream (one part, keyed "") or one part per
/// tag (a directory's files).
class OutputLineFormatter final : public LineFormatter {
 public:
  OutputLineFormatter(OutputFormat format, LineOptions line, bool per_tag)
      : format_(format), line_(std::move(line)), per_tag_(per_tag) {}
  LineOptions& line_options() noexcept { return line_; }
  void format(Event& e, LineBatch& out) override {
    auto& part = out.part(per_tag_ ? std::string_view(e.tag) : std::string_view());
    const std::size_t before = part.bytes.size();
    append_line(part.bytes, e, format_, line_);
    out.bytes += part.bytes.size() - before;
    ++part.lines;
    ++out.lines;
  }

 private:
  OutputFormat format_;
  LineOptions line_;
  bool per_tag_;
};

/// Whether `sink` can write a LineBatch (a StdoutSink, a DirectorySink), and whether its lines
/// are per tag (a DirectorySink).
bool takes_lines(const Sink& sink, bool* per_tag = nullptr) noexcept;

/// Writes `lines` to `sink` (one that takes_lines): a StdoutSink gets the parts in turn, a
/// DirectorySink each part into its tag's file. Fails as the sink's write does.
result<void> write_lines_to(Sink& sink, const LineBatch& lines, Diagnostics& diag);

}  // namespace ctsqs::detail
