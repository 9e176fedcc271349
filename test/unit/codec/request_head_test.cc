#include "codec/request_head.h"

#include <gtest/gtest.h>

#include <string>

namespace remora::http {
namespace {

using stats::ProtocolError;

MessageHead head(std::string url, std::initializer_list<std::pair<const char*, const char*>> hs,
                 http_method method = HTTP_GET) {
  MessageHead h;
  h.url = std::move(url);
  h.method = method;
  for (const auto& [n, v] : hs) h.headers.add(n, v);
  return h;
}

TEST(RequestHeadTest, AcceptsHostForms) {
  const char* why = "";
  for (const char* ok :
       {"a", "example.com", "example.com:8080", "10.0.0.1", "10.0.0.1:80", "[::1]", "[::1]:443",
        "[2001:db8::7]", "my-svc_1.ns.svc", "a:65535", "xn--bcher-kva.example", "%41b"})
    EXPECT_TRUE(validAuthority(ok, &why)) << ok;
  for (const char* bad : {"", ":80", "a:", "a:65536", "a:123456", "a:8x", "a b", "a/b", "[::1",
                          "[zz]", "[::1]x", "[::1]:", "a%zz", "exa\"mple", "a,b:1:2"})
    EXPECT_FALSE(validAuthority(bad, &why)) << bad;
  EXPECT_FALSE(validAuthority("user@host", &why));
  EXPECT_STREQ(why, "userinfo in Host");
  EXPECT_FALSE(validAuthority("user:pw@host:80", &why));
  EXPECT_STREQ(why, "userinfo in Host");
}

TEST(RequestHeadTest, RefusesBadHosts) {
  config::Listener l;
  MessageHead h = head("/", {{"host", "a@b"}});
  HeadRefusal r = checkRequestHead(h, l);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.kind, ProtocolError::kBadHost);
  EXPECT_STREQ(r.detail, "userinfo in Host");
  h = head("/", {{"host", "a b"}});
  EXPECT_STREQ(checkRequestHead(h, l).detail, "invalid Host");
  h = head("/", {{"host", "a"}, {"host", "a"}});  // HTTP/2 can carry two
  EXPECT_STREQ(checkRequestHead(h, l).detail, "repeated Host header");
}

TEST(RequestHeadTest, AConnectionRemembersTheLastHostThatPassed) {
  config::Listener l;
  std::string memo;
  MessageHead h = head("/", {{"host", ""}});
  EXPECT_STREQ(checkRequestHead(h, l, {}, &memo).detail, "invalid Host");  // empty: no memo
  h = head("/", {{"host", "a.example:80"}});
  EXPECT_FALSE(checkRequestHead(h, l, {}, &memo));
  EXPECT_EQ(memo, "a.example:80");
  h = head("/", {{"host", "a.example:80"}});
  EXPECT_FALSE(checkRequestHead(h, l, {}, &memo));
  h = head("/", {{"host", "a.example:800000"}});
  EXPECT_STREQ(checkRequestHead(h, l, {}, &memo).detail, "invalid Host");
  EXPECT_EQ(memo, "a.example:80");  // a refused Host is not remembered
}

TEST(RequestHeadTest, Http2AuthorityAndHostAgree) {
  config::Listener l;
  MessageHead h = head("/", {{"host", "A.example"}});
  EXPECT_FALSE(checkRequestHead(h, l, "a.example"));
  h = head("/", {{"host", "b.example"}});
  HeadRefusal r = checkRequestHead(h, l, "a.example");
  EXPECT_EQ(r.kind, ProtocolError::kBadHost);
  EXPECT_STREQ(r.detail, "Host and :authority disagree");
  h = head("/", {});
  EXPECT_STREQ(checkRequestHead(h, l, "u@a.example").detail, "userinfo in Host");
}

TEST(RequestHeadTest, AbsoluteFormBecomesOriginFormWhenHostAgrees) {
  config::Listener l;
  MessageHead h = head("http://A.example:8080/x/../y?q", {{"host", "a.example:8080"}});
  ASSERT_FALSE(checkRequestHead(h, l));
  EXPECT_EQ(h.url, "/y?q");
  EXPECT_EQ(h.original_url, "http://A.example:8080/x/../y?q");
  h = head("HTTP://a.example", {{"host", "a.example"}});
  ASSERT_FALSE(checkRequestHead(h, l));
  EXPECT_EQ(h.url, "/");
  h = head("http://a.example/", {{"host", "b.example"}});
  HeadRefusal r = checkRequestHead(h, l);
  EXPECT_EQ(r.kind, ProtocolError::kBadHost);
  EXPECT_STREQ(r.detail, "Host does not match the request target");
  h = head("http://user@a.example/", {{"host", "a.example"}});
  EXPECT_STREQ(checkRequestHead(h, l).detail, "userinfo in Host");
  h = head("ftp://a.example/", {{"host", "a.example"}});
  EXPECT_EQ(checkRequestHead(h, l).kind, ProtocolError::kBadRequest);
}

TEST(RequestHeadTest, NormalizesThePathAndKeepsTheOriginal) {
  config::Listener l;
  MessageHead h = head("/public/%2e%2e/admin", {{"host", "a"}});
  ASSERT_FALSE(checkRequestHead(h, l));
  EXPECT_EQ(h.url, "/admin");
  EXPECT_EQ(h.original_url, "/public/%2e%2e/admin");
  h = head("/ok", {{"host", "a"}});
  ASSERT_FALSE(checkRequestHead(h, l));
  EXPECT_TRUE(h.original_url.empty());
  h = head("/../etc/passwd", {{"host", "a"}});
  HeadRefusal r = checkRequestHead(h, l);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.kind, ProtocolError::kBadPath);
  EXPECT_STREQ(r.detail, "request path climbs above the root");
}

