// The one XML reader (see xml_reader.hpp): element search, entity decoding, strict text elements.
#include "xml_reader.hpp"

#include <cstdint>

namespace ctsqs::detail {
namespace {

/// Finds `<[prefix:]name` followed by '>', '/', or whitespace, starting at `from`.
/// Returns the position of '<' and sets `after` past the tag's '>' and `empty` for `<x/>`.
std::size_t find_open(std::string_view doc, std::string_view name, std::size_t from,
                      std::size_t& after, bool& empty) {
  while (from < doc.size()) {
    std::size_t lt = doc.find('<', from);
    if (lt == std::string_view::npos || lt + 1 >= doc.size()) return std::string_view::npos;
    std::size_t p = lt + 1;
    char c0 = doc[p];
    if (c0 == '/' || c0 == '?' || c0 == '!') {
      if (doc.substr(p, 8) == "![CDATA[") {
        std::size_t end = doc.find("]]>", p);
        if (end == std::string_view::npos) return std::string_view::npos;
        from = end + 3;
      } else if (doc.substr(p, 3) == "!--") {
        std::size_t end = doc.find("-->", p);
        if (end == std::string_view::npos) return std::string_view::npos;
        from = end + 3;
      } else {
        from = p;
      }
      continue;
    }
    std::size_t q = p;
    while (q < doc.size() && is_xml_name_char(doc[q])) ++q;
    const std::string_view tag = xml_local_name(doc.substr(p, q - p));
    std::size_t gt = doc.find('>', q);
    if (gt == std::string_view::npos) return std::string_view::npos;
    if (tag == name && q < doc.size() && (doc[q] == '>' || doc[q] == '/' || doc[q] == ' ' ||
                                          doc[q] == '\t' || doc[q] == '\n' || doc[q] == '\r')) {
      empty = doc[gt - 1] == '/';
      after = gt + 1;
      return lt;
    }
    from = gt + 1;
  }
  return std::string_view::npos;
}

/// Finds the matching close tag of `name` from `from`, counting nested same-name elements.
std::size_t find_close(std::string_view doc, std::string_view name, std::size_t from,
                       std::size_t& close_end) {
  int depth = 1;
  std::size_t pos = from;
  while (pos < doc.size()) {
    std::size_t lt = doc.find('<', pos);
    if (lt == std::string_view::npos || lt + 1 >= doc.size()) return std::string_view::npos;
    if (doc.substr(lt + 1, 8) == "![CDATA[") {
      std::size_t end = doc.find("]]>", lt);
      if (end == std::string_view::npos) return std::string_view::npos;
      pos = end + 3;
      continue;
    }
    bool closing = doc[lt + 1] == '/';
    std::size_t p = lt + (closing ? 2 : 1);
    std::size_t q = p;
    while (q < doc.size() && is_xml_name_char(doc[q])) ++q;
    const std::string_view tag = xml_local_name(doc.substr(p, q - p));
    std::size_t gt = doc.find('>', q);
    if (gt == std::string_view::npos) return std::string_view::npos;
    if (tag == name && !tag.empty()) {
      if (closing) {
        if (--depth == 0) {
          close_end = gt + 1;
          return lt;
        }
      } else if (doc[gt - 1] != '/') {
        ++depth;
      }
    }
    pos = gt + 1;
  }
  return std::string_view::npos;
}

}  // namespace

std::string xml_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    if (text.substr(i, 9) == "<![CDATA[") {
      std::size_t end = text.find("]]>", i + 9);
      if (end == std::string_view::npos) {
        out.append(text.substr(i));
        break;
      }
      out.append(text.substr(i + 9, end - i - 9));
      i = end + 3;
      continue;
    }
    char c = text[i];
    if (c != '&') {
      out += c;
      ++i;
      continue;
    }
    std::size_t semi = text.find(';', i);
    if (semi == std::string_view::npos || semi - i > 12) {
      out += c;
      ++i;
      continue;
    }
    std::string_view ent = text.substr(i + 1, semi - i - 1);
    if (ent == "amp") out += '&';
    else if (ent == "lt") out += '<';
    else if (ent == "gt") out += '>';
    else if (ent == "quot") out += '"';
    else if (ent == "apos") out += '\'';
    else if (auto cp = parse_char_ref(ent)) {
      append_utf8(out, *cp);
    } else {
      out.append(text.substr(i, semi - i + 1));
    }
    i = semi + 1;
  }
  return out;
}

std::optional<std::string_view> xml_element_inner(std::string_view doc, std::string_view name) {
  if (name.empty()) return std::nullopt;
  std::size_t after = 0;
  bool empty = false;
  std::size_t open = find_open(doc, name, 0, after, empty);
  if (open == std::string_view::npos) return std::nullopt;
  if (empty) return doc.substr(after, 0);  // empty, but still a view into `doc`
  std::size_t close_end = 0;
  std::size_t close = find_close(doc, name, after, close_end);
  if (close == std::string_view::npos) return std::nullopt;
  return doc.substr(after, close - after);
}

std::optional<std::string> xml_element_text(std::string_view doc, std::string_view name) {
  auto inner = xml_element_inner(doc, name);
  if (!inner) return std::nullopt;
  return xml_decode(*inner);
}

std::optional<std::string> xml_decode_strict(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '&') {
      out += text[i];
      continue;
    }
    auto semi = text.find(';', i);
    if (semi == std::string_view::npos || semi - i > 10) return std::nullopt;
    auto ent = text.substr(i + 1, semi - i - 1);
    if (ent == "amp") out += '&';
    else if (ent == "lt") out += '<';
    else if (ent == "gt") out += '>';
    else if (ent == "quot") out += '"';
    else if (ent == "apos") out += '\'';
    else if (ent.size() >= 2 && ent[0] == '#') {
      auto cp = parse_char_ref(ent);
      if (!cp) return std::nullopt;
      append_utf8(out, *cp);
    } else {
      return std::nullopt;
    }
    i = semi;
  }
  return out;
}

std::optional<std::string> xml_text_only_element(std::string_view doc, std::string_view name) {
  auto inner = xml_element_inner(doc, name);
  if (!inner || inner->find('<') != std::string_view::npos) return std::nullopt;
  return xml_decode_strict(*inner);
}

}  // namespace ctsqs::detail
