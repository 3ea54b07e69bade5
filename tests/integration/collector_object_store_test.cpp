// Integration: S3ObjectStore resumes a GetObject broken mid-body with Range + If-Match, and fails
// the object retryably when S3 answers 412 (the object changed) or 200 with another ETag (a
// server that ignored the Range; with the same ETag the prefix read is skipped), over a real loopback socket.
#include "ctsqs/aws/client.hpp"
#include "ctsqs/collector/collector.hpp"
#include "ctsqs/collector/object_store.hpp"

#include "catch.hpp"
#include "unit/catch_result.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <mutex>
#include <thread>

using namespace ctsqs;
using namespace std::chrono_literals;
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

const std::string kBody = [] {
  std::string s;
  for (int i = 0; i < 300000; ++i) s += static_cast<char>('a' + i % 26);
  return s;
}();

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

// Serves two GETs: the first sends half of kBody (more than the client's 64 KiB stream chunk)
// under a full Content-Length and closes; the second answers `second_status` (206 with
// the rest from the requested Range, 200 with the whole body and ETag `second_etag` as from a
// server that ignores Range, or 412). Records the request heads.
class BreakingS3 {
 public:
  explicit BreakingS3(int second_status, std::string second_etag = "etag-1")
      : second_status_(second_status), second_etag_(std::move(second_etag)), acceptor_(io_, {tcp::v4(), 0}) {
    acceptor_.set_option(asio::socket_base::reuse_address(true));
    port_ = acceptor_.local_endpoint().port();
    thread_ = std::thread([this] { serve(); });
  }
  ~BreakingS3() {
    // Wake a pending accept with a connection of our own, then let the thread end.
    stop_ = true;
    boost::system::error_code ec;
    asio::io_context io;
    tcp::socket wake(io);
    wake.connect({asio::ip::address_v4::loopback(), port_}, ec);
    wake.close(ec);
    if (thread_.joinable()) thread_.join();
  }
  unsigned short port() const { return port_; }
  std::vector<std::string> heads() const {
    std::lock_guard lk(mu_);
    return heads_;
  }

 private:
  void serve() {
    for (int n = 0; n < 2; ++n) {
      boost::system::error_code ec;
      tcp::socket s(io_);
      acceptor_.accept(s, ec);
      if (ec || stop_) return;
      asio::streambuf buf;
      asio::read_until(s, buf, "\r\n\r\n", ec);
      if (ec) return;
      std::string head(asio::buffers_begin(buf.data()), asio::buffers_end(buf.data()));
      {
        std::lock_guard lk(mu_);
        heads_.push_back(head);
      }
      std::string out;
      const std::size_t half = kBody.size() / 2;
      std::size_t from = 0;
      if (auto at = lower(head).find("\r\nrange: bytes="); at != std::string::npos)
        from = std::stoul(head.substr(at + 15));
      if (n == 0) {
        out = "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(kBody.size()) +
              "\r\nETag: \"etag-1\"\r\nConnection: close\r\n\r\n" + kBody.substr(0, half);
      } else if (second_status_ == 206) {
        from = std::min(from, kBody.size());
        out = "HTTP/1.1 206 Partial Content\r\nContent-Length: " + std::to_string(kBody.size() - from) +
              "\r\nContent-Range: bytes " + std::to_string(from) + "-" + std::to_string(kBody.size() - 1) + "/" +
              std::to_string(kBody.size()) + "\r\nETag: \"etag-1\"\r\nConnection: close\r\n\r\n" + kBody.substr(from);
      } else if (second_status_ == 200) {
        out = "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(kBody.size()) + "\r\nETag: \"" + second_etag_ +
              "\"\r\nConnection: close\r\n\r\n" + kBody;
      } else {
        const std::string xml =
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>PreconditionFailed</Code><Message>At least one "
            "of the pre-conditions you specified did not hold</Message><RequestId>R1</RequestId></Error>";
        out = "HTTP/1.1 412 Precondition Failed\r\nContent-Type: application/xml\r\nContent-Length: " +
              std::to_string(xml.size()) + "\r\nConnection: close\r\n\r\n" + xml;
      }
      asio::write(s, asio::buffer(out), ec);
      s.shutdown(tcp::socket::shutdown_both, ec);
      s.close(ec);
    }
  }

  int second_status_;
  std::string second_etag_;
  std::atomic<bool> stop_{false};
  asio::io_context io_;
  tcp::acceptor acceptor_;
  unsigned short port_ = 0;
  std::thread thread_;
  mutable std::mutex mu_;
  std::vector<std::string> heads_;
};

struct Fetched {
  bool done = false;
  result<void> r;
  std::string bytes;
  Diagnostics diag;
};

asio::awaitable<void> fetch(S3ObjectStore* store, ObjectRef obj, Fetched* out) {
  std::string* bytes = &out->bytes;
  ObjectChunkHandler h = [bytes](std::span<const std::byte> c) -> asio::awaitable<result<void>> {
    bytes->append(reinterpret_cast<const char*>(c.data()), c.size());
    co_return result<void>{};
  };
  out->r = co_await store->async_fetch(obj, std::move(h), out->diag);
  out->done = true;
}

