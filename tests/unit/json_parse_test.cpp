#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "mlpack/util/error.hpp"
#include "mlpack/util/json.hpp"

using namespace mlpack;

namespace {

std::string compact(const json::Value& v) {
  std::string text = v.dump(0);
  text.pop_back();  // dump() ends with a newline
  return text;
}

}  // namespace

TEST_CASE("json parse round-trips canonical documents", "[json-parse]") {
  for (const char* text : {
           R"({"a":[1,-2.5e+3,0.970,true,false,null,"x\"y\\z\n"],"b":{},"c":[]})",
           R"([])",
           R"({})",
           R"("just a string")",
           R"(-0)",
           R"(1E+2)",
           R"([[[[1]]],{"k":{"k":{"k":null}}}])",
           "\"caf\xc3\xa9 \xf0\x9f\x98\x80\"",
           R"({"ctl":"\u0001\t\r"})",
       }) {
    INFO(text);
    CHECK(compact(json::parse(text)) == text);
  }
}

TEST_CASE("json parse accepts whitespace around tokens and keeps number text", "[json-parse]") {
  json::Value v = json::parse(" \t\r\n{ \"a\" : [ 0.970 , 1e9 ] , \"b\" : \"s\" } \n ");
  REQUIRE(v.is_object());
  const json::Value* a = v.find("a");
  REQUIRE(a);
  REQUIRE(a->is_array());
  REQUIRE(a->as_array().size() == 2);
  CHECK(a->as_array()[0].number_text() == "0.970");
  CHECK(a->as_array()[1].number_text() == "1e9");
  CHECK(v.find("b")->as_string() == "s");
  CHECK(v.find("missing") == nullptr);
  CHECK(json::parse("true").as_bool());
  CHECK_FALSE(json::parse("false").as_bool());
  CHECK(json::parse("null").is_null());
}

TEST_CASE("json parse decodes escapes to UTF-8", "[json-parse]") {
  CHECK(json::parse(R"("\"\\\/\b\f\n\r\t")").as_string() == "\"\\/\b\f\n\r\t");
  CHECK(json::parse(R"("\u0041\u00e9\u20AC")").as_string() == "A\xc3\xa9\xe2\x82\xac");
  // A surrogate pair is one character above U+FFFF.
  CHECK(json::parse(R"("\ud83d\ude00")").as_string() == "\xf0\x9f\x98\x80");
  CHECK(json::parse(R"("\u0000")").as_string() == std::string(1, '\0'));
}

TEST_CASE("json parse refuses invalid documents", "[json-parse]") {
  const std::vector<std::string> invalid = {
      "",
      " ",
      "{",
      "[",
      "[1,]",
      "{\"a\":1,}",
      "[1 2]",
      "{'a':1}",
      "{a:1}",
      "{1:2}",
      "{\"a\" 1}",
      "{\"a\":}",
      "[,1]",
      "// comment\n1",
      "/* c */ 1",
      "1 // c",
      "01",
      "1.",
      ".5",
      "-",
      "+1",
      "1e",
      "0x10",
      "NaN",
      "Infinity",
      "-Infinity",
      "tru",
      "nul",
      "True",
      "\"abc",
      "\"a\nb\"",
      "\"tab\there\"",
      "\"\\x\"",
      "\"\\u12\"",
      "\"\\u12g4\"",
      "\"\\ud800\"",
      "\"\\udc00\"",
      "\"\\ud800\\u0041\"",
      "\"\\ud800x\"",
      "[1]x",
      "1 2",
      "{} {}",
      "\"\xff\"",
      "\"\xc0\xaf\"",
      "\"\xed\xa0\x80\"",
      "\"\xe2\x82\"",
      "\"\xf4\x90\x80\x80\"",
      "\xef\xbb\xbf{}",
      "[\"a\"\x01]",
      std::string("[1]\0", 4),
      std::string("\"a\0b\"", 5),
  };
  for (const std::string& text : invalid) {
    INFO(text);
    try {
      json::parse(text);
      FAIL("accepted");
    } catch (const UsageError& e) {
      std::string message = e.what();
      CHECK(message.starts_with("invalid JSON at byte "));
      CHECK(message.find('\n') == std::string::npos);
    }
  }
}

TEST_CASE("json parse enforces the depth limit without recursing into it", "[json-parse]") {
  CHECK_THROWS_AS(json::parse(std::string(100000, '[')), UsageError);
  CHECK_THROWS_AS(json::parse(std::string(100000, '[') + std::string(100000, ']')), UsageError);
  std::string objects;
  for (int i = 0; i < 100000; ++i) objects += "{\"a\":";
  CHECK_THROWS_AS(json::parse(objects), UsageError);

  auto nested = [](int depth) { return std::string(depth, '[') + std::string(depth, ']'); };
  CHECK_NOTHROW(json::parse(nested(64)));
  CHECK_THROWS_WITH(json::parse(nested(65)), Catch::Contains("nested deeper than 64"));
  CHECK_NOTHROW(json::parse(nested(3), 3));
  CHECK_THROWS_AS(json::parse(nested(4), 3), UsageError);
  // Scalars add no depth.
  CHECK_NOTHROW(json::parse("[\"x\"]", 1));
}

TEST_CASE("json parse bounds the number of values", "[json-parse]") {
  json::ParseOptions options;
  options.max_values = 4;
  CHECK_NOTHROW(json::parse("[1,2,3]", options));
  CHECK_THROWS_WITH(json::parse("[1,2,3,4]", options), Catch::Contains("more than 4 values"));
  CHECK_NOTHROW(json::parse("{\"a\":{\"b\":{\"c\":{}}}}", options));
  CHECK_THROWS_AS(json::parse("{\"a\":{\"b\":{\"c\":{\"d\":1}}}}", options), UsageError);
}

TEST_CASE("json parse keeps and reports duplicate keys", "[json-parse]") {
  bool duplicates = true;
  json::ParseOptions options;
  options.has_duplicate_keys = &duplicates;

  json::Value v = json::parse(R"({"a":1,"b":2})", options);
  CHECK_FALSE(duplicates);

  v = json::parse(R"({"a":1,"b":2,"a":3})", options);
  CHECK(duplicates);
  REQUIRE(v.as_object().size() == 3);
  CHECK(v.find("a")->number_text() == "1");  // find() returns the first

  json::parse(R"({"x":[{"k":1,"k":2}],"y":0})", options);
  CHECK(duplicates);
  // Escapes are decoded before keys are compared.
  json::parse(R"({"\u0061":1,"a":2})", options);
  CHECK(duplicates);
  json::parse(R"([{"a":1},{"a":1}])", options);
  CHECK_FALSE(duplicates);

  CHECK_NOTHROW(json::parse(R"({"a":1,"a":2})"));
}

TEST_CASE("json read accessors refuse the wrong kind", "[json-parse]") {
  json::Value v = json::parse(R"({"n":1,"s":"x","a":[],"b":true})");
  CHECK(v.find("n")->is_number());
  CHECK(v.find("s")->is_string());
  CHECK(v.find("a")->is_array());
  CHECK(v.find("b")->is_bool());
  CHECK_THROWS_AS(v.find("n")->as_string(), UsageError);
  CHECK_THROWS_AS(v.find("s")->number_text(), UsageError);
  CHECK_THROWS_AS(v.find("s")->as_array(), UsageError);
  CHECK_THROWS_AS(v.find("a")->as_object(), UsageError);
  CHECK_THROWS_AS(v.find("a")->as_bool(), UsageError);
  CHECK(v.find("s")->find("x") == nullptr);
}
