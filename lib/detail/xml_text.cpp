// Minimal XML element text extraction for AWS responses (see detail/xml_text.hpp).
#include "ctsqs/detail/xml_text.hpp"

#include <cstdint>

namespace ctsqs::detail {
namespace {

bool is_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-' || c == '.' || c == ':';
}

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
    while (q < doc.size() && is_name_char(doc[q])) ++q;
    std::string_view tag = doc.substr(p, q - p);
    if (auto colon = tag.rfind(':'); colon != std::string_view::npos) tag = tag.substr(colon + 1);
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
    while (q < doc.size() && is_name_char(doc[q])) ++q;
    std::string_view tag = doc.substr(p, q - p);
    if (auto colon = tag.rfind(':'); colon != std::string_view::npos) tag = tag.substr(colon + 1);
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

void append_utf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
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
    else if (ent.size() > 1 && ent[0] == '#') {
      std::uint32_t cp = 0;
      bool hex = ent[1] == 'x' || ent[1] == 'X';
      std::size_t k = hex ? 2 : 1;
      bool ok = k < ent.size();
      for (; k < ent.size() && ok; ++k) {
        char d = ent[k];
        std::uint32_t v;
        if (d >= '0' && d <= '9') v = static_cast<std::uint32_t>(d - '0');
        else if (hex && d >= 'a' && d <= 'f') v = static_cast<std::uint32_t>(d - 'a' + 10);
        else if (hex && d >= 'A' && d <= 'F') v = static_cast<std::uint32_t>(d - 'A' + 10);
        else { ok = false; break; }
        cp = cp * (hex ? 16u : 10u) + v;
        if (cp > 0x10FFFF) ok = false;
      }
      if (ok && !(cp >= 0xD800 && cp <= 0xDFFF)) append_utf8(out, cp);
      else out.append(text.substr(i, semi - i + 1));
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
  if (empty) return std::string_view{};
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

}  // namespace ctsqs::detail
