// The record builder of the object decoder's record layer (lib/detail/json_records.hpp): where
// the SAX handler is in an object's layout, and the record being built as compact JSON and as
// flattened columns, with the column name kept whole per member. Internal to
// lib/cloudtrail_decoder.cpp.
#pragma once

#include "ctsqs/decode/cloudtrail_decoder.hpp"
#include "json_escape.hpp"
#include "out_buf.hpp"

#include <boost/system/error_code.hpp>

#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace ctsqs::records {

inline bool is_ws(char c) noexcept { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }

// Which top-level member names mark a CloudTrail digest file (see "CloudTrail digest file
// structure" in the CloudTrail user guide).
inline bool is_digest_key(std::string_view k) noexcept {
  return k == "logFiles" || (k.size() > 6 && k.substr(0, 6) == "digest");
}

// One open container inside a record.
struct Frame {
  bool is_array;
  bool first;                 // no member/element written yet (compact commas; empty objects)
  std::size_t prefix_len;     // JsonState::prefix_len to restore when the frame closes
  std::size_t key_len;        // JsonState::key_len to restore (the container's own member name)
};

// The SAX handler's state: where we are in the layout (for CloudTrail, `{"Records":[{...},...]}`)
// and the record being built.
struct JsonState {
  JsonState() { name.put('"'); }

  const DecoderOptions* opt = nullptr;
  Event event;
  detail::OutBuf record;       // compact JSON of the record being built (build_record)
  detail::OutBuf scratch;      // a string escaped once, to be escaped again into an array column
  detail::OutBuf cols;         // flattened columns being built
  bool write_compact = false;  // the compact record is built (build_record)
  // The column name of the current member, written once per key and copied whole per scalar:
  // `"` + the escaped names of the enclosing objects, each followed by `_` (the prefix), then
  // the escaped member name, then `":`.
  detail::OutBuf name;
  std::size_t prefix_len = 1;  // `"` + the prefix
  std::size_t key_len = 0;     // the escaped member name after the prefix
  bool key_plain = true;       // the member name needed no escaping (so escaping it again is a no-op)
  std::string key_parts;       // a member name arriving in parts, unescaped
  bool key_complete = true;    // the next key part starts a new key
  std::vector<Frame> frames;   // open containers inside the record
  int array_depth = 0;         // arrays open inside the record
  bool value_open = false;     // a string/number arrived in parts and is not finished
  std::string* route = nullptr;  // routing field receiving the current string

  std::size_t level = 0;       // containers open in the whole document
  bool in_records = false;     // inside the Records array (level 2)
  bool in_record = false;      // inside a record (level >= 3)
  bool ignoring = false;       // inside a top-level value we do not use
  std::size_t ignore_base = 0;
  bool top_key_is_records = false;
  bool saw_records = false;
  bool saw_digest_key = false;
  std::uint64_t record_index = 0;  // index of the record being parsed (= records finished)
  std::uint64_t events = 0;

  // Stream layouts (every layout but records_array): one document per top-level value.
  RecordLayout layout = RecordLayout::records_array;
  std::uint64_t value_index = 0;  // top-level values finished
  bool in_envelope = false;    // the level-1 object is an EventBridge event / CloudWatch message
  bool pending_top = false;    // cloudwatch_logs: a level-1 object whose first key decides
  // cloudwatch_logs envelope: messageType, the log event being read, its message text.
  std::string cwl_type;
  bool in_type = false;        // the current string is messageType
  bool in_log_event = false;
  std::uint64_t log_event_index = 0;
  bool in_message = false;     // the current string is a log event's `message`
  std::string message;
  std::vector<std::pair<std::uint64_t, std::string>> pending_messages;  // before messageType
  std::size_t pending_bytes = 0;  // their size: bounded by max_record_bytes
  bool saw_message = false;    // the current log event has its message
  std::shared_ptr<struct NestedParser> nested;  // parses message texts as records

  std::optional<EventHandler> emit;  // set during feed/finish
  decode_errc failure{};       // set when the handler stops the parse
  std::string failure_detail;  // the whole error text, when the handler composed one
  // Input position tracking for error messages.
  const char* chunk_begin = nullptr;
  const char* chunk_end = nullptr;
  const char* last_pos = nullptr;

