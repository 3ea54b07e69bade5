// The record layer of the object decoder: a Boost.JSON SAX handler that finds the records in the
// decompressed bytes of an object, whatever their layout (RecordLayout: CloudTrail's
// `{"Records":[...]}`, a stream of JSON objects, EventBridge events carrying the record in
// `detail`, CloudWatch Logs subscription messages carrying it as text), and flattens each record
// into an Event as it streams by. Internal to lib/cloudtrail_decoder.cpp, the one TU that
// instantiates the parser.
#pragma once

#include "ctsqs/decode/cloudtrail_decoder.hpp"
#include "json_state.hpp"
#include "protocol_util.hpp"

#include <boost/json/basic_parser.hpp>

#include <cstring>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#if defined(__GNUC__)
#define CTSQS_NOINLINE [[gnu::noinline]]
#else
#define CTSQS_NOINLINE
#endif

namespace ctsqs::records {

// Boost.JSON basic_parser handler: forwards to JsonState.
struct Handler {
  static constexpr std::size_t max_object_size = std::numeric_limits<std::size_t>::max();
  static constexpr std::size_t max_array_size = std::numeric_limits<std::size_t>::max();
  static constexpr std::size_t max_key_size = std::numeric_limits<std::size_t>::max();
  static constexpr std::size_t max_string_size = std::numeric_limits<std::size_t>::max();
  using ec_t = boost::system::error_code;
  using sv = boost::json::string_view;

  JsonState* st;

  explicit Handler(JsonState* s) : st(s) {}

  bool on_document_begin(ec_t&) { return true; }
  bool on_document_end(ec_t&) { return true; }

  // "logEvents index 2 of the CloudWatch Logs message (value index 0)".
  std::string log_event_name(std::uint64_t index) const {
    return "logEvents index " + std::to_string(index) + " of the CloudWatch Logs message (" +
           st->value_name() + ")";
  }

  bool ignore_value() {
    st->ignoring = true;
    st->ignore_base = st->level;
    return true;
  }

  // A scalar outside any record: only legal where the layout ignores values.
  bool outside_scalar(ec_t& ec) {
    JsonState& s = *st;
    if (s.ignoring) return true;
    if (s.level == 0) return s.fail(decode_errc::not_an_object, ec);
    switch (s.layout) {
      case RecordLayout::records_array:
        if (s.level == 1) {
          if (s.top_key_is_records) return s.fail(decode_errc::records_not_array, ec);
          return true;
        }
        if (s.in_records) return s.fail(decode_errc::record_not_object, ec);
        return true;
      case RecordLayout::json_values: return true;  // level 1 is always a record
      case RecordLayout::eventbridge_events:
        if (s.level == 1 && s.top_key_is_records)
          return s.fail(decode_errc::record_not_object,
                        "the detail of the EventBridge event (" + s.value_name() + ") is not an object", ec);
        return true;
      case RecordLayout::cloudwatch_logs:
        if (s.level == 1 && s.top_key_is_records)
          return s.fail(decode_errc::records_not_array,
                        "logEvents of the CloudWatch Logs message (" + s.value_name() + ") is not an array", ec);
        if (s.level == 2 && s.in_records && !s.in_log_event)
          return s.fail(decode_errc::record_not_object, log_event_name(s.log_event_index) + " is not an object", ec);
        if (s.level == 3 && s.in_log_event && s.key() == "message")
          return s.fail(decode_errc::record_not_object,
                        log_event_name(s.log_event_index) + ": message is not a string", ec);
        return true;
    }
    return true;
  }

  // A string outside any record (`part`: more of it follows). CloudWatch Logs envelopes keep
  // their messageType and each log event's message; everything else is a scalar as above.
  bool outside_string(sv v, bool part, ec_t& ec) {
    JsonState& s = *st;
    if (s.ignoring) return true;
    const bool first = !s.value_open;
    s.value_open = part;
    if (s.layout == RecordLayout::cloudwatch_logs) {
      if (first) {
        if (s.level == 3 && s.in_log_event && s.key() == "message") {
          s.in_message = true;
          s.message.clear();
        } else if (s.level == 1 && s.in_envelope && s.key() == "messageType") {
          s.in_type = true;
          s.cwl_type.clear();
        }
      }
      if (s.in_message) {
        s.message.append(v.data(), v.size());
        if (s.message.size() > s.opt->max_record_bytes)
          return s.fail(decode_errc::record_too_large,
                        log_event_name(s.log_event_index) + ": message exceeds " +
                            std::to_string(s.opt->max_record_bytes) + " bytes",
                        ec);
        if (part) return true;
        s.in_message = false;
        return deliver_message(ec);
      }
      if (s.in_type) {
        if (s.cwl_type.size() < 64) s.cwl_type.append(v.data(), std::min<std::size_t>(v.size(), 64 - s.cwl_type.size()));
        if (!part) s.in_type = false;
        return true;
      }
    }
    return first ? outside_scalar(ec) : true;
  }

