// The SDK's pure helpers, without a host: the config reader (both families of reads and their
// wording), Result, query-string parsing and the C ABI's response-flag and host-table probes.

#include <gtest/gtest.h>

#include <remora/sdk/config_reader.h>
#include <remora/sdk/host.h>
#include <remora/sdk/query.h>
#include <remora/sdk/result.h>

#include <chrono>
#include <limits>
#include <string>
#include <vector>

namespace remora::sdk {
namespace {

using namespace std::chrono_literals;

// The first error of reading `text` with `read`, or "(accepted)".
template <typename Read>
std::string errorOf(const char* text, Read read) {
  Json j = Json::parse(text);
  ConfigErrors errors;
  ConfigReader r(j, "", errors);
  read(r);
  return errors.failed() ? errors.first() : "(accepted)";
}

TEST(SdkConfigReader, TypedReadsNameWhatTheyFound) {
  Json j =
      Json::parse(R"({"s": "x", "b": true, "i": 7, "n": 0.5, "d": "250ms", "a": [], "o": {}})");
  ConfigErrors errors;
  ConfigReader r(j, "", errors);
  r.allowOnly({"s", "b", "i", "n", "d", "a", "o"});
  EXPECT_EQ(r.string("s"), "x");
  EXPECT_EQ(r.boolean("b"), true);
  EXPECT_EQ(r.integer("i", 0, 10), 7);
  EXPECT_EQ(r.number("n", 0, 1), 0.5);
  EXPECT_EQ(r.durationMs("d"), 250u);
  EXPECT_NE(r.array("a"), nullptr);
  EXPECT_NE(r.object("o"), nullptr);
  EXPECT_EQ(r.string("absent"), std::nullopt);
  EXPECT_FALSE(errors.failed()) << errors.first();

  EXPECT_EQ(errorOf("[]", [](ConfigReader&) {}), "config: must be an object, got an array");
  EXPECT_EQ(errorOf(R"({"x": 1})", [](ConfigReader& r) { r.allowOnly({"y"}); }),
            "x: unknown field");
  EXPECT_EQ(errorOf("{}", [](ConfigReader& r) { (void)r.string("s", true); }), "s: is required");
  EXPECT_EQ(errorOf(R"({"s": null})", [](ConfigReader& r) { (void)r.string("s"); }),
            "s: must be a string, got null");
  EXPECT_EQ(errorOf(R"({"b": "yes"})", [](ConfigReader& r) { (void)r.boolean("b"); }),
            "b: must be a boolean, got a string");
  EXPECT_EQ(errorOf(R"({"i": 11})", [](ConfigReader& r) { (void)r.integer("i", 0, 10); }),
            "i: must be between 0 and 10, got 11");
  EXPECT_EQ(errorOf(R"({"i": -1})",
                    [](ConfigReader& r) {
                      (void)r.integer("i", 0, std::numeric_limits<int64_t>::max());
                    }),
            "i: must be >= 0, got -1");
  EXPECT_EQ(errorOf(R"({"d": "soon"})", [](ConfigReader& r) { (void)r.durationMs("d"); }),
            "d: must be a duration like \"1s\" or \"250ms\", got \"soon\"");
  EXPECT_EQ(errorOf(R"({"d": "1ms"})", [](ConfigReader& r) { (void)r.durationMs("d", 5); }),
            "d: must be at least 5ms, got \"1ms\"");
}

TEST(SdkConfigReader, ReadsWithAFallbackTreatNullAsAbsent) {
  Json j = Json::parse(R"({"s": null, "i": 3, "l": "one", "d": "2s"})");
  ConfigErrors errors;
  ConfigReader r = ConfigReader::section(&j, "sec", errors);
  ASSERT_TRUE(r.valid());
  EXPECT_EQ(r.stringOr("s", "fallback"), "fallback");
  EXPECT_EQ(r.integerOr("i", 0, 0, 5), 3);
  EXPECT_EQ(r.booleanOr("b", true), true);
  EXPECT_EQ(r.stringList("l"), std::vector<std::string>{"one"});
  EXPECT_EQ(r.durationOr("d", 1s, 0s, 1h), 2s);
  r.finish();
  EXPECT_FALSE(errors.failed()) << errors.first();

  ConfigErrors none;
  EXPECT_FALSE(ConfigReader::section(nullptr, "absent", none).valid());
  EXPECT_FALSE(none.failed());

  auto section = [](const char* text, auto f) {
    Json v = Json::parse(text);
    ConfigErrors e;
    ConfigReader r = ConfigReader::section(&v, "", e);
    f(r);
    r.finish();
    return e.failed() ? e.first() : std::string("(accepted)");
  };
  auto nothing = [](ConfigReader&) {};
  EXPECT_EQ(section("[]", nothing), "config: must be an object");
  EXPECT_EQ(section(R"({"typo": 1})", nothing), "typo: unknown field");
  EXPECT_EQ(section(R"({"s": 1})", [](ConfigReader& r) { (void)r.stringOr("s", ""); }),
            "s: must be a string");
  EXPECT_EQ(section(R"({"b": 1})", [](ConfigReader& r) { (void)r.booleanOr("b", false); }),
            "b: must be true or false");
  EXPECT_EQ(section(R"({"i": 9})", [](ConfigReader& r) { (void)r.integerOr("i", 0, 0, 5); }),
            "i: must be in [0, 5], got 9");
  EXPECT_EQ(section(R"({"d": "2h"})", [](ConfigReader& r) { (void)r.durationOr("d", 1s, 0s, 1h); }),
            "d: must be between 0s and 3600s, got \"2h\"");
  EXPECT_EQ(section(R"({"l": ["a", ""]})", [](ConfigReader& r) { (void)r.stringList("l"); }),
            "l[1]: must be a non-empty string");
}

TEST(SdkConfigReader, FirstErrorWins) {
  ConfigErrors errors;
  errors.fail("", "top");
  errors.fail("a.b", "later");
  errors.failRaw("raw");
  EXPECT_EQ(errors.first(), "config: top");
}

TEST(SdkResult, CarriesAValueOrAMessage) {
  Result<int> ok = 7;
  ASSERT_TRUE(ok);
  EXPECT_EQ(*ok, 7);
  Result<std::string> bad = Error{"no"};
  EXPECT_FALSE(bad.ok());
  EXPECT_EQ(bad.error(), "no");
}

// queryParam itself is exercised where the router and auth match on it
// (router_match_test.cc, auth_encoding_test.cc).
TEST(SdkQuery, DecodesPlusAndPercentEscapes) {
  EXPECT_EQ(urlDecode("a+b%20c%2b"), "a b c+");
  EXPECT_EQ(urlDecode("%zz%4"), "%zz%4");
  EXPECT_EQ(queryParam("x+y=1", "x y"), "1");
  EXPECT_EQ(hexDigitValue('F'), 15);
  EXPECT_EQ(hexDigitValue('g'), -1);
}

TEST(SdkAbiHelpers, ResponseFlagsMatchWholeCodes) {
  EXPECT_TRUE(hasFlag("UF", "UF"));
  EXPECT_TRUE(hasFlag("UT,UR", "UR"));
  EXPECT_TRUE(hasFlag("URX,UC", "UC"));
  EXPECT_FALSE(hasFlag("URX", "UR"));
  EXPECT_FALSE(hasFlag("U", "UR"));
  EXPECT_FALSE(hasFlag("-", "UF"));
  EXPECT_FALSE(hasFlag("", "UF"));
  EXPECT_FALSE(hasFlag("UF,", ""));
  EXPECT_EQ(remora_flags_has(remora_str_t{nullptr, 0}, "UF"), 0);
}

TEST(SdkAbiHelpers, HostHasProbesTheTableSize) {
  remora_host_api_t table{};
  table.struct_size = static_cast<uint32_t>(kHostApiBaseSize);
  EXPECT_TRUE(REMORA_HOST_HAS(&table, now_monotonic_us));
  EXPECT_FALSE(REMORA_HOST_HAS(&table, set_upstream_limits));
  table.struct_size = sizeof(remora_host_api_t);
  EXPECT_TRUE(REMORA_HOST_HAS(&table, upstream_limits_hit));
}

}  // namespace
}  // namespace remora::sdk
