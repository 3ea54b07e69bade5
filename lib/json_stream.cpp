// JsonValueSplitter: whole top-level JSON values out of NDJSON or concatenated streams.
#include "ctsqs/json_stream.hpp"

namespace ctsqs {

namespace {

bool json_space(char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }

std::string shown(char c) {
  const auto u = static_cast<unsigned char>(c);
  if (u >= 0x20 && u < 0x7f) return std::string("'") + c + "'";
  static const char* hex = "0123456789abcdef";
  return std::string("byte 0x") + hex[u >> 4] + hex[u & 15];
}

}  // namespace

result<void> JsonValueSplitter::feed(std::string_view chunk, ValueHandler on_value, Diagnostics& diag) {
  auto fail = [&](const std::string& what) -> result<void> {
    diag.message = "JSON stream: " + what + " at byte " + std::to_string(offset_) + " (value " +
                   std::to_string(index_ + 1) + ")";
    return make_error_code(client_errc::invalid_argument);
  };
  static constexpr unsigned char bom[3] = {0xEF, 0xBB, 0xBF};
  std::size_t i = 0;
  // A UTF-8 byte order mark, only at the very start of the stream.
  while (bom_ < 3 && i < chunk.size()) {
    if (static_cast<unsigned char>(chunk[i]) == bom[bom_] && offset_ == static_cast<std::uint64_t>(bom_)) {
      ++bom_;
      ++i;
      ++offset_;
      continue;
    }
    if (bom_ > 0) return fail("an incomplete byte order mark");
    bom_ = 3;
  }
  std::size_t run_start = i;  // start of the bytes of the current value within this chunk
  auto flush_run = [&](std::size_t end) {
    if (!closers_.empty() || end > run_start) value_.append(chunk.data() + run_start, end - run_start);
  };
  for (; i < chunk.size(); ++i, ++offset_) {
    const char c = chunk[i];
    if (closers_.empty()) {  // between values
      if (json_space(c)) continue;
      if (c != '{' && c != '[') return fail("expected an object or array, got " + shown(c));
      value_.clear();
      start_ = offset_;
      run_start = i;
      closers_.push_back(c == '{' ? '}' : ']');
      continue;
    }
    if (in_string_) {
      if (escape_)
        escape_ = false;
      else if (c == '\\')
        escape_ = true;
      else if (c == '"')
        in_string_ = false;
    } else if (c == '"') {
      in_string_ = true;
    } else if (c == '{' || c == '[') {
      if (closers_.size() >= options_.max_depth)
        return fail("nesting deeper than " + std::to_string(options_.max_depth) + " levels");
      closers_.push_back(c == '{' ? '}' : ']');
    } else if (c == '}' || c == ']') {
      if (c != closers_.back())
        return fail(std::string("'") + c + "' where '" + closers_.back() + "' closes the open " +
                    (closers_.back() == '}' ? "object" : "array"));
      closers_.pop_back();
      if (closers_.empty()) {  // a whole value
        const std::size_t end = i + 1;
        if (value_.size() + (end - run_start) > options_.max_value_bytes)
          return fail("a value longer than " + std::to_string(options_.max_value_bytes) + " bytes");
        std::string_view v;
        if (value_.empty()) {
          v = chunk.substr(run_start, end - run_start);  // all in this chunk: no copy
        } else {
          value_.append(chunk.data() + run_start, end - run_start);
          v = value_;
        }
        ++index_;
        auto r = on_value(v, index_ - 1, start_);
        value_.clear();
        if (!r) return r;
        run_start = end;
        continue;
      }
    }
    if (value_.size() + (i + 1 - run_start) > options_.max_value_bytes)
      return fail("a value longer than " + std::to_string(options_.max_value_bytes) + " bytes");
  }
  if (!closers_.empty()) flush_run(chunk.size());
  return {};
}

result<void> JsonValueSplitter::finish(Diagnostics& diag) const {
  if (closers_.empty() && !(bom_ > 0 && bom_ < 3)) return {};
  diag.message = "JSON stream: ended inside value " + std::to_string(index_ + 1) + " (begun at byte " +
                 std::to_string(start_) + ", " + std::to_string(closers_.size()) + " bracket(s) open" +
                 (in_string_ ? ", inside a string" : "") + ")";
  if (closers_.empty()) diag.message = "JSON stream: ended inside a byte order mark";
  return make_error_code(client_errc::invalid_argument);
}

}  // namespace ctsqs
