// A fast local S3 + SQS for benchmarks: the C++ twin of bench/fast_aws.py, same command line and
// same answers, at a fraction of its CPU. Not a test peer: no SigV4 check, no faults.
//
// On a 2-core machine the benchmark's server shares the cores with the collector it serves, so
// every CPU second it spends is taken from the run being measured. fast_aws.py spends about
// 0.07 CPU s per drain of issue 22's corpus (Python parsing each request, a copy of each
// object); this one sends each object with sendfile(2) from a memfd (no copy on the sending
// side) and parses requests with Beast on one thread. bench/collector_bench.sh prints the
// server's CPU beside each run.
//
// usage: bench_fast_aws [--root DIR] --bucket NAME --port-file FILE [--copies N]
//                       [--cloudtrail-keys FILE]
//   Serves, from memory, the files under DIR as one bucket (path-style GetObject and HeadObject
//   with ETag and the object's user metadata, PutObject (aws-chunked bodies too) keeping the
//   x-amz-meta-* headers, ListObjectsV2 with prefix/delimiter/start-after/continuation-token/
//   max-keys, GetBucketLocation), CloudTrail ListPublicKeys answered from FILE (the test gate's
//   GATE_CLOUDTRAIL_KEYS format, read at each call: tests/peers/make-trail.mjs --keys-file
//   writes it), and one SQS queue (AWS JSON 1.0: ReceiveMessage, DeleteMessageBatch,
//   ChangeMessageVisibilityBatch, GetQueueAttributes) holding one S3 event notification per
//   object. A ReceiveMessage with WaitTimeSeconds waits while messages are out and none is
//   visible, as a long poll does. POST /__reset refills the queue. --copies N serves each file
//   N times under N keys (the 16-character id of a CloudTrail file name made distinct per copy).
//   Writes the port to FILE (atomically) once listening.
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>

#include "ctsqs/aws/sigv4/canonical_request.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <ctime>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <list>
#include <map>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include <sys/mman.h>
#include <sys/sendfile.h>
#include <unistd.h>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;
using tcp = asio::ip::tcp;
using asio::awaitable;
using asio::use_awaitable;

namespace {

struct Object {
  int fd = -1;               // memfd holding the bytes (shared by the copies of one file)
  std::uint64_t size = 0;
  std::string etag;          // hex MD5
  std::vector<std::pair<std::string, std::string>> meta;  // x-amz-meta-* headers of a PutObject
};

int memfd_with(const std::string& name, std::string_view data) {
  const int fd = ::memfd_create(name.c_str(), MFD_CLOEXEC);
  if (fd < 0 || ::write(fd, data.data(), data.size()) != static_cast<ssize_t>(data.size()))
    throw std::runtime_error("fast_aws: cannot keep " + name + " in memory");
  return fd;
}

// The payload of an aws-chunked body: "<hex size>[;chunk-signature=...]\r\n<bytes>\r\n"...,
// up to the chunk of size 0 (trailers after it are ignored).
std::string aws_unchunk(std::string_view in) {
  std::string out;
  std::size_t pos = 0;
  while (pos < in.size()) {
    const auto eol = in.find("\r\n", pos);
    if (eol == std::string_view::npos) break;
    const std::string size_text(in.substr(pos, std::min(in.find(';', pos), eol) - pos));
    const std::size_t n = std::stoul(size_text, nullptr, 16);
    if (n == 0) break;
    out.append(in.substr(eol + 2, n));
    pos = eol + 2 + n + 2;
  }
  return out;
}

// Epoch seconds of "YYYY-MM-DDTHH:MM:SS[.fff]Z" (what the keys file holds), or -1.
double iso_seconds(std::string_view s) {
  std::tm tm{};
  if (s.size() < 19 || std::sscanf(std::string(s).c_str(), "%4d-%2d-%2dT%2d:%2d:%2d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                                   &tm.tm_hour, &tm.tm_min, &tm.tm_sec) != 6)
    return -1;
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return static_cast<double>(::timegm(&tm));
}

struct Message {
  std::string id, body, md5;
  unsigned count = 0;
};

std::string md5_hex(std::string_view data) {
  unsigned char d[EVP_MAX_MD_SIZE];
  unsigned n = 0;
  EVP_Digest(data.data(), data.size(), d, &n, EVP_md5(), nullptr);
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned i = 0; i < n; ++i) {
    out += hex[d[i] >> 4];
    out += hex[d[i] & 15];
  }
  return out;
}

// Python's urllib.parse.quote(s) (safe "/"): RFC 3986's unreserved characters and "/" stay.
std::string quote(std::string_view s) { return ctsqs::sigv4::uri_encode(s, false); }

std::string unquote(std::string_view s, bool plus_is_space) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out += static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else if (plus_is_space && s[i] == '+') {
      out += ' ';
    } else {
      out += s[i];
    }
  }
  return out;
}

