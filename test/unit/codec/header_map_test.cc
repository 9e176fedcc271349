#include "codec/header_map.h"

#include <gtest/gtest.h>

#include <string>

namespace remora::http {
namespace {

TEST(HeaderMapTest, AddKeepsOrderAndDuplicates) {
  HeaderMap h;
  h.add("Accept", "a");
  h.add("X-Forwarded-For", "1.1.1.1");
  h.add("accept", "b");
  EXPECT_EQ(h.size(), 3u);
  EXPECT_EQ(h.get("ACCEPT"), "a");  // the first one wins
  std::string out;
  h.serialize(out);
  EXPECT_EQ(out, "Accept: a\r\nX-Forwarded-For: 1.1.1.1\r\naccept: b\r\n");
}

TEST(HeaderMapTest, AddClassifiesTheName) {
  HeaderMap h;
  h.add("content-LENGTH", "5");
  h.add("X-Custom", "v");
  EXPECT_EQ(h.entries()[0].token, HeaderToken::kContentLength);
  EXPECT_EQ(h.entries()[1].token, HeaderToken::kOther);
  EXPECT_EQ(h.get(HeaderToken::kContentLength), "5");
  EXPECT_EQ(h.count(HeaderToken::kContentLength), 1u);
}

TEST(HeaderMapTest, SetReplacesEveryHeaderOfThatName) {
  HeaderMap h;
  h.add("Via", "1");
  h.add("Host", "h");
  h.add("VIA", "2");
  h.set("via", "3");
  std::string out;
  h.serialize(out);
  EXPECT_EQ(out, "Host: h\r\nvia: 3\r\n");
  EXPECT_EQ(h.get("Via"), "3");
}

TEST(HeaderMapTest, RemoveCountsWhatItRemovedAndHidesIt) {
  HeaderMap h;
  h.add("Cookie", "a");
  h.add("cookie", "b");
  h.add("Host", "h");
  EXPECT_EQ(h.remove("COOKIE"), 2u);
  EXPECT_EQ(h.remove("cookie"), 0u);  // already gone
  EXPECT_EQ(h.get("cookie"), std::nullopt);
  EXPECT_EQ(h.remove("absent"), 0u);
  std::string out;
  h.serialize(out);
  EXPECT_EQ(out, "Host: h\r\n");
}

TEST(HeaderMapTest, RemoveTokenAndCountByToken) {
  HeaderMap h;
  h.add("Connection", "close");
  h.add("Keep-Alive", "timeout=5");
  h.add("connection", "x");
  EXPECT_EQ(h.count(HeaderToken::kConnection), 2u);
  h.removeToken(HeaderToken::kConnection);
  EXPECT_EQ(h.count(HeaderToken::kConnection), 0u);
  EXPECT_EQ(h.get(HeaderToken::kConnection), std::nullopt);
  EXPECT_EQ(h.get(HeaderToken::kKeepAlive), "timeout=5");
  EXPECT_EQ(h.count(HeaderToken::kHost), 0u);
}

TEST(HeaderMapTest, BuildsPieceByPieceLikeTheCodec) {
  HeaderMap h;
  h.beginName();
  h.appendName("Trans", 5);
  h.appendName("fer-Encoding", 12);
  h.beginValue();
  h.appendValue("chun", 4);
  h.appendValue("ked", 3);
  EXPECT_EQ(h.finishLast(), HeaderToken::kTransferEncoding);
  ASSERT_EQ(h.size(), 1u);
  EXPECT_EQ(h.name(h.entries()[0]), "Transfer-Encoding");
  EXPECT_EQ(h.value(h.entries()[0]), "chunked");
  EXPECT_EQ(h.byteSize(), 24u);
}

TEST(HeaderMapTest, ClearEmptiesEverything) {
  HeaderMap h;
  h.add("A", "b");
  h.clear();
  EXPECT_EQ(h.size(), 0u);
  EXPECT_EQ(h.byteSize(), 0u);
  EXPECT_EQ(h.get("A"), std::nullopt);
}

TEST(HeaderMapTest, ClassifiesEveryKnownHeaderCaseInsensitively) {
  struct Case {
    const char* name;
    HeaderToken token;
  };
  const Case cases[] = {
      {"te", HeaderToken::kTe},
      {"Host", HeaderToken::kHost},
      {"EXPECT", HeaderToken::kExpect},
      {"Upgrade", HeaderToken::kUpgrade},
      {"trailer", HeaderToken::kTrailer},
      {"Connection", HeaderToken::kConnection},
      {"keep-alive", HeaderToken::kKeepAlive},
      {"X-Request-ID", HeaderToken::kXRequestId},
      {"Content-Length", HeaderToken::kContentLength},
      {"x-forwarded-for", HeaderToken::kXForwardedFor},
      {"Proxy-Connection", HeaderToken::kProxyConnection},
      {"Transfer-Encoding", HeaderToken::kTransferEncoding},
      {"X-Forwarded-Proto", HeaderToken::kXForwardedProto},
  };
  for (const Case& c : cases) EXPECT_EQ(classifyHeader(c.name), c.token) << c.name;
  // Same lengths as known names, or near misses, are not them.
  for (const char* other : {"", "t", "tf", "hostx", "hos", "Content-Lengths", "Content-Lengt",
                            "transfer-encodinG ", "x-forwarded-fox", "Accept", "Cookie"})
    EXPECT_EQ(classifyHeader(other), HeaderToken::kOther) << other;
}

TEST(HeaderMapTest, EqualsIgnoreCaseComparesLengthToo) {
  EXPECT_TRUE(equalsIgnoreCase("Chunked", "cHUNKED"));
  EXPECT_TRUE(equalsIgnoreCase("", ""));
  EXPECT_FALSE(equalsIgnoreCase("chunked", "chunked "));
  EXPECT_FALSE(equalsIgnoreCase("a", "b"));
}

TEST(HeaderMapTest, HeaderListContainsMatchesWholeItems) {
  EXPECT_TRUE(headerListContains("close", "close"));
  EXPECT_TRUE(headerListContains("keep-alive, Upgrade", "upgrade"));
  EXPECT_TRUE(headerListContains(" \tUpgrade\t , x", "upgrade"));
  EXPECT_TRUE(headerListContains("a,,b", "b"));
  EXPECT_FALSE(headerListContains("upgraded", "upgrade"));
  EXPECT_FALSE(headerListContains("no-upgrade", "upgrade"));
  EXPECT_FALSE(headerListContains("", "close"));
  EXPECT_FALSE(headerListContains(",", "close"));
}

TEST(HeaderMapTest, ValidHeaderNamesAreTokens) {
  EXPECT_TRUE(isValidHeaderName("X-Custom_Header.1"));
  EXPECT_TRUE(isValidHeaderName("!#$%&'*+-.^_`|~"));
  EXPECT_FALSE(isValidHeaderName(""));
  EXPECT_FALSE(isValidHeaderName("Bad Name"));
  EXPECT_FALSE(isValidHeaderName("Name:"));
  EXPECT_FALSE(isValidHeaderName("a\tb"));
  EXPECT_FALSE(isValidHeaderName("(comment)"));
  EXPECT_FALSE(isValidHeaderName("\"q\""));
  EXPECT_FALSE(isValidHeaderName("caf\xc3\xa9"));
  EXPECT_FALSE(isValidHeaderName(std::string_view("a\0b", 3)));
}

TEST(HeaderMapTest, ValidHeaderValuesHaveNoControlBytesButTab) {
  EXPECT_TRUE(isValidHeaderValue(""));
  EXPECT_TRUE(isValidHeaderValue("text/html; q=0.9, */*"));
  EXPECT_TRUE(isValidHeaderValue("a\tb"));
  EXPECT_TRUE(isValidHeaderValue("caf\xc3\xa9"));  // obs-text
  EXPECT_FALSE(isValidHeaderValue("a\rb"));
  EXPECT_FALSE(isValidHeaderValue("a\nb"));
  EXPECT_FALSE(isValidHeaderValue(std::string_view("a\0b", 3)));
  EXPECT_FALSE(isValidHeaderValue("\x1f"));
  EXPECT_FALSE(isValidHeaderValue("\x7f"));
}

}  // namespace
}  // namespace remora::http
