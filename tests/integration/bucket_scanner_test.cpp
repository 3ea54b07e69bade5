// BucketScanner against a scripted S3 on loopback that serves ListObjectsV2 from a model bucket
// two entries a page: continuation pages inside a day, a resume from the high-water key across
// pages (start-after on the first page only), the bucket's region followed once for the whole
// scan, Insights files beside the trail's, digests and non-logs skipped.
#include "ctsqs/backfill/backfill.hpp"

#include "catch.hpp"
#include "unit/catch_result.hpp"
#include "ctsqs/aws/client.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>

#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <thread>

using namespace ctsqs;
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

std::string url_decode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      out += static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else {
      out += s[i] == '+' ? ' ' : s[i];
    }
  }
  return out;
}

/// ListObjectsV2 over `keys`, `page` entries (keys and common prefixes) a page, in region
/// eu-west-1: a request signed for another region gets S3's 301 with x-amz-bucket-region.
class ListingS3 {
 public:
  struct Request {
    std::map<std::string, std::string> query;
  };
  explicit ListingS3(std::set<std::string> keys, std::size_t page = 2)
      : keys_(std::move(keys)), page_(page), acceptor_(io_, {tcp::v4(), 0}) {
    port_ = acceptor_.local_endpoint().port();
    thread_ = std::thread([this] { serve(); });
  }
  ~ListingS3() {
    stop_ = true;
    boost::system::error_code ec;
    asio::io_context io;
    tcp::socket wake(io);
    wake.connect({asio::ip::address_v4::loopback(), port_}, ec);
    wake.close(ec);
    if (thread_.joinable()) thread_.join();
  }
  unsigned short port() const { return port_; }
  int redirects() const { return redirects_; }
  std::vector<Request> requests() const {
    std::lock_guard lk(mu_);
    return requests_;
  }

 private:
  void serve() {
    while (!stop_) {
      boost::system::error_code ec;
      tcp::socket s(io_);
      acceptor_.accept(s, ec);
      if (ec || stop_) return;
      asio::streambuf buf;
      asio::read_until(s, buf, "\r\n\r\n", ec);
      if (ec) continue;
      const std::string head(asio::buffers_begin(buf.data()), asio::buffers_end(buf.data()));
      std::string out = answer(head);
      asio::write(s, asio::buffer(out), ec);
      s.shutdown(tcp::socket::shutdown_both, ec);
    }
  }

  std::string answer(const std::string& head) {
    if (head.find("/eu-west-1/s3/aws4_request") == std::string::npos) {
      ++redirects_;
      const std::string body =
          "<?xml version=\"1.0\"?><Error><Code>PermanentRedirect</Code><Message>The bucket you are attempting to "
          "access must be addressed using the specified endpoint.</Message></Error>";
      return "HTTP/1.1 301 Moved Permanently\r\nx-amz-bucket-region: eu-west-1\r\nContent-Type: application/xml\r\n"
             "Content-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
    }
    Request req;
    const auto target = head.substr(head.find(' ') + 1, head.find(' ', head.find(' ') + 1) - head.find(' ') - 1);
    if (auto q = target.find('?'); q != std::string::npos) {
      std::string_view qs(target);
      qs.remove_prefix(q + 1);
      while (!qs.empty()) {
        auto amp = qs.find('&');
        auto part = qs.substr(0, amp);
        auto eq = part.find('=');
        req.query[std::string(part.substr(0, eq))] = eq == std::string_view::npos ? "" : url_decode(part.substr(eq + 1));
        if (amp == std::string_view::npos) break;
        qs.remove_prefix(amp + 1);
      }
    }
    {
      std::lock_guard lk(mu_);
      requests_.push_back(req);
    }
    const std::string prefix = req.query["prefix"], delimiter = req.query["delimiter"];
    std::string after = req.query["start-after"];
    if (!req.query["continuation-token"].empty()) after = req.query["continuation-token"];
    // Entries in order: keys, and common prefixes for a delimiter.
    std::vector<std::pair<std::string, bool>> entries;  // (name, is_prefix)
    std::set<std::string> cps;
    for (const auto& k : keys_) {
      if (!k.starts_with(prefix)) continue;
      if (!delimiter.empty()) {
        auto d = k.find(delimiter, prefix.size());
        if (d != std::string::npos) {
          const auto cp = k.substr(0, d + 1);
          if (cps.insert(cp).second) entries.push_back({cp, true});
          continue;
        }
      }
      entries.push_back({k, false});
    }
    std::sort(entries.begin(), entries.end());
    std::string xml = "<?xml version=\"1.0\"?><ListBucketResult><Name>trail</Name><Prefix>" + prefix + "</Prefix>";
    std::size_t n = 0;
    std::string last;
    bool truncated = false;
    for (const auto& [name, is_prefix] : entries) {
      if (!after.empty() && name <= after) continue;
      if (n == page_) {
        truncated = true;
        break;
      }
      ++n;
      last = name;
      if (is_prefix)
        xml += "<CommonPrefixes><Prefix>" + name + "</Prefix></CommonPrefixes>";
      else
        xml += "<Contents><Key>" + name + "</Key><Size>100</Size><ETag>\"e\"</ETag></Contents>";
    }
    xml += "<KeyCount>" + std::to_string(n) + "</KeyCount><IsTruncated>" + (truncated ? "true" : "false") +
           "</IsTruncated>";
    if (truncated) xml += "<NextContinuationToken>" + last + "</NextContinuationToken>";
    xml += "</ListBucketResult>";
    return "HTTP/1.1 200 OK\r\nContent-Type: application/xml\r\nContent-Length: " + std::to_string(xml.size()) +
           "\r\nConnection: close\r\n\r\n" + xml;
  }

