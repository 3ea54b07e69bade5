// CloudTrailDecoder, the object layer: gzip/plain detection, streaming or whole-buffer inflate
// (lib/detail/gzip_inflate.hpp: ISA-L, libdeflate or zlib), caps, and the errors that name the object; the records are
// found and flattened by the SAX handler of lib/detail/json_records.hpp, for every RecordLayout.
#include "ctsqs/decode/cloudtrail_decoder.hpp"
#include "detail/error_category.hpp"

#include "detail/gzip_inflate.hpp"
#include "detail/json_records.hpp"

#include <boost/json/basic_parser_impl.hpp>

#include <algorithm>
#include <cstring>
#include <limits>
#include <optional>
#include <ostream>
#include <vector>

namespace ctsqs {
namespace {

const char* describe(decode_errc e) noexcept {
  switch (e) {
    case decode_errc::corrupt_gzip: return "corrupt gzip data";
    case decode_errc::truncated_gzip: return "truncated gzip data";
    case decode_errc::unsupported_compression: return "unsupported compression";
    case decode_errc::invalid_json: return "invalid JSON";
    case decode_errc::truncated_json: return "truncated JSON";
    case decode_errc::trailing_data: return "data after the JSON document";
    case decode_errc::not_an_object: return "not a CloudTrail log: the document is not an object";
    case decode_errc::records_missing: return "not a CloudTrail log: no Records member";
    case decode_errc::records_not_array: return "Records is not an array";
    case decode_errc::record_not_object: return "a record is not an object";
    case decode_errc::object_too_large: return "object exceeds the uncompressed size limit";
    case decode_errc::record_too_large: return "record exceeds the size limit";
    case decode_errc::unclaimed: return "no configured service claims the object";
  }
  return nullptr;
}

constexpr std::size_t inflate_chunk = 256 * 1024;

using records::Handler;
using records::is_ws;
using records::JsonState;
using records::parser_options;

}  // namespace

const boost::system::error_category& decode_category() noexcept {
  static const detail::EnumErrorCategory<decode_errc> cat("ctsqs.decode", describe, "unknown decode error");
  return cat;
}

std::string_view to_string(RecordLayout l) noexcept {
  switch (l) {
    case RecordLayout::records_array: return "records_array";
    case RecordLayout::json_values: return "json_values";
    case RecordLayout::eventbridge_events: return "eventbridge_events";
    case RecordLayout::cloudwatch_logs: return "cloudwatch_logs";
  }
  return "unknown";
}

std::string_view to_string(SkipReason r) noexcept {
  switch (r) {
    case SkipReason::none: return "none";
    case SkipReason::digest: return "digest";
    case SkipReason::config_writability_check: return "config-writability-check";
    case SkipReason::empty: return "empty";
  }
  return "none";
}

std::ostream& operator<<(std::ostream& os, const ObjectSummary& s) {
  os << s.object_name << ": ";
  if (s.skipped != SkipReason::none) return os << "skipped (" << to_string(s.skipped) << ")";
  return os << s.events << " events ("
            << (s.compression == Compression::gzip ? "gzip" : "plain") << ", " << s.compressed_bytes
            << " -> " << s.uncompressed_bytes << " bytes)";
}

SkipReason skip_reason_for_key(std::string_view name) noexcept {
  if (name.find("CloudTrail-Digest") != std::string_view::npos) return SkipReason::digest;
  if (name.find("ConfigWritabilityCheckFile") != std::string_view::npos)
    return SkipReason::config_writability_check;
  return SkipReason::none;
}

result<void> validate(const DecoderOptions& o, Diagnostics& diag) {
  auto bad = [&](const char* msg) -> result<void> {
    diag.message = msg;
    return make_error_code(client_errc::invalid_argument);
  };
  if (!o.build_record && !o.build_columns)
    return bad("DecoderOptions: build_record and build_columns are both false");
  if (o.max_record_bytes == 0) return bad("DecoderOptions.max_record_bytes must be > 0");
  if (o.max_object_bytes == 0) return bad("DecoderOptions.max_object_bytes must be > 0");
  if (o.max_depth < 4 || o.max_depth > 10000)
    return bad("DecoderOptions.max_depth must be between 4 and 10000");
  return {};
}

struct CloudTrailDecoder::Impl {
  enum class Stage { detect, plain, gzip_gather, gzip, gzip_between_members, skip, failed, done };