  void note_pos(std::string_view s) noexcept {
    const char* e = s.data() + s.size();
    if (e >= chunk_begin && e <= chunk_end) last_pos = e;
  }

  // `s` points into the JSON text being parsed: Boost.JSON passes a string's unescaped runs as
  // slices of its input and everything it unescaped from its own buffer, and it rejects control
  // characters, so such a slice holds no byte JSON requires escaped and is copied as is.
  bool verbatim(std::string_view s) const noexcept {
    return s.data() >= chunk_begin && s.data() + s.size() <= chunk_end;
  }

  /// The current member name, JSON-escaped.
  std::string_view key() const noexcept { return {name.data() + prefix_len, key_len}; }

  // Sets the current member name (unescaped `k`, `plain`: known to need no escaping).
  void set_key(std::string_view k, bool plain) {
    name.truncate(prefix_len);
    if (plain) [[likely]] {
      char* p = detail::OutBuf::put_at(name.claim(k.size() + 2), k);
      p[0] = '"';
      p[1] = ':';
      name.commit(p + 2);
      key_len = k.size();
      key_plain = true;
      return;
    }
    name.append_escaped(k);
    key_len = name.size() - prefix_len;
    key_plain = key_len == k.size();
    name.append("\":", 2);
  }

  // Resets the column name to the record's top level.
  void reset_name() {
    name.truncate(1);
    prefix_len = 1;
    key_len = 0;
  }

  bool fail(decode_errc e, boost::system::error_code& ec) {
    failure = e;
    ec = e;
    return false;
  }
  bool fail(decode_errc e, std::string detail, boost::system::error_code& ec) {
    failure_detail = std::move(detail);
    return fail(e, ec);
  }

  bool stream() const noexcept { return layout != RecordLayout::records_array; }

  // "value index 3" (stream layouts): which top-level value of the object.
  std::string value_name() const { return "value index " + std::to_string(value_index); }

  // Resets what one document (records_array: the object; else one top-level value) tracks.
  void begin_value() {
    level = 0;
    in_records = in_record = ignoring = false;
    top_key_is_records = saw_records = saw_digest_key = false;
    key_complete = true;
    value_open = false;
    frames.clear();
    reset_name();
    in_envelope = pending_top = in_log_event = in_message = in_type = false;
    cwl_type.clear();
    log_event_index = 0;
    pending_messages.clear();
    pending_bytes = 0;
    saw_message = false;
  }

  // Columns are named at this depth (outside arrays).
  bool columns_active() const noexcept { return opt->build_columns && array_depth == 0; }
  // An array's compact text is being written into its column, escaped as a JSON string.
  bool array_text() const noexcept { return opt->build_columns && array_depth > 0; }

  bool check_size(boost::system::error_code& ec) {
    if (record.size() + cols.size() > opt->max_record_bytes) [[unlikely]]
      return fail(decode_errc::record_too_large, ec);
    return true;
  }

  void column_name() {
    if (cols.size() != 0) cols.put(',');
    cols.append(name.data(), name.size());
  }

  // A structural character of compact text (`{`, `}`, `[`, `]`, `,`): into the record, and into
  // the array column being written (no escaping needed).
  void structural(char c) {
    if (write_compact) record.put(c);
    if (array_text()) cols.put(c);
  }

  // Comma before an array element in compact text (object members get theirs in on_key).
  void element_prefix() {
    Frame& f = frames.back();
    if (f.is_array) {
      if (!f.first) structural(',');
      f.first = false;
    }
  }

  void start_record() {
    record.clear();
    cols.clear();
    event.event_source.clear();
    event.event_type.clear();
    event.recipient_account.clear();
    event.aws_region.clear();
    event.tag.clear();
    // Outside records the prefix is already empty; the current member name stays (cloudwatch_logs
    // starts a record at its first member, already read).
    prefix_len = 1;
    frames.clear();
    array_depth = 0;
    value_open = false;
    route = nullptr;
    write_compact = opt->build_record;
    if (write_compact) record.put('{');
    frames.push_back({false, true, 1, 0});
    in_record = true;
  }