std::string xml_escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '&')
      out += "&amp;";
    else if (c == '<')
      out += "&lt;";
    else if (c == '>')
      out += "&gt;";
    else
      out += c;
  }
  return out;
}

// The key of copy `c` of `key` (fast_aws.py's copy_key).
std::string copy_key(const std::string& key, int c) {
  if (c == 0) return key;
  static const std::regex id(R"(_([A-Za-z0-9]{16})(\.json(\.gz)?)$)");
  std::smatch m;
  if (!std::regex_search(key, m, id)) return key + ".copy" + std::to_string(c);
  const std::string tag = "c" + std::to_string(c);
  return key.substr(0, m.position(1)) + m.str(1).substr(0, 16 - tag.size()) + tag + key.substr(m.position(1) + 16);
}

class Server {
 public:
  Server(asio::io_context& io, std::string bucket, std::string keys_file)
      : io_(io), bucket_(std::move(bucket)), keys_file_(std::move(keys_file)) {}

  void load(const std::filesystem::path& root, int copies) {
    if (root.empty()) return fill();
    for (const auto& e : std::filesystem::recursive_directory_iterator(root)) {
      if (!e.is_regular_file()) continue;
      const auto key = std::filesystem::relative(e.path(), root).generic_string();
      std::ifstream in(e.path(), std::ios::binary);
      std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      Object o;
      o.fd = memfd_with(key, data);
      o.size = data.size();
      o.etag = md5_hex(data);
      for (int c = 0; c < copies; ++c) objects_[copy_key(key, c)] = o;
    }
    fill();
  }

  void fill() {
    queue_.clear();
    visible_.clear();
    inflight_.clear();
    std::size_t i = 0;
    for (const auto& [key, o] : objects_) {
      json::object obj{{"key", quote(key)}, {"size", o.size}, {"eTag", o.etag}};
      json::object rec{{"eventVersion", "2.1"},
                       {"eventSource", "aws:s3"},
                       {"awsRegion", "us-east-1"},
                       {"eventTime", "2024-03-01T00:00:00.000Z"},
                       {"eventName", "ObjectCreated:Put"},
                       {"s3", json::object{{"s3SchemaVersion", "1.0"},
                                           {"bucket", json::object{{"name", bucket_}, {"arn", "arn:aws:s3:::" + bucket_}}},
                                           {"object", std::move(obj)}}}};
      char mid[16];
      std::snprintf(mid, sizeof mid, "m%06zu", i++);
      Message m;
      m.id = mid;
      m.body = json::serialize(json::object{{"Records", json::array{std::move(rec)}}});
      m.md5 = md5_hex(m.body);
      queue_[m.id] = std::move(m);
      visible_.push_back(mid);
    }
    notify();
  }

  awaitable<void> serve(tcp::socket sock) {
    sock.set_option(tcp::no_delay(true));
    beast::flat_buffer buf;
    for (;;) {
      http::request_parser<http::string_body> p;
      p.body_limit(64 << 20);
      auto [hec, hn] = co_await http::async_read_header(sock, buf, p, asio::as_tuple(use_awaitable));
      if (hec) co_return;
      if (beast::iequals(p.get()[http::field::expect], "100-continue")) {
        static const std::string go_on = "HTTP/1.1 100 Continue\r\n\r\n";
        auto [cec, cn] = co_await asio::async_write(sock, asio::buffer(go_on), asio::as_tuple(use_awaitable));
        if (cec) co_return;
      }
      auto [ec, n] = co_await http::async_read(sock, buf, p, asio::as_tuple(use_awaitable));
      if (ec) co_return;
      auto req = p.release();
      if (!co_await handle(sock, req)) co_return;
      if (!req.keep_alive()) co_return;
    }
  }

