// The etcd client's encoding helpers and the discovery value parser.

#include "etcd/etcd_client.h"

#include <gtest/gtest.h>

#include "discovery/endpoint_discovery.h"

namespace remora::etcd {
namespace {

TEST(EtcdEncodingTest, Base64RoundTrips) {
  for (std::string text : {"", "a", "ab", "abc", "abcd", "/remora/web/config"}) {
    auto decoded = base64Decode(base64Encode(text));
    ASSERT_TRUE(decoded.ok());
    EXPECT_EQ(decoded.value(), text);
  }
  EXPECT_EQ(base64Encode("foo"), "Zm9v");
  EXPECT_FALSE(base64Decode("abc").ok());
}

TEST(EtcdEncodingTest, Base64MatchesRfc4648AndRejectsMalformedText) {
  const std::pair<const char*, const char*> vectors[] = {{"", ""},
                                                         {"f", "Zg=="},
                                                         {"fo", "Zm8="},
                                                         {"foo", "Zm9v"},
                                                         {"foob", "Zm9vYg=="},
                                                         {"fooba", "Zm9vYmE="},
                                                         {"foobar", "Zm9vYmFy"}};
  for (auto [plain, encoded] : vectors) {
    EXPECT_EQ(base64Encode(plain), encoded);
    EXPECT_EQ(base64Decode(encoded).value(), plain);
  }
  std::string every_byte;
  for (int b = 0; b < 256; ++b) every_byte.push_back(static_cast<char>(b));
  EXPECT_EQ(base64Decode(base64Encode(every_byte)).value(), every_byte);
  EXPECT_EQ(base64Encode("\xff\xfe"), "//4=");
  for (const char* bad : {"Zg=a", "Z===", "Zg==Zm9v", "Zm9-", "Zm 9", "====", "Zm9v\n"})
    EXPECT_FALSE(base64Decode(bad).ok()) << bad;
}

TEST(EtcdEncodingTest, PrefixEnd) {
  EXPECT_EQ(prefixEnd("/svc/"), "/svc0");
  EXPECT_EQ(prefixEnd("a\xff"), "b");
}

TEST(EtcdEncodingTest, JsonIntReadsStringsAndNumbers) {
  nlohmann::json j = {{"a", "42"}, {"b", 7}, {"c", "x"}};
  EXPECT_EQ(jsonInt(j, "a"), 42);
  EXPECT_EQ(jsonInt(j, "b"), 7);
  EXPECT_EQ(jsonInt(j, "c"), 0);
  EXPECT_EQ(jsonInt(j, "missing"), 0);
}

TEST(EtcdEncodingTest, EndpointValues) {
  auto plain = discovery::parseEndpointValue("127.0.0.1:8080");
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->str(), "127.0.0.1:8080");
  auto registered = discovery::parseEndpointValue(R"({"address":"10.0.0.5:80","instance":"x"})");
  ASSERT_TRUE(registered.ok());
  EXPECT_EQ(registered->str(), "10.0.0.5:80");
  EXPECT_FALSE(discovery::parseEndpointValue("{}").ok());
  EXPECT_FALSE(discovery::parseEndpointValue("nope").ok());
}

}  // namespace
}  // namespace remora::etcd