Fetched run_fetch(unsigned short port, std::string etag, std::string version_id = "") {
  asio::io_context ioc;
  AwsClientOptions ao;
  ao.credentials.access_key_id = "test";
  ao.credentials.secret_access_key = "test";
  ao.endpoints.region = "us-east-1";
  ao.endpoints.s3_endpoint = "http://127.0.0.1:" + std::to_string(port);
  ao.endpoints.s3_force_path_style = true;
  ao.env = environment_from({});
  // Chunks smaller than the half that BreakingS3 sends before it breaks the connection: some
  // bytes are handed on before the break, so there is something to resume after.
  ao.http.stream_chunk_bytes = 64 * 1024;
  auto client_made = require_create<AwsClient>(ioc.get_executor(), ao);
  AwsClient& client = *client_made;
  S3ObjectStore store(client);
  Fetched f;
  asio::co_spawn(ioc, fetch(&store, ObjectRef{"bucket", "AWSLogs/x.json", "us-east-1", kBody.size(), etag, version_id}, &f),
                 asio::detached);
  ioc.run_for(30s);
  return f;
}

}  // namespace

TEST_CASE("collector: a GetObject broken mid-body resumes with Range and If-Match", "[integration][collector]") {
  BreakingS3 s3(206);
  auto f = run_fetch(s3.port(), "etag-1");
  REQUIRE(f.done);
  INFO(f.diag.message);
  CHECK(f.r.has_value());
  CHECK(f.bytes == kBody);  // the first half once, then the rest: nothing repeated or mixed
  const auto heads = s3.heads();
  REQUIRE(heads.size() == 2);
  CHECK(lower(heads[0]).find("\r\nrange:") == std::string::npos);
  // Pinned from the first request on: the object announced, not a later one under its key.
  CHECK(lower(heads[0]).find("\r\nif-match: \"etag-1\"") != std::string::npos);
  const auto range_at = lower(heads[1]).find("\r\nrange: bytes=");
  REQUIRE(range_at != std::string::npos);
  CHECK(std::stoul(heads[1].substr(range_at + 15)) > 0);  // resumed where the first part ended
  CHECK(lower(heads[1]).find("\r\nif-match: \"etag-1\"") != std::string::npos);
}

TEST_CASE("collector: a resume answered 412 (object changed) fails the object retryably", "[integration][collector]") {
  BreakingS3 s3(412);
  auto f = run_fetch(s3.port(), "etag-1");
  REQUIRE(f.done);
  INFO(f.diag.message);
  REQUIRE_FALSE(f.r.has_value());
  CHECK(f.r.error() == make_error_code(client_errc::io_error));
  CHECK(is_retryable_failure(f.r.error()));  // the message comes back and is redone from the start
  CHECK(f.diag.message.find("s3://bucket/AWSLogs/x.json") != std::string::npos);
  CHECK(f.diag.message.find("412") != std::string::npos);
  // Only bytes of the first response were handed on, nothing of the changed object.
  CHECK_FALSE(f.bytes.empty());
  CHECK(f.bytes.size() <= kBody.size() / 2);
  CHECK(kBody.compare(0, f.bytes.size(), f.bytes) == 0);
}

TEST_CASE("collector: without an ETag a broken GetObject is not resumed but fails retryably",
          "[integration][collector]") {
  BreakingS3 s3(206);
  auto f = run_fetch(s3.port(), "");
  REQUIRE(f.done);
  INFO(f.diag.message);
  REQUIRE_FALSE(f.r.has_value());
  CHECK(is_retryable_failure(f.r.error()));
  CHECK(f.diag.message.find("not resumed") != std::string::npos);
  CHECK(s3.heads().size() == 1);
}

TEST_CASE("collector: a resume answered 200 with the whole object skips what was read, never repeats it",
          "[integration][collector]") {
  BreakingS3 s3(200);
  auto f = run_fetch(s3.port(), "etag-1");
  REQUIRE(f.done);
  INFO(f.diag.message);
  CHECK(f.r.has_value());
  CHECK(f.bytes.size() == kBody.size());
  CHECK(f.bytes == kBody);  // the first half once, then the rest of the whole answer
  REQUIRE(s3.heads().size() == 2);
}

TEST_CASE("collector: a resume answered 200 with another ETag hands nothing on and fails retryably",
          "[integration][collector]") {
  BreakingS3 s3(200, "etag-2");
  auto f = run_fetch(s3.port(), "etag-1");
  REQUIRE(f.done);
  INFO(f.diag.message);
  REQUIRE_FALSE(f.r.has_value());
  CHECK(f.r.error() == make_error_code(client_errc::io_error));
  CHECK(is_retryable_failure(f.r.error()));
  CHECK(f.diag.message.find("s3://bucket/AWSLogs/x.json") != std::string::npos);
  CHECK(f.diag.message.find("HTTP 200 with the whole object") != std::string::npos);
  // Only bytes of the first response were handed on, nothing of the second.
  CHECK_FALSE(f.bytes.empty());
  CHECK(f.bytes.size() <= kBody.size() / 2);
  CHECK(kBody.compare(0, f.bytes.size(), f.bytes) == 0);
}

TEST_CASE("collector: a notification's versionId is sent on every GetObject, and lets a resume go without an ETag",
          "[integration][collector]") {
  BreakingS3 s3(206);
  auto f = run_fetch(s3.port(), "", "v1+/x");
  REQUIRE(f.done);
  INFO(f.diag.message);
  CHECK(f.r.has_value());
  CHECK(f.bytes == kBody);
  const auto heads = s3.heads();
  REQUIRE(heads.size() == 2);
  CHECK(heads[0].rfind("GET /bucket/AWSLogs/x.json?versionId=v1%2B%2Fx HTTP/1.1\r\n", 0) == 0);
  CHECK(heads[1].rfind("GET /bucket/AWSLogs/x.json?versionId=v1%2B%2Fx HTTP/1.1\r\n", 0) == 0);
}
