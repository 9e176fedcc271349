// Encodings and the path form auth rules match against.

#include <gtest/gtest.h>

#include <remora/sdk/query.h>

#include "auth/credentials.h"
#include "auth/encoding.h"
#include "auth/path_match.h"

namespace remora::auth {
namespace {

// Query parsing is the SDK's; the filters match on it.
using sdk::queryParam;

TEST(AuthEncodingTest, Base64UrlRoundTrips) {
  for (std::string s : {"", "f", "fo", "foo", "foob", "fooba", "foobar", "\xff\xfe\x00\x01"}) {
    EXPECT_EQ(base64UrlDecode(base64UrlEncode(s)), s);
  }
  EXPECT_EQ(base64UrlEncode("\xfb\xff"), "-_8");
}

TEST(AuthEncodingTest, Base64UrlRefusesPaddingForeignBytesAndNonCanonicalForms) {
  EXPECT_EQ(base64UrlDecode("Zm9v="), std::nullopt);
  EXPECT_EQ(base64UrlDecode("Zm+v"), std::nullopt);
  EXPECT_EQ(base64UrlDecode("Z"), std::nullopt);
  EXPECT_EQ(base64UrlDecode("Zh"), std::nullopt);  // leftover bits not zero
  EXPECT_EQ(base64UrlDecode("Zg"), "f");
}

TEST(AuthEncodingTest, LenientBase64AcceptsBothAlphabetsAndPadding) {
  EXPECT_EQ(base64DecodeLenient("Zm9vYg=="), "foob");
  EXPECT_EQ(base64DecodeLenient("-_8"), "\xfb\xff");
  EXPECT_EQ(base64DecodeLenient("+/8="), "\xfb\xff");
}

TEST(AuthEncodingTest, Hex) {
  EXPECT_EQ(toHex("\x01\xab"), "01ab");
  EXPECT_EQ(fromHex("01AB"), "\x01\xab");
  EXPECT_EQ(fromHex("0"), std::nullopt);
  EXPECT_EQ(fromHex("zz"), std::nullopt);
}

TEST(AuthPathMatchTest, NormalizesWhatUpstreamsTreatAsTheSamePath) {
  EXPECT_EQ(normalizeForMatch("/admin"), "/admin");
  EXPECT_EQ(normalizeForMatch("/admin/"), "/admin/");
  EXPECT_EQ(normalizeForMatch("//admin"), "/admin");
  EXPECT_EQ(normalizeForMatch("/x/../admin/users?a=/b"), "/admin/users");
  EXPECT_EQ(normalizeForMatch("/./admin"), "/admin");
  EXPECT_EQ(normalizeForMatch("/%61dmin"), "/admin");
  EXPECT_EQ(normalizeForMatch("/%2e%2e/admin"), "/admin");
  EXPECT_EQ(normalizeForMatch("/a%2fb"), "/a%2Fb");  // an encoded slash is not a separator
  EXPECT_EQ(normalizeForMatch("/../../etc"), "/etc");
  EXPECT_EQ(normalizeForMatch("/admin/.."), "/");
  EXPECT_EQ(normalizeForMatch("/admin/x/.."), "/admin/");
  EXPECT_EQ(normalizeForMatch(""), "/");
  EXPECT_EQ(normalizeForMatch("http://h.test:8080/admin?x"), "/admin");
  EXPECT_EQ(normalizeForMatch("HTTPS://h.test"), "/");
  EXPECT_EQ(normalizeForMatch("/p#frag"), "/p");
}

TEST(AuthPathMatchTest, QueryParameters) {
  EXPECT_EQ(targetQuery("/p?a=1&b=2#f"), "a=1&b=2");
  EXPECT_EQ(targetQuery("/p"), "");
  EXPECT_EQ(queryParam("a=1&access_token=x%2By+z&b", "access_token"), "x+y z");
  EXPECT_EQ(queryParam("a=1&b", "b"), "");
  EXPECT_EQ(queryParam("a=1", "c"), std::nullopt);
  EXPECT_EQ(queryParam("api%5Fkey=k", "api_key"), "k");
}

}  // namespace
}  // namespace remora::auth
