// Unit tests of S3ObjectStore's pure helper: the region a wrong-region answer names.
#include "ctsqs/object_store.hpp"

#include "catch.hpp"
#include "ctsqs/aws_error.hpp"

using namespace ctsqs;

TEST_CASE("object store: a PermanentRedirect names the bucket's region to follow once", "[object_store]") {
  Diagnostics d;
  d.message = "s3 GetObject: PermanentRedirect: The bucket you are attempting to access must be addressed "
              "using the specified endpoint. (the bucket is in region eu-west-1)";
  CHECK(redirect_region(make_error_code(aws_errc::permanent_redirect), d) == "eu-west-1");
  CHECK(redirect_region(make_error_code(aws_errc::wrong_region), d) == "eu-west-1");
  // Other errors, or no region in the answer: nothing to follow.
  CHECK(redirect_region(make_error_code(aws_errc::access_denied), d).empty());
  d.message = "s3 GetObject: PermanentRedirect: moved";
  CHECK(redirect_region(make_error_code(aws_errc::permanent_redirect), d).empty());
  d.message = "x (the bucket is in region not a region!)";
  CHECK(redirect_region(make_error_code(aws_errc::permanent_redirect), d).empty());
}
