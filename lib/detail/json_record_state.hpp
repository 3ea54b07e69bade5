// The record layer's state (internal to lib/cloudtrail_decoder.cpp through json_records.hpp): where
// the SAX handler is in the object's layout, and the record and its flattened columns being built.
#pragma once

#include "ctsqs/cloudtrail_decoder.hpp"
#include "json_escape.hpp"
#include "out_buf.hpp"
#include "protocol_util.hpp"

#include <limits>
#include <memory>
#include <optional>
#include <string>
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
  std::size_t path_len;       // length of `path` to restore when the frame closes
  std::size_t compact_start;  // for arrays: where their compact text starts
};

// The SAX handler's state: where we are in the layout (for CloudTrail, `{"Records":[{...},...]}`)
// and the record being built.
struct JsonState {
  const DecoderOptions* opt = nullptr;
  Event event;
  detail::OutBuf record;       // compact JSON of the record being built
  detail::OutBuf scratch;      // compact text of arrays when `record` is not built
  detail::OutBuf cols;         // flattened columns being built
  detail::OutBuf* compact = &scratch;
  bool write_compact = false;  // compact text is being written now
  std::string path;            // escaped column-name prefix of the current object ("" at top)
  std::string key_parts;       // a member name arriving in parts, unescaped
  detail::OutBuf key;          // the current member name, JSON-escaped (escaped once per key)
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
    compact = &scratch;
    in_envelope = pending_top = in_log_event = in_message = in_type = false;
    cwl_type.clear();
    log_event_index = 0;
    pending_messages.clear();
    pending_bytes = 0;
    saw_message = false;
  }

  bool columns_active() const noexcept { return opt->build_columns && array_depth == 0; }

  bool check_size(boost::system::error_code& ec) {
    if (compact->size() + cols.size() > opt->max_record_bytes) [[unlikely]]
      return fail(decode_errc::record_too_large, ec);
    return true;
  }

  void column_name() {
    detail::OutBuf& c = cols;
    if (c.size() != 0) c.put(',');
    c.put('"');
    if (!path.empty()) {
      c.append(path);
      c.put('_');
    }
    c.append(key.view());
    c.append("\":", 2);
  }

  // Comma before an array element in compact text (object members get theirs in on_key).
  void element_prefix() {
    Frame& f = frames.back();
    if (f.is_array) {
      if (!f.first && write_compact) compact->put(',');
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
    scratch.clear();
    path.clear();
    frames.clear();
    array_depth = 0;
    value_open = false;
    route = nullptr;
    write_compact = opt->build_record;
    compact = opt->build_record ? &record : &scratch;
    if (write_compact) compact->put('{');
    frames.push_back({false, true, 0, 0});
    in_record = true;
  }

  // Start of a scalar inside a record: commas, column name, routing capture.
  void scalar_begin(bool quoted) {
    element_prefix();
    if (write_compact && quoted) compact->put('"');
    if (columns_active()) {
      column_name();
      if (quoted) cols.put('"');
    }
    route = nullptr;
    if (quoted && frames.size() == 1) {
      // Escaped names equal the raw ones for these plain ASCII names.
      const std::string_view k = key.view();
      if (k == "eventSource") route = &event.event_source;
      else if (k == "eventType") route = &event.event_type;
      else if (k == "awsRegion") route = &event.aws_region;
      else if (k == "recipientAccountId") route = &event.recipient_account;
      // GuardDuty findings name them accountId and region; CloudTrail's names win.
      else if (k == "accountId" && event.recipient_account.empty()) route = &event.recipient_account;
      else if (k == "region" && event.aws_region.empty()) route = &event.aws_region;
      if (route) route->clear();
    }
  }

  void string_data(std::string_view s) {
    if (write_compact) {
      const std::size_t at = compact->size();
      compact->append_escaped(s);
      // Escape once; the columns get the same escaped bytes.
      if (columns_active()) cols.append(compact->data() + at, compact->size() - at);
    } else if (columns_active()) {
      cols.append_escaped(s);
    }
    if (route) route->append(s);
  }

  void string_end() {
    if (write_compact) compact->put('"');
    if (columns_active()) cols.put('"');
    route = nullptr;
  }

  void raw_data(std::string_view s) {
    if (write_compact) compact->append(s);
    if (columns_active()) cols.append(s);
  }

  void finish_record() {
    if (write_compact) compact->put('}');
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