 private:
  // Writes a whole response with a body from memory.
  static awaitable<bool> send(tcp::socket& sock, const http::request<http::string_body>& req, unsigned status,
                              std::string body, std::string ctype, std::string etag) {
    http::response<http::string_body> res{static_cast<http::status>(status), req.version()};
    res.set(http::field::content_type, ctype);
    if (!etag.empty()) res.set(http::field::etag, "\"" + etag + "\"");
    res.keep_alive(req.keep_alive());
    res.body() = std::move(body);
    res.prepare_payload();
    auto [ec, n] = co_await http::async_write(sock, res, asio::as_tuple(use_awaitable));
    co_return !ec;
  }

  // The object: the header, then (not for HEAD) the bytes straight from the memfd with sendfile(2).
  static awaitable<bool> send_object(tcp::socket& sock, const http::request<http::string_body>& req, const Object& o) {
    std::string head = "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: " +
                       std::to_string(o.size) + "\r\nETag: \"" + o.etag + "\"\r\n";
    for (const auto& [k, v] : o.meta) head += k + ": " + v + "\r\n";
    head += std::string(req.keep_alive() ? "" : "Connection: close\r\n") + "\r\n";
    auto [ec, n] = co_await asio::async_write(sock, asio::buffer(head), asio::as_tuple(use_awaitable));
    if (ec) co_return false;
    if (req.method() == http::verb::head) co_return true;
    sock.native_non_blocking(true);
    off_t off = 0;
    while (static_cast<std::uint64_t>(off) < o.size) {
      const ssize_t w = ::sendfile(sock.native_handle(), o.fd, &off, o.size - static_cast<std::uint64_t>(off));
      if (w > 0) continue;
      if (w < 0 && (errno == EAGAIN || errno == EINTR)) {
        auto [wec] = co_await sock.async_wait(tcp::socket::wait_write, asio::as_tuple(use_awaitable));
        if (wec) co_return false;
        continue;
      }
      co_return false;
    }
    co_return true;
  }

  struct Reply {
    unsigned status = 200;
    std::string body;
    std::string ctype = "application/xml";
    const Object* object = nullptr;  // GetObject, HeadObject: sent from its memfd
    std::string etag;                // PutObject's answer
  };

  awaitable<bool> handle(tcp::socket& sock, const http::request<http::string_body>& req) {
    const std::string_view amz_target = req["X-Amz-Target"];
    if (req.method() == http::verb::post && amz_target.ends_with(".ReceiveMessage")) {
      // A long poll while messages are out: it ends when one comes back or none is out.
      double wait = 0;
      boost::system::error_code jec;
      auto v = json::parse(req.body(), jec);
      if (!jec && v.is_object())
        if (auto* w = v.as_object().if_contains("WaitTimeSeconds"))
          wait = w->is_int64() ? double(w->as_int64()) : w->is_double() ? w->as_double() : 0;
      const auto until =
          std::chrono::steady_clock::now() + std::chrono::milliseconds(static_cast<long>(std::min(wait, 20.0) * 1000));
      while (visible_.empty() && !inflight_.empty() && std::chrono::steady_clock::now() < until) {
        asio::steady_timer t(io_, until);
        waiters_.push_back(&t);
        auto it = std::prev(waiters_.end());
        co_await t.async_wait(asio::as_tuple(use_awaitable));
        waiters_.erase(it);
      }
    }
    Reply r = answer(req);
    if (r.object) co_return co_await send_object(sock, req, *r.object);
    co_return co_await send(sock, req, r.status, std::move(r.body), r.ctype, r.etag);
  }

