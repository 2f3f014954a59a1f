#include <catch2/catch.hpp>

#include "mlpack/util/json.hpp"

using namespace mlpack;

TEST_CASE("json keeps key order and number text") {
  json::Value v = json::Value::object();
  v.set("b", 1);
  v.set("a", json::Number{"0.970"});
  v.set("s", "x\"y\n");
  v.set("n", nullptr);
  json::Value arr = json::Value::array();
  arr.push(true);
  v.set("arr", std::move(arr));
  CHECK(v.dump(0) == "{\"b\":1,\"a\":0.970,\"s\":\"x\\\"y\\n\",\"n\":null,\"arr\":[true]}\n");
}

TEST_CASE("json escapes control characters") {
  CHECK(json::escape(std::string("\x01", 1)) == "\"\\u0001\"");
}

TEST_CASE("json number syntax") {
  for (const char* good : {"0", "-1", "3.25", "1e9", "-0.5E-3"}) CHECK(json::is_number(good));
  for (const char* bad : {"", "01", "1.", ".5", "1e", "0x10", "nan", "2024-12", "+1"}) {
    INFO(bad);
    CHECK_FALSE(json::is_number(bad));
  }
}
