// Downstream HTTP/2 abuse through the real binary, driven by the raw frame client
// (h2_frames.py): each flood ends the offending connection with the right GOAWAY code and bumps
// its remora_protocol_errors_total kind, while a well-behaved connection opened before it is
// still served afterwards.

#include <gtest/gtest.h>

#include <string>

#include "common/harness.h"
#include "integration/h2/h2_tools.h"

namespace remora::test {
namespace {

using namespace remora::test::h2;

struct Flood {
  const char* mode;
  int count;
  const char* verdict;  // the client's one-line result
  const char* kind;     // the protocol error kind counted
};

class H2Floods : public ::testing::TestWithParam<Flood> {};

TEST_P(H2Floods, EndTheOffendingConnectionOnly) {
  const Flood& f = GetParam();
  ProxySpec spec;
  // Small budgets so each flood is quick to send; the defaults are documented in
  // docs/configuration.md.
  spec.listener_yaml =
      "http2:\n  max_resets: 50\n  max_settings_frames: 20\n  max_ping_frames: 20\n"
      "  max_empty_data_frames: 20\n  max_continuation_frames: 8\n  flood_window: 10s";
  ProxyUnderTest proxy(spec);
  HttpClient bystander(proxy.port());  // an HTTP/1.1 keep-alive connection opened before
  ASSERT_EQ(bystander.request("GET", "/").status, 200);

  EXPECT_EQ(frames(proxy.port(), f.mode, f.count).rfind(f.verdict, 0), 0u)
      << frames(proxy.port(), f.mode, f.count);
  std::string kind = std::string("kind=\"") + f.kind + "\"";
  EXPECT_GE(scrapeMetric(proxy.adminPort(), "remora_protocol_errors_total", {kind}), 1);

  EXPECT_EQ(bystander.request("GET", "/").status, 200);
  EXPECT_EQ(frames(proxy.port(), "ok", 1), "RESPONSE");  // a new HTTP/2 connection too
}

INSTANTIATE_TEST_SUITE_P(
    Kinds, H2Floods,
    ::testing::Values(Flood{"rapid_reset", 200, "GOAWAY ENHANCE_YOUR_CALM", "h2_rapid_reset"},
                      Flood{"continuation", 100, "GOAWAY ENHANCE_YOUR_CALM",
                            "h2_continuation_flood"},
                      Flood{"settings", 100, "GOAWAY ENHANCE_YOUR_CALM", "h2_settings_flood"},
                      Flood{"ping", 100, "GOAWAY ENHANCE_YOUR_CALM", "h2_ping_flood"},
                      Flood{"empty_data", 100, "GOAWAY ENHANCE_YOUR_CALM", "h2_empty_data_flood"},
                      Flood{"window_overflow", 1, "GOAWAY FLOW_CONTROL_ERROR", "h2_flow_control"}),
    [](const ::testing::TestParamInfo<Flood>& info) { return std::string(info.param.mode); });

// Within the budgets nothing happens: the same frames in legitimate numbers are served.
TEST(H2FloodBudgets, TrafficUnderTheBudgetsIsServed) {
  ProxyUnderTest proxy;
  for (const char* mode : {"settings", "ping", "empty_data"})
    EXPECT_EQ(frames(proxy.port(), mode, 10, 1), "TIMEOUT") << mode;  // no GOAWAY, still open
  EXPECT_EQ(scrapeMetric(proxy.adminPort(), "remora_protocol_errors_total"), 0);
}

// A client that sends PINGs without reading the ACKs: once the socket is full, the ACKs queue
// in nghttp2 until its outbound limit (1000) ends the connection, with memory bounded.
TEST(H2FloodBudgets, PingsWhoseAcksAreNeverReadEndTheConnection) {
  ProxySpec spec;
  spec.listener_yaml = "http2:\n  max_ping_frames: 1000000";  // only nghttp2's limit applies
  ProxyUnderTest proxy(spec);
  RssSampler rss(proxy.remora().process().pid());
  std::string out = frames(proxy.port(), "ping", 400000);  // sent in full before reading
  rss.stop();
  EXPECT_EQ(out.rfind("GOAWAY ENHANCE_YOUR_CALM", 0), 0u) << out;
  EXPECT_EQ(scrapeMetric(proxy.adminPort(), "remora_protocol_errors_total",
                         {"kind=\"h2_outbound_flood\""}),
            1);
  EXPECT_LT(rss.peakBytes(), 64ull << 20);
}

// http2.mode: off — the preface is not looked for; HTTP/1 is served as before.
TEST(H2FloodBudgets, ModeOffServesHttp1Only) {
  ProxySpec spec;
  spec.listener_yaml = "http2:\n  mode: off";
  ProxyUnderTest proxy(spec);
  int code = -1;
  curlH2({"-o", "/dev/null"}, proxy.url("/"), &code);
  EXPECT_NE(code, 0);
  EXPECT_EQ(curl({"-s", "-o", "/dev/null", "-w", "%{http_code}", proxy.url("/")}), "200");
}

// A header block never finished (slowloris on HTTP/2) does not hold the connection past the
// idle timeout: GOAWAY, then close.
TEST(H2FloodBudgets, AnUnfinishedHeaderBlockMeetsTheIdleTimeout) {
  ProxySpec spec;
  spec.listener_yaml = "timeouts:\n  idle: 300ms";
  ProxyUnderTest proxy(spec);
  std::string out = frames(proxy.port(), "continuation", 1, 3);
  EXPECT_EQ(out.rfind("GOAWAY NO_ERROR", 0), 0u) << out;
}

// The header limits apply to HTTP/2 as to HTTP/1: over them, 431 on that stream.
TEST(H2FloodBudgets, OversizedHeadersGet431) {
  ProxySpec spec;
  spec.listener_yaml = "limits:\n  max_request_headers_bytes: 2048";
  ProxyUnderTest proxy(spec);
  int code = -1;
  std::string out =
      curlH2({"-o", "/dev/null", "-w", "%{http_code}", "-H", "x-big: " + std::string(4000, 'b')},
             proxy.url("/"), &code);
  EXPECT_EQ(out, "431");
  EXPECT_EQ(scrapeMetric(proxy.adminPort(), "remora_protocol_errors_total",
                         {"kind=\"headers_too_large\""}),
            1);
  EXPECT_EQ(curlH2({"-o", "/dev/null", "-w", "%{http_code}"}, proxy.url("/"), &code), "200");
}

}  // namespace
}  // namespace remora::test
