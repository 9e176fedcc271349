// The request head the filters and the upstream see, through the real binary: one normalized
// path for HTTP/1 and HTTP/2 (dot segments, percent-encoded dots, fragments), Host checks,
// h2c upgrades taken off, CONNECT refused. The demo upstream's /headers echoes the request line
// it received, so each test reads what really reached the service.

#include <gtest/gtest.h>

#include <sstream>
#include <string>

#include "common/harness.h"
#include "integration/h2/h2_tools.h"

namespace remora::test {
namespace {

// The request line the demo upstream's /headers saw, without the newline.
std::string receivedLine(const HttpResponse& r) {
  return r.body.substr(0, r.body.find('\n'));
}

double protocolErrors(uint16_t admin, const std::string& kind) {
  return scrapeMetric(admin, "remora_protocol_errors_total", {"kind=\"" + kind + "\""});
}

TEST(RequestTarget, TheUpstreamReceivesTheNormalizedPath) {
  ProxyUnderTest proxy;
  HttpClient client(proxy.port());
  HttpResponse r = client.request("GET", "/public/../headers");
  ASSERT_EQ(r.status, 200) << r.error;
  EXPECT_EQ(receivedLine(r), "GET /headers HTTP/1.1");
  r = client.request("GET", "/public/%2e%2E/%68eaders?x=/../%2e");
  ASSERT_EQ(r.status, 200) << r.error;
  EXPECT_EQ(receivedLine(r), "GET /headers?x=/../%2e HTTP/1.1");  // the query as sent
  EXPECT_TRUE(r.keep_alive);
}

TEST(RequestTarget, RefusedTargetsGet400WithTheReasonAndAMetric) {
  ProxyUnderTest proxy;
  UpstreamStats upstream(proxy.upstream().port());
  struct Case {
    const char* target;
    const char* body;
  };
  const Case cases[] = {
      {"/../headers", "request path climbs above the root\n"},
      {"/a/%2e%2e/%2E%2E/headers", "request path climbs above the root\n"},
      {"/headers#frag", "fragment in request target\n"},
      {"/head%zzers", "invalid percent-encoding in request path\n"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.target);
    HttpClient client(proxy.port());
    HttpResponse r = client.request("GET", c.target);
    EXPECT_EQ(r.status, 400) << r.error;
    EXPECT_EQ(r.body, c.body);
    EXPECT_EQ(r.header("connection"), "close");
  }
  EXPECT_EQ(protocolErrors(proxy.adminPort(), "bad_path"), 4);
  EXPECT_EQ(upstream.read().requests, 0u);
}

TEST(RequestTarget, EncodedSlashPolicyIsPerListener) {
  ProxySpec spec;
  spec.listener_yaml = "path_normalization: { encoded_slashes: reject, merge_slashes: true }";
  ProxyUnderTest proxy(spec);
  HttpClient client(proxy.port());
  HttpResponse r = client.request("GET", "//x//..//headers");
  ASSERT_EQ(r.status, 200) << r.error;
  EXPECT_EQ(receivedLine(r), "GET /headers HTTP/1.1");
  r = client.request("GET", "/a%2F..%2Fheaders");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body, "encoded slash or backslash in request path\n");
}

TEST(RequestTarget, BadHostsGet400) {
  ProxyUnderTest proxy;
  struct Case {
    std::string request;
    const char* body;
  };
  const Case cases[] = {
      {"GET /headers HTTP/1.1\r\nHost: user@example.com\r\n\r\n", "userinfo in Host\n"},
      {"GET /headers HTTP/1.1\r\nHost: exa mple\r\n\r\n", "invalid Host\n"},
      {"GET /headers HTTP/1.1\r\nHost: a:99999\r\n\r\n", "invalid Host\n"},
      {"GET http://a.example/headers HTTP/1.1\r\nHost: b.example\r\n\r\n",
       "Host does not match the request target\n"},
      {"GET /headers HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", "missing or repeated Host header\n"},
      {"GET /headers HTTP/1.1\r\n\r\n", "missing or repeated Host header\n"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.request);
    HttpClient client(proxy.port());
    ASSERT_TRUE(client.send(c.request));
    HttpResponse r = client.readResponse();
    EXPECT_EQ(r.status, 400) << r.error;
    EXPECT_EQ(r.body, c.body);
  }
  EXPECT_EQ(protocolErrors(proxy.adminPort(), "bad_host"), 4);
  // An HTTP/1.0 request may lack Host; an absolute-form target agreeing with Host goes on in
  // origin form.
  HttpClient client(proxy.port());
  ASSERT_TRUE(client.send("GET /headers HTTP/1.0\r\n\r\n"));
  EXPECT_EQ(client.readResponse().status, 200);
  HttpClient abs(proxy.port());
  ASSERT_TRUE(abs.send("GET http://A.example/x/../headers HTTP/1.1\r\nHost: a.example\r\n\r\n"));
  HttpResponse r = abs.readResponse();
  EXPECT_EQ(r.status, 200) << r.error;
  EXPECT_EQ(receivedLine(r), "GET /headers HTTP/1.1");
}

TEST(RequestTarget, H2cUpgradeIsNeverForwarded) {
  ProxyUnderTest proxy;
  HttpClient client(proxy.port());
  HttpResponse r = client.request("GET", "/headers",
                                  {{"Connection", "Upgrade, HTTP2-Settings"},
                                   {"Upgrade", "h2c"},
                                   {"HTTP2-Settings", "AAMAAABkAARAAAAAAAIAAAAA"}});
  ASSERT_EQ(r.status, 200) << r.error;  // answered as a plain request
  EXPECT_EQ(r.body.find("upgrade"), std::string::npos) << r.body;
  EXPECT_EQ(r.body.find("http2-settings"), std::string::npos) << r.body;
  // An unlisted protocol is taken off the same way; the connection serves the next request.
  r = client.request("GET", "/headers", {{"Connection", "Upgrade"}, {"Upgrade", "foo/1"}});
  ASSERT_EQ(r.status, 200) << r.error;
  EXPECT_EQ(r.body.find("foo/1"), std::string::npos) << r.body;
  EXPECT_EQ(client.request("GET", "/").status, 200);
}

TEST(RequestTarget, ConnectIsRefusedWith405) {
  ProxyUnderTest proxy;
  HttpClient client(proxy.port());
  ASSERT_TRUE(client.send("CONNECT a.example:443 HTTP/1.1\r\nHost: a.example:443\r\n\r\n"));
  HttpResponse r = client.readResponse();
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.body, "CONNECT is not allowed\n");
  EXPECT_EQ(protocolErrors(proxy.adminPort(), "connect_refused"), 1);
}