  // Start of a scalar inside a record: commas, column name, routing capture.
  void scalar_begin(bool quoted) {
    element_prefix();
    if (write_compact && quoted) record.put('"');
    if (opt->build_columns) {
      if (array_depth == 0) {
        column_name();
        if (quoted) cols.put('"');
      } else if (quoted) {
        cols.append("\\\"", 2);
      }
    }
    route = nullptr;
    if (quoted && frames.size() == 1) find_route();
  }

  // A string member of the record itself: is it a routing field? (Escaped names equal the raw
  // ones for these plain ASCII names; compared by length first, then as fixed-size memcmp.)
  void find_route() {
    const char* k = name.data() + prefix_len;
    switch (key_len) {
      case 6:  // GuardDuty findings name them accountId and region; CloudTrail's names win.
        if (std::memcmp(k, "region", 6) == 0 && event.aws_region.empty()) route = &event.aws_region;
        break;
      case 9:
        if (std::memcmp(k, "eventType", 9) == 0) route = &event.event_type;
        else if (std::memcmp(k, "awsRegion", 9) == 0) route = &event.aws_region;
        else if (std::memcmp(k, "accountId", 9) == 0 && event.recipient_account.empty())
          route = &event.recipient_account;
        break;
      case 11:
        if (std::memcmp(k, "eventSource", 11) == 0) route = &event.event_source;
        break;
      case 18:
        if (std::memcmp(k, "recipientAccountId", 18) == 0) route = &event.recipient_account;
        break;
      default: break;
    }
    if (route) route->clear();
  }

  // String contents (unescaped `s`): escaped into the record and the column; inside an array
  // escaped twice into its column (the array's text is a JSON string there).
  void string_data(std::string_view s) {
    if (verbatim(s)) [[likely]] {
      if (write_compact) record.append(s);
      if (opt->build_columns) cols.append(s);
    } else if (write_compact) {
      const std::size_t at = record.size();
      record.append_escaped(s);
      // Escape once; the columns get the same escaped bytes (escaped again inside arrays).
      if (columns_active()) cols.append(record.data() + at, record.size() - at);
      else if (array_text()) cols.append_escaped(record.view().substr(at));
    } else if (columns_active()) {
      cols.append_escaped(s);
    } else if (array_text()) {
      scratch.clear();
      scratch.append_escaped(s);
      cols.append_escaped(scratch.view());
    }
    if (route) route->append(s);
  }

  // A whole string member of an object outside arrays, a slice of the input (see verbatim):
  // the common case, written with one size check per buffer.
  void plain_string(std::string_view s) {
    if (opt->build_columns) {
      char* p = cols.claim(name.size() + s.size() + 3);  // , name " s "
      if (cols.size() != 0) *p++ = ',';
      p = detail::OutBuf::put_at(p, name.view());
      *p++ = '"';
      p = detail::OutBuf::put_at(p, s);
      *p++ = '"';
      cols.commit(p);
    }
    if (write_compact) {
      char* p = record.claim(s.size() + 2);
      *p++ = '"';
      p = detail::OutBuf::put_at(p, s);
      *p++ = '"';
      record.commit(p);
    }
    if (frames.size() == 1) {
      route = nullptr;
      find_route();
      if (route) route->assign(s);
      route = nullptr;
    }
  }

  // A number, true, false or null as a member of an object outside arrays, whole.
  void plain_scalar(std::string_view text) {
    if (opt->build_columns) {
      char* p = cols.claim(name.size() + text.size() + 1);  // , name text
      if (cols.size() != 0) *p++ = ',';
      p = detail::OutBuf::put_at(p, name.view());
      cols.commit(detail::OutBuf::put_at(p, text));
    }
    if (write_compact) record.append(text);
    route = nullptr;
  }

  void string_end() {
    if (write_compact) record.put('"');
    if (opt->build_columns) {
      if (array_depth == 0) cols.put('"');
      else cols.append("\\\"", 2);
    }
    route = nullptr;
  }

  void raw_data(std::string_view s) {
    if (write_compact) record.append(s);
    if (opt->build_columns) cols.append(s);
  }

  void finish_record() {
    if (write_compact) record.put('}');
    frames.pop_back();
    in_record = false;
    if (opt->build_record) event.record.assign(record.data(), record.size());
    else event.record.clear();
    event.columns.assign(cols.data(), cols.size());
    ++record_index;
    ++events;
    (*emit)(event);
  }
};

}  // namespace ctsqs::records