  // A log event's message is complete: decode it now, or keep it until messageType is known.
  // Messages kept are bounded like one record: CloudWatch Logs writes messageType first.
  bool deliver_message(ec_t& ec) {
    JsonState& s = *st;
    s.saw_message = true;
    if (s.cwl_type == "CONTROL_MESSAGE") return true;
    if (s.cwl_type.empty()) {
      s.pending_bytes += s.message.size();
      if (s.pending_bytes > s.opt->max_record_bytes)
        return s.fail(decode_errc::record_too_large,
                      "the messages of the CloudWatch Logs message (" + s.value_name() + ") before its messageType exceed " +
                          std::to_string(s.opt->max_record_bytes) + " bytes",
                      ec);
      s.pending_messages.emplace_back(s.log_event_index, std::move(s.message));
      s.message = std::string();
      return true;
    }
    return parse_message(s.message, s.log_event_index, ec);
  }

  // Parses one message text as a record (defined after NestedParser).
  bool parse_message(std::string_view text, std::uint64_t index, ec_t& ec);

  // cloudwatch_logs: the first member of a level-1 object decides what it is.
  static bool is_cloudwatch_logs_key(std::string_view k) {
    return k == "messageType" || k == "owner" || k == "logGroup" || k == "logStream" ||
           k == "subscriptionFilters" || k == "logEvents";
  }

  bool on_object_begin(ec_t& ec) {
    JsonState& s = *st;
    ++s.level;
    if (s.in_record) [[likely]] {
      s.element_prefix();
      s.structural('{');
      s.frames.push_back({false, true, s.prefix_len, s.key_len});
      if (s.columns_active()) {
        // The member name joins the prefix: `"` ... `name_` (no `_` while the prefix is empty,
        // as for the empty member name).
        s.name.truncate(s.prefix_len + s.key_len);
        if (s.name.size() > 1) s.name.put('_');
        s.prefix_len = s.name.size();
        s.key_len = 0;
      }
      return s.check_size(ec);
    }
    if (s.ignoring) return true;
    switch (s.layout) {
      case RecordLayout::records_array:
        if (s.level == 1) return true;  // the document
        if (s.level == 2) {
          if (s.top_key_is_records) return s.fail(decode_errc::records_not_array, ec);
          return ignore_value();
        }
        if (s.in_records && s.level == 3) s.start_record();
        return true;
      case RecordLayout::json_values:
        s.start_record();  // level 1: every other level is inside the record
        return true;
      case RecordLayout::eventbridge_events:
        if (s.level == 1) {
          s.in_envelope = true;
          return true;
        }
        if (s.level == 2 && s.top_key_is_records) {
          s.saw_records = true;
          s.start_record();
          return true;
        }
        return ignore_value();
      case RecordLayout::cloudwatch_logs:
        if (s.level == 1) {
          s.pending_top = true;
          return true;
        }
        if (s.level == 2 && s.top_key_is_records)
          return s.fail(decode_errc::records_not_array,
                        "logEvents of the CloudWatch Logs message (" + s.value_name() + ") is not an array", ec);
        if (s.level == 3 && s.in_records) {
          s.in_log_event = true;
          return true;
        }
        if (s.level == 4 && s.in_log_event && s.key() == "message")
          return s.fail(decode_errc::record_not_object,
                        log_event_name(s.log_event_index) + ": message is not a string", ec);
        return ignore_value();
    }
    return true;
  }

