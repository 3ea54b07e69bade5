// Shared check of the decoder fuzz targets: any bytes, whole or in chunks, never crash; every
// emitted event is valid JSON; streaming (gathering gzip and pure zlib) agrees with decode_buffer.
#pragma once

#include "ctsqs/decode/cloudtrail_decoder.hpp"

#include <boost/json/parse.hpp>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

namespace ctsqs::fuzz {

inline void check_json(const std::string& text) {
  boost::system::error_code ec;
  boost::json::parse_options po;
  po.max_depth = 10000;  // the decoder's own depth limit applies to its input, not here
  (void)boost::json::parse(text, ec, {}, po);
  if (ec) std::abort();  // the decoder produced invalid JSON
}

struct Out {
  std::vector<std::string> lines;
  bool ok = false;
  ctsqs::SkipReason skipped{};
};

inline void keep(Out& o, ctsqs::Event& e) {
  if (!e.record.empty()) check_json(e.record);
  check_json("{" + e.columns + "}");
  o.lines.push_back(e.record + "\n" + e.columns + "\n" + e.event_source + "|" + e.event_type);
}

/// Decodes `in` whole and streamed in chunks of `chunk` bytes; aborts on any disagreement.
inline void check_decoder(std::string_view in, const ctsqs::DecoderOptions& opt, std::size_t chunk) {
  const std::size_t size = in.size();
  Out whole;
  ctsqs::CloudTrailDecoder a(opt);
  ctsqs::Diagnostics d1;
  auto r1 = a.decode_buffer("fuzz.json", in, [&](ctsqs::Event& e) { keep(whole, e); }, d1);
  whole.ok = static_cast<bool>(r1);
  if (r1) whole.skipped = r1->skipped;
  else if (d1.message.rfind("fuzz.json: ", 0) != 0) std::abort();  // errors name the object

  // Streaming in chunks whose size comes from the input: gathering gzip (the default) and
  // pure zlib streaming.
  for (std::size_t gather : {opt.gather_bytes, std::size_t{0}}) {
    ctsqs::DecoderOptions o = opt;
    o.gather_bytes = gather;
    Out streamed;
    ctsqs::CloudTrailDecoder b(o);
    ctsqs::Diagnostics d2;
    b.begin("fuzz.json");
    bool ok = true;
    for (std::size_t i = 0; i < size && ok; i += chunk)
      ok = static_cast<bool>(b.feed(in.substr(i, chunk), [&](ctsqs::Event& e) { keep(streamed, e); }, d2));
    if (ok) {
      auto r2 = b.finish([&](ctsqs::Event& e) { keep(streamed, e); }, d2);
      streamed.ok = static_cast<bool>(r2);
      if (r2) streamed.skipped = r2->skipped;
    }
    if (b.summary().events != streamed.lines.size()) std::abort();
    if (whole.ok != streamed.ok) std::abort();
    if (whole.ok && (whole.lines != streamed.lines || whole.skipped != streamed.skipped)) std::abort();
    // Before an error both emitted a prefix of the same sequence.
    const auto& shorter = whole.lines.size() < streamed.lines.size() ? whole.lines : streamed.lines;
    const auto& longer = whole.lines.size() < streamed.lines.size() ? streamed.lines : whole.lines;
    for (std::size_t i = 0; i < shorter.size(); ++i)
      if (shorter[i] != longer[i]) std::abort();
  }
}

}  // namespace ctsqs::fuzz
