// Unit tests for the one XML reader of the library (lib/detail/xml_reader.hpp).
#include "../../../lib/detail/xml_reader.hpp"

#include "catch.hpp"
#include "../catch_result.hpp"

using ctsqs::detail::xml_decode;
using ctsqs::detail::xml_element_inner;
using ctsqs::detail::xml_element_text;
using ctsqs::detail::xml_text_only_element;

TEST_CASE("element text with namespaces, attributes and entities", "[xml]") {
  std::string_view doc =
      "<?xml version=\"1.0\"?><a:Root xmlns:a=\"x\"><a:Code attr='1'>A&amp;B &lt;&#65;&#x42;&gt;</a:Code>"
      "<Empty/><Msg><![CDATA[raw <b>&amp;</b>]]></Msg></a:Root>";
  CHECK(xml_element_text(doc, "Code") == "A&B <AB>");
  CHECK(xml_element_text(doc, "Empty") == "");
  CHECK(xml_element_text(doc, "Msg") == "raw <b>&amp;</b>");
  CHECK_FALSE(xml_element_text(doc, "Missing"));
  CHECK_FALSE(xml_element_text(doc, "Cod"));  // no prefix matching
}

TEST_CASE("nested same-name elements and scoping", "[xml]") {
  std::string_view doc = "<R><Error><Code>Outer</Code><Error><Code>Inner</Code></Error></Error><Code>After</Code></R>";
  auto inner = xml_element_inner(doc, "Error");
  REQUIRE(inner);
  CHECK(*inner == "<Code>Outer</Code><Error><Code>Inner</Code></Error>");
  CHECK(xml_element_text(*inner, "Code") == "Outer");
}

TEST_CASE("a self-closing element is empty, and its view still points into the document", "[xml]") {
  std::string_view doc = "<R><Credentials/><Code>x</Code></R>";
  auto inner = xml_element_inner(doc, "Credentials");
  REQUIRE(inner);
  CHECK(inner->empty());
  CHECK(inner->data() == doc.data() + doc.find("<Code>"));
  CHECK(xml_element_text(doc, "Credentials") == "");
}

TEST_CASE("malformed documents yield nothing rather than garbage", "[xml]") {
  CHECK_FALSE(xml_element_text("<Code>unclosed", "Code"));
  CHECK_FALSE(xml_element_text("<Code", "Code"));
  CHECK_FALSE(xml_element_text("", "Code"));
  CHECK_FALSE(xml_element_text("<!-- <Code>x</Code> -->", "Code"));
  CHECK(xml_decode("a &bogus; &#xZZ; &#1114112; &") == "a &bogus; &#xZZ; &#1114112; &");
  CHECK(xml_decode("&#233;") == "\xC3\xA9");
  // Not characters XML allows: kept as written, never decoded into a NUL or a lone surrogate.
  CHECK(xml_decode("&#0;&#xD800;") == "&#0;&#xD800;");
  CHECK(xml_decode("&#x1F600;") == "\xF0\x9F\x98\x80");
}

TEST_CASE("a text-only element (S3 error fields) decodes entities strictly and holds no markup", "[xml]") {
  CHECK(xml_text_only_element("<a><Code>X&amp;Y &lt;z&gt; &#233;&#x41;</Code></a>", "Code") == std::optional<std::string>("X&Y <z> \xC3\xA9" "A"));
  CHECK_FALSE(xml_text_only_element("<Code>unterminated", "Code"));
  CHECK_FALSE(xml_text_only_element("<Code>&bogus;</Code>", "Code"));
  CHECK_FALSE(xml_text_only_element("<Code>&#0;</Code>", "Code"));
  CHECK_FALSE(xml_text_only_element("<Code><b>nested</b></Code>", "Code"));
  CHECK(xml_text_only_element("<Code></Code>", "Code") == std::optional<std::string>(""));
}

TEST_CASE("a text-only element is not found inside a comment or a CDATA section", "[xml]") {
  CHECK(xml_text_only_element("<Error><!-- <Code>Old</Code> --><Code>NoSuchKey</Code></Error>", "Code") ==
        std::optional<std::string>("NoSuchKey"));
  CHECK(xml_text_only_element("<Error><![CDATA[<Code>Old</Code>]]><Code>NoSuchKey</Code></Error>", "Code") ==
        std::optional<std::string>("NoSuchKey"));
  CHECK(xml_text_only_element("<s3:Code xmlns:s3=\"x\">SlowDown</s3:Code>", "Code") ==
        std::optional<std::string>("SlowDown"));
}