TEST(RequestHeadTest, RefusesConnect) {
  config::Listener l;
  MessageHead h = head("a.example:443", {{"host", "a.example:443"}}, HTTP_CONNECT);
  HeadRefusal r = checkRequestHead(h, l);
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.kind, ProtocolError::kConnectRefused);
}

TEST(RequestHeadTest, H2cUpgradeIsTakenOff) {
  config::Listener l;
  MessageHead h = head("/", {{"host", "a"},
                             {"connection", "Upgrade, HTTP2-Settings"},
                             {"upgrade", "h2c"},
                             {"http2-settings", "AAMAAABkAARAAAAAAAIAAAAA"}});
  h.upgrade = true;
  ASSERT_FALSE(checkRequestHead(h, l));
  EXPECT_FALSE(h.upgrade);
  EXPECT_EQ(h.headers.count(HeaderToken::kUpgrade), 0u);
  EXPECT_FALSE(h.headers.get("http2-settings"));
}

TEST(RequestHeadTest, OnlyConfiguredUpgradesPass) {
  config::Listener l;  // websocket by default
  MessageHead h = head("/", {{"host", "a"}, {"upgrade", "h2c, WebSocket, foo/2"}});
  h.upgrade = true;
  ASSERT_FALSE(checkRequestHead(h, l));
  EXPECT_TRUE(h.upgrade);
  EXPECT_EQ(h.headers.get(HeaderToken::kUpgrade), "WebSocket");
  h = head("/", {{"host", "a"}, {"upgrade", "foo"}});
  h.upgrade = true;
  ASSERT_FALSE(checkRequestHead(h, l));
  EXPECT_FALSE(h.upgrade);
  l.upgrades = {"foo"};
  h = head("/", {{"host", "a"}, {"upgrade", "foo/1, websocket"}});
  h.upgrade = true;
  ASSERT_FALSE(checkRequestHead(h, l));
  EXPECT_EQ(h.headers.get(HeaderToken::kUpgrade), "foo/1");
  l.upgrades = {};
  h = head("/", {{"host", "a"}, {"upgrade", "websocket"}});
  h.upgrade = true;
  ASSERT_FALSE(checkRequestHead(h, l));
  EXPECT_FALSE(h.upgrade);
}

}  // namespace
}  // namespace remora::http