  bool on_object_end(std::size_t, ec_t& ec) {
    JsonState& s = *st;
    --s.level;
    if (s.in_record) [[likely]] {
      if (s.frames.size() == 1) {
        s.finish_record();
        return true;
      }
      const Frame f = s.frames.back();
      s.frames.pop_back();
      s.structural('}');
      if (s.columns_active()) {
        s.prefix_len = f.prefix_len;
        s.key_len = f.key_len;
        // An empty object is a leaf too: keep it as the JSON text "{}" (like arrays).
        if (f.first) {
          s.name.truncate(s.prefix_len + s.key_len);
          s.name.append("\":", 2);
          s.column_name();
          s.cols.append("\"{}\"", 4);
        }
      }
      // Inside a container of this record the next member must get its comma.
      return s.check_size(ec);
    }
    if (s.ignoring) {
      if (s.level < s.ignore_base) s.ignoring = false;
      return true;
    }
    switch (s.layout) {
      case RecordLayout::records_array:
        if (s.level == 0 && !s.saw_records && !s.saw_digest_key)
          return s.fail(decode_errc::records_missing, ec);
        return true;
      case RecordLayout::json_values: return true;
      case RecordLayout::eventbridge_events:
        if (s.level == 0 && !s.saw_records)
          return s.fail(decode_errc::records_missing,
                        "the EventBridge event (" + s.value_name() + ") has no detail member", ec);
        return true;
      case RecordLayout::cloudwatch_logs:
        if (s.level == 2 && s.in_log_event) {
          if (!s.saw_message)
            return s.fail(decode_errc::record_not_object, log_event_name(s.log_event_index) + " has no message", ec);
          s.in_log_event = false;
          s.saw_message = false;
          ++s.log_event_index;
          return true;
        }
        if (s.level == 0) {
          if (s.pending_top) {  // `{}`: a record without members
            s.pending_top = false;
            s.start_record();
            s.finish_record();
            return true;
          }
          if (!s.saw_records)
            return s.fail(decode_errc::records_missing,
                          "the CloudWatch Logs message (" + s.value_name() + ") has no logEvents member", ec);
          // Messages that came before messageType: a CONTROL_MESSAGE's are not records.
          auto pending = std::move(s.pending_messages);
          s.pending_messages.clear();
          if (s.cwl_type != "CONTROL_MESSAGE")
            for (auto& [index, text] : pending)
              if (!parse_message(text, index, ec)) return false;
        }
        return true;
    }
    return true;
  }

  bool on_array_begin(ec_t& ec) {
    JsonState& s = *st;
    ++s.level;
    if (s.in_record) [[likely]] {
      s.element_prefix();
      // An array is one column: its compact text as a JSON string.
      if (s.columns_active()) {
        s.column_name();
        s.cols.put('"');
      }
      s.frames.push_back({true, true, s.prefix_len, s.key_len});
      ++s.array_depth;
      s.structural('[');
      return s.check_size(ec);
    }
    if (s.ignoring) return true;
    if (s.level == 1) return s.fail(decode_errc::not_an_object, ec);
    switch (s.layout) {
      case RecordLayout::records_array:
        if (s.level == 2) {
          if (!s.top_key_is_records) return ignore_value();
          s.in_records = true;
          s.saw_records = true;
          return true;
        }
        if (s.in_records) return s.fail(decode_errc::record_not_object, ec);
        return true;
      case RecordLayout::json_values: return true;  // unreachable: level 1 failed above
      case RecordLayout::eventbridge_events:
        if (s.level == 2 && s.top_key_is_records)
          return s.fail(decode_errc::record_not_object,
                        "the detail of the EventBridge event (" + s.value_name() + ") is not an object", ec);
        return ignore_value();
      case RecordLayout::cloudwatch_logs:
        if (s.level == 2 && s.top_key_is_records) {
          s.in_records = true;
          s.saw_records = true;
          return true;
        }
        if (s.level == 3 && s.in_records && !s.in_log_event)
          return s.fail(decode_errc::record_not_object, log_event_name(s.log_event_index) + " is not an object", ec);
        if (s.level == 4 && s.in_log_event && s.key() == "message")
          return s.fail(decode_errc::record_not_object,
                        log_event_name(s.log_event_index) + ": message is not a string", ec);
        return ignore_value();
    }
    return true;
  }

  bool on_array_end(std::size_t, ec_t& ec) {
    JsonState& s = *st;
    --s.level;
    if (s.in_record) [[likely]] {
      s.frames.pop_back();
      s.structural(']');
      if (--s.array_depth == 0 && s.opt->build_columns) s.cols.put('"');
      return s.check_size(ec);
    }
    if (s.ignoring) {
      if (s.level < s.ignore_base) s.ignoring = false;
      return true;
    }
    if (s.in_records && s.level == 1) s.in_records = false;
    return true;
  }

  bool on_key_part(sv k, std::size_t, ec_t&) {
    JsonState& s = *st;
    if (s.ignoring) return true;
    if (s.key_complete) {
      s.key_parts.clear();
      s.key_complete = false;
    }
    s.key_parts.append(k.data(), k.size());
    return true;
  }