  DecoderOptions opt;
  JsonState js;
  boost::json::basic_parser<Handler> parser;
  gzip::Stream zs;
  std::unique_ptr<gzip::Whole> whole;  // made on the first whole-buffer inflate
  std::unique_ptr<char[]> inflate_buf;
  std::unique_ptr<char[]> whole_buf;
  std::size_t whole_cap = 0;
  std::uint64_t member_out = 0;  // uncompressed bytes of the current gzip member
  int magic_seen = 2;            // bytes of the current member's gzip magic checked (of 2)

  ObjectSummary summary;
  Stage stage = Stage::detect;
  std::string head;             // first bytes, until the compression is known
  std::string gathered;         // gzip bytes gathered for a whole-object inflate
  std::uint64_t json_offset = 0;  // uncompressed bytes given to the parser
  std::uint64_t member_start = 0;  // compressed offset where the current gzip member started
  std::uint64_t members = 0;
  bool nonws_seen = false;
  bool doc_open = false;          // stream layouts: the parser holds a started top-level value
  error_code error;
  std::string error_message;
  ContentObserver observer;  // sees every uncompressed byte (parse)

  explicit Impl(DecoderOptions o)
      : opt(o), parser(parser_options(opt), &js), inflate_buf(new char[inflate_chunk]) {
    js.opt = &opt;
    js.layout = opt.layout;
  }
  ~Impl() = default;
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;

  void begin(std::string_view name) {
    summary = ObjectSummary{};
    summary.object_name.assign(name);
    stage = Stage::detect;
    head.clear();
    json_offset = 0;
    member_start = 0;
    members = 0;
    magic_seen = 2;
    nonws_seen = false;
    error = {};
    error_message.clear();
    parser.reset();
    doc_open = false;
    js.begin_value();
    js.value_index = 0;
    js.record_index = 0;
    js.events = 0;
    js.failure = {};
    js.failure_detail.clear();
    js.last_pos = nullptr;
    const SkipReason r = skip_reason_for_key(name);
    if (r != SkipReason::none) {
      summary.skipped = r;
      stage = Stage::skip;
    }
  }

  result<void> fail(decode_errc e, std::string what, Diagnostics* diag) {
    error = e;
    error_message = summary.object_name;
    error_message += ": ";
    error_message += what;
    error_message += "; ";
    error_message += std::to_string(js.events);
    error_message += js.events == 1 ? " event from this object was" : " events from this object were";
    error_message += " already emitted";
    stage = Stage::failed;
    summary.events = js.events;
    if (diag) diag->message = error_message;
    return error;
  }

  result<void> sticky(Diagnostics* diag) const {
    if (diag) diag->message = error_message;
    return error;
  }

  // " near uncompressed byte N (record index R)"; `offset_only`: without the parenthesis.
  std::string where_json(bool offset_only = false) const {
    std::string w;
    std::uint64_t off = json_offset;
    if (js.last_pos && js.chunk_begin && js.last_pos >= js.chunk_begin &&
        js.last_pos <= js.chunk_end)
      off += static_cast<std::uint64_t>(js.last_pos - js.chunk_begin);
    w = " near uncompressed byte " + std::to_string(off);
    if (offset_only) return w;
    if (js.stream()) {
      w += " (" + js.value_name();
      if (js.in_record && js.layout != RecordLayout::json_values)
        w += ", record index " + std::to_string(js.record_index);
      w += ")";
    } else if (js.in_record || js.in_records) {
      w += " (record index " + std::to_string(js.record_index) + ")";
    }
    return w;
  }

  // Feed uncompressed JSON bytes to the parser.
  result<void> parse(const char* data, std::size_t n, Diagnostics* diag) {
    if (n == 0) return {};
    if (observer) observer(std::string_view(data, n));
    if (json_offset == 0 && n >= 3 && std::memcmp(data, "\xEF\xBB\xBF", 3) == 0) {
      data += 3;  // a UTF-8 byte order mark is not JSON, but harmless
      n -= 3;
      json_offset = 3;
    }
    summary.uncompressed_bytes += n;
    if (summary.uncompressed_bytes > opt.max_object_bytes)
      return fail(decode_errc::object_too_large,
                  "uncompressed size exceeds the limit of " + std::to_string(opt.max_object_bytes) +
                      " bytes",
                  diag);
    if (!nonws_seen) {
      for (std::size_t i = 0; i < n; ++i)
        if (!is_ws(data[i])) {
          nonws_seen = true;
          break;
        }
    }
    if (js.stream()) return parse_values(data, n, diag);
    if (parser.done()) return trailing(data, 0, n, diag);
    js.chunk_begin = data;
    js.chunk_end = data + n;
    boost::system::error_code ec;
    const std::size_t used = parser.write_some(true, data, n, ec);
    if (ec) return json_error(ec, diag);
    if (used < n) {
      if (auto r = trailing(data, used, n, diag); !r) return r;
    }
    json_offset += n;
    js.chunk_begin = js.chunk_end = nullptr;
    return {};
  }