TEST(RequestTarget, Http2PathAndAuthorityFollowTheSameRules) {
  ProxyUnderTest proxy;
  int code = -1;
  std::string body = h2::curlH2({"--path-as-is"}, proxy.url("/public/%2e%2e/headers"), &code);
  ASSERT_EQ(code, 0);
  EXPECT_EQ(body.rfind("GET /headers HTTP/1.1\n", 0), 0u) << body;
  std::string out = h2::curlH2({"--path-as-is", "-D", "-"}, proxy.url("/../headers"), &code);
  EXPECT_EQ(out.rfind("HTTP/2 400", 0), 0u) << out;
  EXPECT_NE(out.find("request path climbs above the root"), std::string::npos) << out;
  // curl sends a Host header as :authority: userinfo in it is refused as in HTTP/1.
  out = h2::curlH2({"-D", "-", "-H", "host: user@a.example"}, proxy.url("/headers"), &code);
  EXPECT_EQ(out.rfind("HTTP/2 400", 0), 0u) << out;
  EXPECT_NE(out.find("userinfo in Host"), std::string::npos) << out;
}

// What curl will not send: host beside a different :authority, two host fields, CONNECT, a
// fragment in :path; each stream is refused on its own and the connection goes on.
TEST(RequestTarget, Http2HeadsThatDisagreeAreRefusedStreamByStream) {
  ProxyUnderTest proxy;
  std::string script = std::string(REMORA_SOURCE_DIR) + "/test/integration/h2/h2_sequence.py";
  bool ok = false;
  std::string out =
      h2::run({"/usr/bin/python3", script, std::to_string(proxy.port()), "heads"}, &ok);
  ASSERT_TRUE(ok) << out;
  EXPECT_NE(out.find("=== 400\nHost and :authority disagree\n=== 200\nGET /headers HTTP/1.1\n"),
            std::string::npos)
      << out;
  // Two host fields: nghttp2 itself resets the stream (PROTOCOL_ERROR), so no status ("?").
  EXPECT_NE(out.find("=== ?\n=== 405\nCONNECT is not allowed\n"
                     "=== 200\nGET /headers HTTP/1.1\n"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("=== 400\nfragment in request target\n"), std::string::npos) << out;
  EXPECT_EQ(protocolErrors(proxy.adminPort(), "bad_host"), 1);
}

}  // namespace
}  // namespace remora::test
