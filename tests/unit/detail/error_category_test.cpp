// Unit tests for the one error-category template (lib/detail/error_category.hpp) and the six
// project categories built from it: names, messages, and the fallback for undefined values.
#include "../../../lib/detail/error_category.hpp"

#include "ctsqs/aws/error.hpp"
#include "ctsqs/decode/cloudtrail_decoder.hpp"
#include "ctsqs/error.hpp"
#include "ctsqs/integrity/digest_file.hpp"
#include "ctsqs/collector/notification.hpp"
#include "ctsqs/transport/https_client.hpp"

#include "catch.hpp"

#include <string>

namespace {
enum class sample_errc { one = 1, two = 2 };
const char* describe_sample(sample_errc e) noexcept {
  switch (e) {
    case sample_errc::one: return "the first";
    case sample_errc::two: return "the second";
  }
  return nullptr;
}
}  // namespace

TEST_CASE("EnumErrorCategory: name, the enum's messages, the fallback for other values", "[error]") {
  const ctsqs::detail::EnumErrorCategory<sample_errc> cat("sample", describe_sample, "unknown sample error");
  CHECK(cat.name() == std::string("sample"));
  CHECK(cat.message(1) == "the first");
  CHECK(cat.message(2) == "the second");
  CHECK(cat.message(0) == "unknown sample error");
  CHECK(cat.message(77) == "unknown sample error");
  boost::system::error_code ec(2, cat);
  CHECK(ec.message() == "the second");
  CHECK(ec == boost::system::error_code(2, cat));
}

TEST_CASE("the project categories keep their names, messages and fallbacks", "[error]") {
  using namespace ctsqs;
  CHECK(client_category().name() == std::string("ctsqs.client"));
  CHECK(make_error_code(client_errc::sink_closed).message() == "sink closed by its reader");
  CHECK(client_category().message(9999) == "unknown client error");
  CHECK(aws_category().name() == std::string("ctsqs.aws"));
  CHECK(make_error_code(aws_errc::invalid_object_state).message() == "object is archived");
  CHECK(aws_category().message(9999) == "unknown AWS error");
  CHECK(decode_category().name() == std::string("ctsqs.decode"));
  CHECK(make_error_code(decode_errc::unclaimed).message() == "no configured service claims the object");
  CHECK(decode_category().message(9999) == "unknown decode error");
  CHECK(notification_category().name() == std::string("ctsqs.notification"));
  CHECK(make_error_code(notification_errc::refused).message() == "notification refused by an allow-list");
  CHECK(notification_category().message(9999) == "unknown notification error");
  CHECK(integrity::integrity_category().name() == std::string("ctsqs.integrity"));
  CHECK(make_error_code(integrity::integrity_errc::moved).message() == "digest file moved from its original location");
  CHECK(integrity::integrity_category().message(9999) == "integrity error");
  CHECK(transport::transport_category().name() == std::string("ctsqs.transport"));
  CHECK(make_error_code(transport::transport_errc::address_not_allowed).message() ==
        "the host resolved to an address that is not allowed");
  CHECK(transport::transport_category().message(9999) == "unknown transport error");
}