  // The common member name: inside a record's object (no array open, not a stream layout's top
  // level), whole, a slice of the input. Small, so the parser's call stays cheap; the rest is
  // key_general's.
  bool on_key(sv k, std::size_t, ec_t& ec) {
    JsonState& s = *st;
    const std::string_view kv{k.data(), k.size()};
    if (s.in_record && s.key_complete && s.array_depth == 0 && s.level != 1 && s.verbatim(kv)) [[likely]] {
      s.last_pos = kv.data() + kv.size();
      s.set_key(kv, true);
      Frame& f = s.frames.back();
      if (!s.write_compact) {
        f.first = false;
        return true;
      }
      if (!f.first) s.record.put(',');
      f.first = false;
      s.record.put('"');
      s.record.append(s.name.data() + s.prefix_len, s.key_len + 2);  // `name":`
      return s.check_size(ec);
    }
    return key_general(kv, ec);
  }

  CTSQS_NOINLINE bool key_general(std::string_view kv, ec_t& ec) {
    JsonState& s = *st;
    const bool plain = s.verbatim(kv);  // also: the position to name in errors
    if (plain) s.last_pos = kv.data() + kv.size();
    else s.note_pos(kv);
    if (s.ignoring) return true;
    if (s.key_complete) [[likely]] {
      s.set_key(kv, plain);
    } else {
      s.key_parts.append(kv.data(), kv.size());
      s.set_key(s.key_parts, false);
    }
    s.key_complete = true;
    if (s.pending_top && s.level == 1) [[unlikely]] {
      // cloudwatch_logs: a CloudWatch Logs message, or (message extraction on) a record.
      s.pending_top = false;
      if (is_cloudwatch_logs_key(s.key())) s.in_envelope = true;
      else s.start_record();
    }
    if (s.in_record) [[likely]] {
      Frame& f = s.frames.back();
      // Stream layouts: a record is a top-level value; one starting with Records is a CloudTrail
      // log file sent to the wrong service, not a record.
      if (s.level == 1 && f.first && s.key() == "Records") [[unlikely]]
        return s.fail(decode_errc::not_an_object,
                      s.value_name() + " is a CloudTrail log file ({\"Records\":[...]}), not a record of this "
                      "format; CloudTrail log files belong to aws_sqs_cloudtrail", ec);
      if (s.write_compact) {
        if (!f.first) s.record.put(',');
        s.record.put('"');
        s.record.append(s.name.data() + s.prefix_len, s.key_len + 2);  // `name":`
      }
      if (s.array_text()) {  // `,\"name\":` inside the array's column text
        if (!f.first) s.cols.put(',');
        s.cols.append("\\\"", 2);
        if (s.key_plain) s.cols.append(s.key());
        else s.cols.append_escaped(s.key());
        s.cols.append("\\\":", 3);
      }
      f.first = false;
      // Only the record and an array's text grew (the column name waits for its value).
      return !s.write_compact && s.array_depth == 0 ? true : s.check_size(ec);
    }
    if (s.level == 1) {
      switch (s.layout) {
        case RecordLayout::records_array:
          s.top_key_is_records = s.key() == "Records";
          if (is_digest_key(s.key())) s.saw_digest_key = true;
          break;
        case RecordLayout::eventbridge_events: s.top_key_is_records = s.key() == "detail"; break;
        case RecordLayout::cloudwatch_logs: s.top_key_is_records = s.key() == "logEvents"; break;
        case RecordLayout::json_values: break;
      }
    }
    return true;
  }

  bool on_string_part(sv v, std::size_t, ec_t& ec) {
    JsonState& s = *st;
    if (s.in_record) [[likely]] {
      if (!s.value_open) {
        s.scalar_begin(true);
        s.value_open = true;
      }
      s.string_data({v.data(), v.size()});
      return s.check_size(ec);
    }
    return outside_string(v, true, ec);
  }

  bool on_string(sv v, std::size_t, ec_t& ec) {
    JsonState& s = *st;
    const std::string_view str{v.data(), v.size()};
    // Inside a record's object (no array open), whole, a slice of the input (see on_key).
    if (s.in_record && !s.value_open && s.array_depth == 0 && s.verbatim(str)) [[likely]] {
      s.last_pos = str.data() + str.size();  // the position to name in errors
      s.plain_string(str);
      return s.check_size(ec);
    }
    return string_general(str, ec);
  }

  CTSQS_NOINLINE bool string_general(std::string_view v, ec_t& ec) {
    JsonState& s = *st;
    s.note_pos(v);
    if (s.in_record) [[likely]] {
      if (!s.value_open) s.scalar_begin(true);
      s.value_open = false;
      s.string_data(v);
      s.string_end();
      return s.check_size(ec);
    }
    return outside_string({v.data(), v.size()}, false, ec);
  }

