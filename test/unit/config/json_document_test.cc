// parseJsonDocument: one JSON parse gives the loader the document YAML::Load would have built from
// the same text, so a JSON push is refused with the same errors as its YAML twin.

#include "config/json_document.h"

#include <gtest/gtest.h>

#include "config/loader.h"

namespace remora::config {
namespace {

std::string jsonErrors(const std::string& json) {
  auto document = parseJsonDocument(json, "config");
  if (!document) return toLines(document.error());
  auto loaded = loadFromDocument(document.value(), "config");
  return loaded.ok() ? "ok" : toLines(loaded.error());
}

std::string yamlErrors(const std::string& text) {
  auto loaded = loadFromString(text, "config");
  return loaded.ok() ? "ok" : toLines(loaded.error());
}

const char kRest[] =
    R"("listeners": [{"name": "i", "address": "127.0.0.1:8080", "routes": [{"prefix": "/", "cluster": "app"}]}],
       "clusters": [{"name": "app", "endpoints": ["127.0.0.1:1"]}])";

TEST(JsonDocumentTest, ErrorsMatchTheYamlLoadersForTheSameText) {
  for (const std::string fields : {
           R"("workers": "500", )",            // a quoted number is shown quoted
           R"("workers": 1.50, )",             // numbers as written
           R"("workers": 1e3, )",              //
           R"("workers": null, )",             //
           R"("config_watch": "yes", )",       //
           R"("zeta": 1, "alpha": 2, )",       // document order, not sorted
           R"("workers": 1, "workers": 2, )",  // a repeated field is reported
           R"("admin": [], )",                 //
       }) {
    const std::string text = "{" + fields + kRest + "}";
    SCOPED_TRACE(text);
    EXPECT_NE(jsonErrors(text), "ok");
    EXPECT_EQ(jsonErrors(text), yamlErrors(text));
  }
  EXPECT_EQ(jsonErrors(std::string("{") + kRest + "}"), "ok");
  EXPECT_EQ(jsonErrors("[1]"), "config: expected a map of top-level fields, got a list");
}

TEST(JsonDocumentTest, SyntaxErrorsAreJsonsOwn) {
  auto document = parseJsonDocument("{\"a\": }", "config");
  ASSERT_FALSE(document.ok());
  ASSERT_EQ(document.error().size(), 1u);
  EXPECT_EQ(document.error()[0].path, "config");
  EXPECT_EQ(document.error()[0].message.rfind("invalid JSON: [json.exception.parse_error.101]", 0),
            0u)
      << document.error()[0].message;
  EXPECT_FALSE(parseJsonDocument("{} {}", "config").ok());  // one value only
  EXPECT_FALSE(parseJsonDocument("", "config").ok());
}

}  // namespace
}  // namespace remora::config