  // Stream layouts: the parser takes one top-level value at a time and is reset between them;
  // whitespace between values never reaches it.
  result<void> parse_values(const char* data, std::size_t n, Diagnostics* diag) {
    js.chunk_begin = data;
    js.chunk_end = data + n;
    std::size_t pos = 0;
    while (pos < n) {
      if (!doc_open) {
        while (pos < n && is_ws(data[pos])) ++pos;
        if (pos == n) break;
        parser.reset();
        js.begin_value();
        doc_open = true;
      }
      boost::system::error_code ec;
      pos += parser.write_some(true, data + pos, n - pos, ec);
      if (ec) return json_error(ec, diag);
      if (parser.done()) {
        doc_open = false;
        ++js.value_index;
      }
    }
    json_offset += n;
    js.chunk_begin = js.chunk_end = nullptr;
    return {};
  }

  result<void> trailing(const char* data, std::size_t from, std::size_t n, Diagnostics* diag) {
    for (std::size_t i = from; i < n; ++i)
      if (!is_ws(data[i]))
        return fail(decode_errc::trailing_data,
                    "unexpected data after the end of the JSON document at uncompressed byte " +
                        std::to_string(json_offset + i),
                    diag);
    json_offset += n;
    return {};
  }

  result<void> json_error(const boost::system::error_code& ec, Diagnostics* diag) {
    const std::string where = where_json();
    if (js.failure != decode_errc{}) {
      const decode_errc f = js.failure;
      if (!js.failure_detail.empty()) return fail(f, js.failure_detail + where_json(true), diag);
      if (f == decode_errc::not_an_object && js.stream())
        return fail(f, js.value_name() + " is not a JSON object" + where_json(true), diag);
      switch (f) {
        case decode_errc::record_too_large:
          return fail(f, "record index " + std::to_string(js.record_index) + " exceeds " +
                             std::to_string(opt.max_record_bytes) + " bytes" + where, diag);
        case decode_errc::record_not_object:
          return fail(f, "Records element index " + std::to_string(js.record_index) +
                             " is not an object" + where, diag);
        case decode_errc::records_not_array:
          return fail(f, "member Records is not an array" + where, diag);
        case decode_errc::not_an_object:
          return fail(f, "the JSON document is not an object, so not a CloudTrail log" + where,
                      diag);
        case decode_errc::records_missing:
          return fail(f, "the JSON object has no Records member, so not a CloudTrail log", diag);
        default: return fail(f, make_error_code(f).message() + where, diag);
      }
    }
    if (ec == boost::json::error::incomplete && js.stream())
      return fail(decode_errc::truncated_json,
                  "the object ends inside " + js.value_name() + " after uncompressed byte " +
                      std::to_string(json_offset),
                  diag);
    if (ec == boost::json::error::incomplete)
      return fail(decode_errc::truncated_json,
                  "the object ends inside the JSON document after uncompressed byte " +
                      std::to_string(json_offset) +
                      (js.in_records ? " (record index " + std::to_string(js.record_index) + ")"
                                     : std::string()),
                  diag);
    return fail(decode_errc::invalid_json, "invalid JSON (" + ec.message() + ")" + where, diag);
  }

  result<void> ensure_inflate(Diagnostics* diag) {
    member_out = 0;
    if (!zs.start()) return fail(decode_errc::corrupt_gzip, "the inflater could not start", diag);
    return {};
  }

  // Inflate gzip bytes (one or more members) and parse the output as it comes. zlib and ISA-L
  // count their input in 32 bits: a chunk over 4 GiB goes through in slices they can take.
  result<void> inflate_some(const char* data, std::size_t n, std::uint64_t chunk_offset,
                            Diagnostics* diag) {
    constexpr std::size_t max_slice = gzip::Stream::max_input;
    while (n > 0) {
      const std::size_t len = std::min(n, max_slice);
      if (auto r = inflate_slice(data, len, chunk_offset, diag); !r) return r;
      data += len;
      n -= len;
      chunk_offset += len;
    }
    return {};
  }