  bool on_number_part(sv v, ec_t& ec) {
    JsonState& s = *st;
    if (s.in_record) [[likely]] {
      if (!s.value_open) {
        s.scalar_begin(false);
        s.value_open = true;
      }
      s.raw_data({v.data(), v.size()});
      return s.check_size(ec);
    }
    if (s.ignoring || s.value_open) return true;
    s.value_open = true;
    return outside_scalar(ec);
  }

  bool number(sv v, ec_t& ec) {
    JsonState& s = *st;
    s.note_pos({v.data(), v.size()});
    if (s.in_record && !s.value_open && s.array_depth == 0) [[likely]] {
      s.plain_scalar({v.data(), v.size()});
      return s.check_size(ec);
    }
    if (s.in_record) {
      if (!s.value_open) s.scalar_begin(false);
      s.value_open = false;
      s.raw_data({v.data(), v.size()});
      return s.check_size(ec);
    }
    const bool was_open = s.value_open;
    s.value_open = false;
    if (s.ignoring || was_open) return true;
    return outside_scalar(ec);
  }

  bool on_int64(std::int64_t, sv v, ec_t& ec) { return number(v, ec); }
  bool on_uint64(std::uint64_t, sv v, ec_t& ec) { return number(v, ec); }
  bool on_double(double, sv v, ec_t& ec) { return number(v, ec); }

  bool literal(std::string_view text, ec_t& ec) {
    JsonState& s = *st;
    if (s.in_record && s.array_depth == 0) [[likely]] {
      s.plain_scalar(text);
      return s.check_size(ec);
    }
    if (s.in_record) {
      s.scalar_begin(false);
      s.raw_data(text);
      return s.check_size(ec);
    }
    if (s.ignoring) return true;
    return outside_scalar(ec);
  }

  bool on_bool(bool b, ec_t& ec) { return literal(b ? "true" : "false", ec); }
  bool on_null(ec_t& ec) { return literal("null", ec); }
  bool on_comment_part(sv, ec_t&) { return true; }
  bool on_comment(sv, ec_t&) { return true; }
};

inline boost::json::parse_options parser_options(const DecoderOptions& o) {
  boost::json::parse_options p;
  p.max_depth = o.max_depth;
  return p;
}

// Parses CloudWatch Logs message texts, each one record (a JsonState of layout json_values).
struct NestedParser {
  JsonState state;
  boost::json::basic_parser<Handler> parser;
  explicit NestedParser(const DecoderOptions* opt) : parser(parser_options(*opt), &state) {
    state.opt = opt;
    state.layout = RecordLayout::json_values;
  }
};

inline bool Handler::parse_message(std::string_view text, std::uint64_t index, ec_t& ec) {
  JsonState& s = *st;
  if (!s.nested) s.nested = std::make_shared<NestedParser>(s.opt);
  NestedParser& n = *s.nested;
  n.parser.reset();
  n.state.begin_value();
  n.state.events = 0;
  n.state.record_index = s.record_index;
  n.state.failure = {};
  n.state.failure_detail.clear();
  n.state.emit = s.emit;
  ec_t nec;
  std::size_t used = 0;
  try {
    used = n.parser.write_some(false, text.data(), text.size(), nec);
  } catch (...) {
    n.state.emit.reset();
    s.events += n.state.events;
    s.record_index += n.state.events;
    throw;  // the event handler's exception leaves feed/finish
  }
  n.state.emit.reset();
  s.events += n.state.events;
  s.record_index += n.state.events;
  std::string why;
  decode_errc code = decode_errc::invalid_json;
  if (nec) {
    if (n.state.failure != decode_errc{}) {
      code = n.state.failure;
      why = !n.state.failure_detail.empty() ? n.state.failure_detail
            : code == decode_errc::not_an_object ? std::string("the JSON text is not an object")
                                                  : make_error_code(code).message();
    } else if (nec == boost::json::error::incomplete) {
      code = decode_errc::truncated_json;
      why = text.find_first_not_of(" \t\r\n") == std::string_view::npos ? "the message is empty"
                                                                        : "the JSON text ends early";
    } else {
      why = "invalid JSON (" + nec.message() + ")";
    }
  } else if (used < text.size()) {
    why = "more than one JSON value";
  } else {
    return true;
  }
  return s.fail(code,
                log_event_name(index) + ": the message is not one record as JSON: " + why +
                    " (message starts " + detail::quote_start(text, 64) + ")",
                ec);
}

}  // namespace ctsqs::records