  std::set<std::string> keys_;
  std::size_t page_;
  std::atomic<bool> stop_{false};
  std::atomic<int> redirects_{0};
  asio::io_context io_;
  tcp::acceptor acceptor_;
  unsigned short port_ = 0;
  std::thread thread_;
  mutable std::mutex mu_;
  std::vector<Request> requests_;
};

SysTime t(const char* text) {
  Diagnostics d;
  return *parse_backfill_time(text, "t", d);
}

const std::string ct_day = "p/AWSLogs/111122223333/CloudTrail/us-east-1/2026/09/01/";
const std::string in_day = "p/AWSLogs/111122223333/CloudTrail-Insight/us-east-1/2026/09/01/";

std::string ct_key(int hour) {
  char buf[160];
  std::snprintf(buf, sizeof buf, "%s111122223333_CloudTrail_us-east-1_20260901T%02d00Z_x.json.gz", ct_day.c_str(), hour);
  return buf;
}

struct Scan {
  std::map<std::string, std::vector<std::string>> days;  // day prefix -> keys handed on
  ctsqs::result<ScanTotals> res = make_error_code(client_errc::cancelled);
  Diagnostics diag;
};

Scan scan(unsigned short port, const BackfillState* state) {
  asio::io_context ioc;
  AwsClientOptions ao;
  ao.credentials.access_key_id = "test";
  ao.credentials.secret_access_key = "test";
  ao.endpoints.region = "us-east-1";  // the bucket is in eu-west-1: one redirect
  ao.endpoints.s3_endpoint = "http://127.0.0.1:" + std::to_string(port);
  ao.endpoints.s3_force_path_style = true;
  auto client_made = require_create<AwsClient>(ioc.get_executor(), ao);
  AwsClient& client = *client_made;
  BackfillRange range;
  range.bucket = "trail";
  range.prefix = "p/";
  range.since = t("2026-09-01");
  range.until = t("2026-09-02");
  BucketScannerOptions so;
  so.force_path_style = true;
  so.list_concurrency = 2;
  so.log = [](std::string_view) {};
  BucketScanner scanner(client, range, so, state);
  Scan out;
  asio::co_spawn(ioc, [&]() -> asio::awaitable<void> {
    out.res = co_await scanner.async_scan(
        [&out](std::string day, std::vector<ListedLog> logs) -> asio::awaitable<bool> {
          auto& v = out.days[day];
          for (auto& l : logs) v.push_back(l.object.key);
          co_return true;
        },
        out.diag);
  }, asio::detached);
  ioc.run_for(std::chrono::seconds(60));
  return out;
}

}  // namespace

TEST_CASE("bucket scanner: pages, resume from the high water, one redirect, Insights", "[backfill]") {
  std::set<std::string> keys;
  for (int h = 0; h < 7; ++h) keys.insert(ct_key(h));
  keys.insert(ct_key(23));
  keys.insert(ct_day + "readme.txt");
  const std::string insight = in_day + "111122223333_CloudTrail-Insight_us-east-1_20260901T0300Z_i.json.gz";
  keys.insert(insight);
  keys.insert("p/AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2026/09/01/"
              "111122223333_CloudTrail-Digest_us-east-1_t_us-east-1_20260901T010000Z.json.gz");
  keys.insert("p/AWSLogs/111122223333/CloudTrail/us-east-1/2026/08/31/"
              "111122223333_CloudTrail_us-east-1_20260831T0100Z_x.json.gz");  // outside the range

  SECTION("a whole day over several pages, Insights beside it, one redirect") {
    ListingS3 s3(keys);
    auto r = scan(s3.port(), nullptr);
    INFO(r.diag.message);
    REQUIRE(r.res);
    std::vector<std::string> want;
    for (int h = 0; h < 7; ++h) want.push_back(ct_key(h));
    want.push_back(ct_key(23));
    CHECK(r.days[ct_day] == want);  // 9 entries: five pages of two
    CHECK(r.days[in_day] == std::vector<std::string>{insight});
    CHECK(r.days.size() == 2);  // no digest day, no 08/31
    CHECK(r.res->not_logs == 1);
    CHECK(s3.redirects() == 1);  // followed once, for every listing after it
    int day_pages = 0;
    for (auto& q : s3.requests())
      if (q.query["prefix"] == ct_day) ++day_pages;
    CHECK(day_pages == 5);
  }
  SECTION("a resume lists the day from its high-water key, across pages") {
    BackfillState state;
    std::vector<std::string> all;
    for (int h = 0; h < 7; ++h) all.push_back(ct_key(h));
    all.push_back(ct_key(23));
    state.day_listed(ct_day, all);
    state.mark_done(ct_day, all[0]);
    state.mark_done(ct_day, all[1]);
    state.mark_done(ct_day, all[2]);
    state.mark_done(ct_day, all[4]);  // above the high water: done out of order
    REQUIRE(state.high_water(ct_day) == all[2]);
    ListingS3 s3(keys);
    auto r = scan(s3.port(), &state);
    INFO(r.diag.message);
    REQUIRE(r.res);
    CHECK(r.days[ct_day] == std::vector<std::string>{all[3], all[5], all[6], all[7]});
    CHECK(r.res->already_done == 1);
    std::vector<ListingS3::Request> day_requests;
    for (auto& q : s3.requests())
      if (q.query["prefix"] == ct_day) day_requests.push_back(q);
    REQUIRE(day_requests.size() == 3);  // 4 logs and the readme after the high water: three pages
    CHECK(day_requests[0].query["start-after"] == all[2]);
    for (std::size_t i = 1; i < day_requests.size(); ++i) {
      CHECK(day_requests[i].query.count("start-after") == 0);
      CHECK(!day_requests[i].query["continuation-token"].empty());
    }
    CHECK(s3.redirects() == 1);
  }
}