  // inflate_some for at most max_slice bytes.
  result<void> inflate_slice(const char* data, std::size_t n, std::uint64_t chunk_offset,
                             Diagnostics* diag) {
    zs.input(data, n);
    while (zs.avail_in() > 0) {
      if (stage == Stage::gzip_between_members) {
        member_start = chunk_offset + (n - zs.avail_in());
        if (auto r = ensure_inflate(diag); !r) return r;
        stage = Stage::gzip;
        magic_seen = 0;
      }
      // Bytes after a member must start another one: said at once, whatever the inflater
      // would wait for (ISA-L reads a whole header before it judges it).
      for (std::size_t i = n - zs.avail_in(); magic_seen < 2 && i < n; ++i, ++magic_seen)
        if (static_cast<unsigned char>(data[i]) != (magic_seen == 0 ? 0x1f : 0x8b))
          return fail(decode_errc::corrupt_gzip,
                      "bytes after the end of gzip member " + std::to_string(members) +
                          " are not another gzip member (at compressed byte " +
                          std::to_string(member_start) + ")",
                      diag);
      gzip::Stream::Status st;
      std::size_t produced = 0;
      do {
        st = zs.run(inflate_buf.get(), inflate_chunk, produced);
        member_out += produced;
        // Output before a failure is parsed first: a stream cannot unsay what it already emitted.
        if (produced > 0) {
          if (auto p = parse(inflate_buf.get(), produced, diag); !p) return p;
        }
        if (st == gzip::Stream::Status::error) {
          const std::uint64_t at = chunk_offset + (n - zs.avail_in());
          std::string what;
          if (members > 0 && (member_start + 2 >= at || member_out == 0))
            what = "bytes after the end of gzip member " + std::to_string(members) +
                   " are not another gzip member (at compressed byte " +
                   std::to_string(member_start) + ")";
          else
            what = "corrupt gzip data (" + zs.message() + ") at compressed byte " +
                   std::to_string(at);
          return fail(decode_errc::corrupt_gzip, what, diag);
        }
        if (st == gzip::Stream::Status::member_end) {
          ++members;
          stage = Stage::gzip_between_members;
          break;
        }
      } while (produced == inflate_chunk);
      if (st == gzip::Stream::Status::more) break;  // all input used
    }
    return {};
  }

  // Leave gathering: stream what was gathered through zlib (it starts at compressed byte 0).
  result<void> stream_gathered(Diagnostics* diag) {
    if (auto r = ensure_inflate(diag); !r) return r;
    stage = Stage::gzip;
    std::string g;
    g.swap(gathered);
    auto r = inflate_some(g.data(), g.size(), 0, diag);
    g.clear();
    g.swap(gathered);  // keep the capacity for the next object
    return r;
  }

  result<void> process(const char* data, std::size_t n, std::uint64_t offset, Diagnostics* diag) {
    switch (stage) {
      case Stage::plain: return parse(data, n, diag);
      case Stage::gzip_gather:
        if (gathered.size() + n <= opt.gather_bytes) {
          gathered.append(data, n);
          return {};
        }
        if (auto r = stream_gathered(diag); !r) return r;
        return inflate_some(data, n, offset, diag);
      case Stage::gzip:
      case Stage::gzip_between_members: return inflate_some(data, n, offset, diag);
      default: return {};
    }
  }

  // Decide the compression from the first bytes.
  result<void> detect(Diagnostics* diag) {
    const auto* h = reinterpret_cast<const unsigned char*>(head.data());
    const std::size_t n = head.size();
    auto starts = [&](std::string_view m) {
      return n >= m.size() && std::memcmp(h, m.data(), m.size()) == 0;
    };
    if (starts("\x1f\x8b")) {
      summary.compression = Compression::gzip;
      if (opt.gather_bytes > 0) {
        gathered.clear();
        stage = Stage::gzip_gather;
        return {};
      }
      if (auto r = ensure_inflate(diag); !r) return r;
      stage = Stage::gzip;
      return {};
    }
    const char* other = nullptr;
    if (starts("BZh")) other = "bzip2";
    else if (starts("\x28\xb5\x2f\xfd")) other = "zstd";
    else if (starts(std::string_view("\xfd\x37\x7a\x58\x5a\x00", 6))) other = "xz";
    else if (starts("PK\x03\x04")) other = "zip";
    if (other)
      return fail(decode_errc::unsupported_compression,
                  std::string("compressed with ") + other + "; only gzip or plain JSON is supported",
                  diag);
    summary.compression = Compression::none;
    stage = Stage::plain;
    return {};
  }