  Reply answer(const http::request<http::string_body>& req) {
    const std::string target(req.target());
    const auto qpos = target.find('?');
    const std::string path = target.substr(0, qpos);
    std::map<std::string, std::string> q;
    if (qpos != std::string::npos) {
      std::string_view rest = std::string_view(target).substr(qpos + 1);
      while (!rest.empty()) {
        const auto amp = rest.find('&');
        const auto part = rest.substr(0, amp);
        const auto eq = part.find('=');
        q.emplace(unquote(part.substr(0, eq), true), eq == std::string_view::npos ? "" : unquote(part.substr(eq + 1), true));
        rest = amp == std::string_view::npos ? std::string_view{} : rest.substr(amp + 1);
      }
    }
    if (req.method() == http::verb::put) {
      // PutObject: path-style /bucket/key, the body (aws-chunked or not) and its x-amz-meta-*.
      std::string_view rest = std::string_view(path).substr(path.starts_with('/') ? 1 : 0);
      const auto slash = rest.find('/');
      if (rest.substr(0, slash) != bucket_ || slash == std::string_view::npos)
        return Reply{404, "<Error><Code>NoSuchBucket</Code></Error>"};
      const std::string key = unquote(rest.substr(slash + 1), false);
      const bool chunked = req[http::field::content_encoding].find("aws-chunked") != std::string_view::npos ||
                           req["x-amz-content-sha256"].starts_with("STREAMING-");
      const std::string data = chunked ? aws_unchunk(req.body()) : req.body();
      Object o;
      o.fd = memfd_with(key, data);
      o.size = data.size();
      o.etag = md5_hex(data);
      for (const auto& f : req) {
        std::string name(f.name_string());
        for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        if (name.starts_with("x-amz-meta-")) o.meta.emplace_back(name, std::string(f.value()));
      }
      if (auto it = objects_.find(key); it != objects_.end() && it->second.fd >= 0) {
        bool shared = false;  // the copies of a --root file share one memfd
        for (const auto& [k, other] : objects_) shared = shared || (k != key && other.fd == it->second.fd);
        if (!shared) ::close(it->second.fd);
      }
      const std::string etag = o.etag;
      objects_[key] = std::move(o);
      Reply r{200, ""};
      r.etag = etag;
      return r;
    }
    if (req.method() == http::verb::get || req.method() == http::verb::head) {
      std::string_view rest = std::string_view(path).substr(path.starts_with('/') ? 1 : 0);
      const auto slash = rest.find('/');
      if (rest.substr(0, slash) != bucket_)
        return Reply{404, "<Error><Code>NoSuchBucket</Code></Error>"};
      if (slash == std::string_view::npos || slash + 1 == rest.size()) {
        if (q.count("location"))
          return Reply{200, R"(<?xml version="1.0" encoding="UTF-8"?><LocationConstraint/>)"};
        return Reply{200, list(q)};
      }
      const auto it = objects_.find(unquote(rest.substr(slash + 1), false));
      if (it == objects_.end()) return Reply{404, "<Error><Code>NoSuchKey</Code></Error>"};
      return Reply{200, {}, {}, &it->second};
    }
    if (req.method() != http::verb::post) return Reply{405, ""};
    if (path == "/__reset") {
      fill();
      return Reply{200, "{}", "application/json"};
    }
    json::object in;
    if (!req.body().empty()) {
      boost::system::error_code jec;
      auto v = json::parse(req.body(), jec);
      if (!jec && v.is_object()) in = std::move(v.as_object());
    }
    const std::string_view amz_target = req["X-Amz-Target"];
    const auto dot = amz_target.rfind('.');
    const std::string op(dot == std::string_view::npos ? amz_target : amz_target.substr(dot + 1));
    json::object out;
    if (op == "ReceiveMessage") {
      std::int64_t max = 1;
      if (auto* m = in.if_contains("MaxNumberOfMessages"); m && m->is_int64()) max = m->as_int64();
      json::array msgs;
      const auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                              std::chrono::system_clock::now().time_since_epoch()).count();
      for (std::int64_t i = 0; i < std::min<std::int64_t>(max, 10) && !visible_.empty(); ++i) {
        const std::string mid = visible_.front();
        visible_.pop_front();
        auto& m = queue_[mid];
        ++m.count;
        const std::string rh = mid + "-" + std::to_string(m.count);
        inflight_[rh] = mid;
        msgs.push_back(json::object{{"MessageId", mid},
                                    {"ReceiptHandle", rh},
                                    {"MD5OfBody", m.md5},
                                    {"Body", m.body},
                                    {"Attributes", json::object{{"ApproximateReceiveCount", std::to_string(m.count)},
                                                                {"SentTimestamp", std::to_string(now_ms)}}}});
      }
      if (!msgs.empty()) out["Messages"] = std::move(msgs);
    } else if (op == "DeleteMessageBatch" || op == "ChangeMessageVisibilityBatch") {
      json::array ok;
      if (auto* es = in.if_contains("Entries"); es && es->is_array())
        for (const auto& e : es->as_array()) {
          if (!e.is_object()) continue;
          const auto& eo = e.as_object();
          const auto* rhv = eo.if_contains("ReceiptHandle");
          const std::string rh = rhv && rhv->is_string() ? std::string(rhv->as_string()) : "";
          const auto it = inflight_.find(rh);
          if (op == "DeleteMessageBatch") {
            if (it != inflight_.end()) {
              queue_.erase(it->second);
              inflight_.erase(it);
            }
          } else {
            const auto* vt = eo.if_contains("VisibilityTimeout");
            const bool zero = vt && ((vt->is_int64() && vt->as_int64() == 0) || (vt->is_string() && vt->as_string() == "0"));
            if (zero && it != inflight_.end()) {
              visible_.push_back(it->second);
              inflight_.erase(it);
            }
          }
          if (const auto* id = eo.if_contains("Id")) ok.push_back(json::object{{"Id", *id}});
        }
      out["Successful"] = std::move(ok);
      out["Failed"] = json::array{};
      notify();
    } else if (op == "ListPublicKeys") {
      // The keys whose validity overlaps [StartTime, EndTime] (epoch seconds or ISO text).
      auto when = [&](const char* k, double dflt) {
        const auto* v = in.if_contains(k);
        if (!v) return dflt;
        if (v->is_number()) return v->to_number<double>();
        if (v->is_string()) return iso_seconds(v->as_string());
        return dflt;
      };
      const double from = when("StartTime", 0), to = when("EndTime", 1e12);
      json::array list;
      std::ifstream f(keys_file_);
      std::string text((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
      boost::system::error_code jec;
      auto keys = json::parse(text, jec);
      if (!jec && keys.is_array())
        for (const auto& k : keys.as_array()) {
          if (!k.is_object()) continue;
          const auto& ko = k.as_object();
          auto text_of = [&](const char* name) {
            const auto* v = ko.if_contains(name);
            return v && v->is_string() ? std::string(v->as_string()) : std::string();
          };
          const double vf = iso_seconds(text_of("ValidityStartTime")), vt = iso_seconds(text_of("ValidityEndTime"));
          if (vf <= to && vt >= from)
            list.push_back(json::object{{"Value", text_of("Value")},
                                        {"ValidityStartTime", vf},
                                        {"ValidityEndTime", vt},
                                        {"Fingerprint", text_of("Fingerprint")}});
        }
      return Reply{200, json::serialize(json::object{{"PublicKeyList", std::move(list)}}), "application/x-amz-json-1.1"};
    } else if (op == "GetQueueAttributes") {
      out["Attributes"] = json::object{{"ApproximateNumberOfMessages", std::to_string(visible_.size())},
                                       {"ApproximateNumberOfMessagesNotVisible", std::to_string(inflight_.size())},
                                       {"ApproximateNumberOfMessagesDelayed", "0"},
                                       {"VisibilityTimeout", "120"}};
    } else {
      return Reply{400, json::serialize(json::object{{"__type", "InvalidAction"}, {"message", op}}),
                              "application/x-amz-json-1.0"};
    }
    return Reply{200, json::serialize(out), "application/x-amz-json-1.0"};
  }

  std::string list(const std::map<std::string, std::string>& q) const {
    auto get = [&](const char* k, std::string d) {
      auto it = q.find(k);
      return it == q.end() ? d : it->second;
    };
    const std::string prefix = get("prefix", ""), delim = get("delimiter", "");
    const std::string after = q.count("continuation-token") ? q.at("continuation-token") : get("start-after", "");
    const long maxk = std::stol(get("max-keys", "1000"));
    std::vector<std::string> contents, prefixes;
    bool truncated = false;
    std::string last;
    for (const auto& [k, o] : objects_) {
      if (!k.starts_with(prefix) || k <= after) continue;
      if (!delim.empty()) {
        const auto i = k.find(delim, prefix.size());
        if (i != std::string::npos) {
          const std::string cp = k.substr(0, i + delim.size());
          if (cp <= after || (!prefixes.empty() && prefixes.back() == cp)) continue;
          if (static_cast<long>(contents.size() + prefixes.size()) >= maxk) {
            truncated = true;
            break;
          }
          prefixes.push_back(cp);
          last = cp + "\xef\xbf\xbf";  // U+FFFF: after every key under the prefix
          continue;
        }
      }
      if (static_cast<long>(contents.size() + prefixes.size()) >= maxk) {
        truncated = true;
        break;
      }
      contents.push_back(k);
      last = k;
    }
    std::string x = R"(<?xml version="1.0" encoding="UTF-8"?><ListBucketResult><Name>)" + xml_escape(bucket_) +
                    "</Name><Prefix>" + xml_escape(prefix) + "</Prefix><KeyCount>" +
                    std::to_string(contents.size() + prefixes.size()) + "</KeyCount><MaxKeys>" + std::to_string(maxk) +
                    "</MaxKeys><IsTruncated>" + (truncated ? "true" : "false") + "</IsTruncated>";
    if (!delim.empty()) x += "<Delimiter>" + xml_escape(delim) + "</Delimiter>";
    if (truncated) x += "<NextContinuationToken>" + xml_escape(last) + "</NextContinuationToken>";
    for (const auto& k : contents) {
      const auto& o = objects_.at(k);
      x += "<Contents><Key>" + xml_escape(k) + "</Key><LastModified>2024-03-01T01:00:00.000Z</LastModified><ETag>&quot;" +
           o.etag + "&quot;</ETag><Size>" + std::to_string(o.size) + "</Size><StorageClass>STANDARD</StorageClass></Contents>";
    }
    for (const auto& p : prefixes) x += "<CommonPrefixes><Prefix>" + xml_escape(p) + "</Prefix></CommonPrefixes>";
    return x + "</ListBucketResult>";
  }

  void notify() {
    for (auto* t : waiters_) t->cancel();
  }

  asio::io_context& io_;
  std::string bucket_;
  std::string keys_file_;  // --cloudtrail-keys
  std::map<std::string, Object> objects_;  // sorted: ListObjectsV2 order
  std::map<std::string, Message> queue_;
  std::deque<std::string> visible_;
  std::map<std::string, std::string> inflight_;  // receipt handle -> message id
  std::list<asio::steady_timer*> waiters_;        // long polls waiting for a change
};

awaitable<void> accept_loop(tcp::acceptor& acc, Server& srv) {
  for (;;) {
    auto [ec, sock] = co_await acc.async_accept(asio::as_tuple(use_awaitable));
    if (ec) continue;
    asio::co_spawn(acc.get_executor(), srv.serve(std::move(sock)), asio::detached);
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::string root, bucket, port_file, keys_file;
  int copies = 1;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i];
    if (k == "--root")
      root = argv[i + 1];
    else if (k == "--bucket")
      bucket = argv[i + 1];
    else if (k == "--port-file")
      port_file = argv[i + 1];
    else if (k == "--copies")
      copies = std::max(1, std::atoi(argv[i + 1]));
    else if (k == "--cloudtrail-keys")
      keys_file = argv[i + 1];
    else {
      std::cerr << "fast_aws: unknown argument " << k << "\n";
      return 2;
    }
  }
  if (bucket.empty() || port_file.empty()) {
    std::cerr << "usage: bench_fast_aws [--root DIR] --bucket NAME --port-file FILE [--copies N] [--cloudtrail-keys FILE]\n";
    return 2;
  }
  try {
    asio::io_context io(1);
    Server srv(io, bucket, keys_file);
    srv.load(root, copies);
    tcp::acceptor acc(io);
    acc.open(tcp::v4());
    acc.set_option(tcp::acceptor::reuse_address(true));
    acc.bind({asio::ip::make_address("127.0.0.1"), 0});
    // A deep backlog: a collector opens dozens of connections at once (a dropped SYN waits out
    // TCP's 1 s retransmission, a stall that would be the server's).
    acc.listen(1024);
    {
      std::ofstream(port_file + ".tmp") << acc.local_endpoint().port();
      std::filesystem::rename(port_file + ".tmp", port_file);
    }
    asio::co_spawn(io, accept_loop(acc, srv), asio::detached);
    io.run();
  } catch (const std::exception& e) {
    std::cerr << "fast_aws: " << e.what() << "\n";
    return 1;
  }
}