  result<void> feed(const char* data, std::size_t n, Diagnostics* diag) {
    if (stage == Stage::failed) return sticky(diag);
    const std::uint64_t offset = summary.compressed_bytes;
    summary.compressed_bytes += n;
    if (stage == Stage::skip || stage == Stage::done || n == 0) return {};
    if (stage == Stage::detect) {
      constexpr std::size_t need = 6;
      const std::size_t take = std::min(need - head.size(), n);
      head.append(data, take);
      if (head.size() < need) return {};
      if (auto r = detect(diag); !r) return r;
      std::string h;
      h.swap(head);
      if (auto r = process(h.data(), h.size(), offset + take - h.size(), diag); !r) return r;
      data += take;
      n -= take;
      return process(data, n, offset + take, diag);
    }
    return process(data, n, offset, diag);
  }

  result<ObjectSummary> finish(Diagnostics* diag) {
    if (stage == Stage::failed) return sticky(diag).error();
    if (stage == Stage::skip) return summary;
    if (stage == Stage::detect) {
      if (head.empty()) {
        summary.skipped = SkipReason::empty;
        stage = Stage::done;
        return summary;
      }
      if (auto r = detect(diag); !r) return r.error();
      std::string h;
      h.swap(head);
      if (auto r = process(h.data(), h.size(), 0, diag); !r) return r.error();
    }
    if (stage == Stage::gzip_gather) {
      // The whole object arrived within gather_bytes: inflate it in one go when it fits.
      std::size_t out_len = 0;
      const auto* in = reinterpret_cast<const unsigned char*>(gathered.data());
      if (inflate_whole(in, gathered.size(), out_len)) {
        stage = Stage::plain;
        if (auto r = parse(whole_buf.get(), out_len, diag); !r) return r.error();
      } else {
        members = 0;
        if (auto r = stream_gathered(diag); !r) return r.error();
      }
    }
    if (stage == Stage::gzip)
      return fail(decode_errc::truncated_gzip,
                  "the object ends inside gzip member " + std::to_string(members + 1) +
                      " (started at compressed byte " + std::to_string(member_start) +
                      ", object is " + std::to_string(summary.compressed_bytes) + " bytes)",
                  diag)
          .error();
    if (!nonws_seen) {
      summary.skipped = SkipReason::empty;
      stage = Stage::done;
      return summary;
    }
    if (js.stream() ? doc_open : !parser.done()) {
      static const char nothing[1] = {0};
      js.chunk_begin = js.chunk_end = nullptr;
      boost::system::error_code ec;
      parser.write_some(false, nothing, 0, ec);
      if (ec) return json_error(ec, diag).error();
      if (!parser.done())
        return fail(decode_errc::truncated_json, "the object ends inside the JSON document", diag)
            .error();
      if (js.stream()) {
        doc_open = false;
        ++js.value_index;
      }
    }
    summary.events = js.events;
    if (!js.saw_records && js.saw_digest_key) summary.skipped = SkipReason::digest;
    stage = Stage::done;
    return summary;
  }

  // Inflate a whole gzip object in one go; false = not possible here (caller streams).
  bool inflate_whole(const unsigned char* in, std::size_t n, std::size_t& out_len) {
    if (n < 18 || opt.whole_buffer_limit == 0) return false;
    const std::uint32_t isize = static_cast<std::uint32_t>(in[n - 4]) |
                                static_cast<std::uint32_t>(in[n - 3]) << 8 |
                                static_cast<std::uint32_t>(in[n - 2]) << 16 |
                                static_cast<std::uint32_t>(in[n - 1]) << 24;
    if (isize > opt.whole_buffer_limit) return false;
    if (!whole) whole = std::make_unique<gzip::Whole>();
    // Room for the size the trailer announces, and a little more: ISA-L reads the trailer only
    // when output room is left (with none it would be restarted with twice the room).
    std::size_t cap = std::max<std::size_t>(std::size_t{isize} + 64, 4096);
    auto reserve = [&](std::size_t want) {
      if (whole_cap < want) {
        std::unique_ptr<char[]> nb(new char[want]);
        if (out_len) std::memcpy(nb.get(), whole_buf.get(), out_len);
        whole_buf = std::move(nb);
        whole_cap = want;
      }
    };
    out_len = 0;
    reserve(cap);
    cap = whole_cap;
    std::size_t pos = 0;
    while (pos < n) {
      std::size_t in_used = 0, out_used = 0;
      const auto r =
          whole->member(in + pos, n - pos, whole_buf.get() + out_len, cap - out_len, in_used, out_used);
      if (r == gzip::Whole::Status::no_space) {
        if (cap >= opt.whole_buffer_limit) return false;
        cap = std::min(opt.whole_buffer_limit, cap * 2);
        reserve(cap);
        continue;
      }
      if (r != gzip::Whole::Status::ok) return false;
      pos += in_used;
      out_len += out_used;
      ++members;
    }
    return true;
  }
};

CloudTrailDecoder::CloudTrailDecoder(DecoderOptions options)
    : impl_(std::make_unique<Impl>(options)) {}
CloudTrailDecoder::~CloudTrailDecoder() = default;
CloudTrailDecoder::CloudTrailDecoder(CloudTrailDecoder&&) noexcept = default;
CloudTrailDecoder& CloudTrailDecoder::operator=(CloudTrailDecoder&&) noexcept = default;

const DecoderOptions& CloudTrailDecoder::options() const noexcept { return impl_->opt; }

void CloudTrailDecoder::begin(std::string_view object_name) { impl_->begin(object_name); }

namespace {

// While the handler is installed; also when it throws: the summary counts what it was given.
struct EmitScope {
  JsonState& js;
  ObjectSummary& summary;
  EmitScope(JsonState& j, ObjectSummary& s, EventHandler h) : js(j), summary(s) { js.emit = h; }
  ~EmitScope() {
    js.emit.reset();
    summary.events = js.events;
  }
  EmitScope(const EmitScope&) = delete;
  EmitScope& operator=(const EmitScope&) = delete;
};

}  // namespace

result<void> CloudTrailDecoder::feed(std::span<const std::byte> chunk, EventHandler handler,
                                     Diagnostics& diag) {
  EmitScope scope(impl_->js, impl_->summary, handler);
  return impl_->feed(reinterpret_cast<const char*>(chunk.data()), chunk.size(), &diag);
}

result<ObjectSummary> CloudTrailDecoder::finish(EventHandler handler, Diagnostics& diag) {
  EmitScope scope(impl_->js, impl_->summary, handler);
  auto r = impl_->finish(&diag);
  if (r) r->events = impl_->js.events;
  return r;
}

const ObjectSummary& CloudTrailDecoder::summary() const noexcept { return impl_->summary; }

void CloudTrailDecoder::observe_content(ContentObserver observer) { impl_->observer = std::move(observer); }

bool CloudTrailDecoder::content_observed() const noexcept {
  // Every uncompressed byte goes through parse() until the object is done or failed.
  return impl_->observer && impl_->stage == Impl::Stage::done &&
         impl_->summary.compression == Compression::gzip;
}

result<ObjectSummary> CloudTrailDecoder::decode_buffer(std::string_view object_name,
                                                       std::span<const std::byte> whole,
                                                       EventHandler handler, Diagnostics& diag) {
  Impl& m = *impl_;
  m.begin(object_name);
  const auto* in = reinterpret_cast<const unsigned char*>(whole.data());
  std::size_t out_len = 0;
  if (m.stage == Impl::Stage::detect && whole.size() >= 2 && in[0] == 0x1f && in[1] == 0x8b &&
      m.inflate_whole(in, whole.size(), out_len)) {
    m.summary.compression = Compression::gzip;
    m.summary.compressed_bytes = whole.size();
    m.stage = Impl::Stage::plain;
    {
      EmitScope scope(m.js, m.summary, handler);
      if (auto r = m.parse(m.whole_buf.get(), out_len, &diag); !r) return r.error();
    }
    return finish(handler, diag);
  }
  m.members = 0;
  if (auto r = feed(whole, handler, diag); !r) return r.error();
  return finish(handler, diag);
}

}  // namespace ctsqs
