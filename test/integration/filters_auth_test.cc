// The auth plugin (build/filters/auth.so) in the real binary: JWTs signed here (HS256 with a
// shared secret, RS256 with a key generated for the test), API keys stored as digests, and
// ext_authz against a real authorization service over TCP (HTTP/1.1 and HTTP/2). The access log
// shows the principal.

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <chrono>
#include <thread>

#include "common/filter_env.h"
#include "common/h2_test_server.h"
#include "common/harness.h"
#include "common/jwt_test_signer.h"
#include "common/stub_server.h"

namespace remora::test {
namespace {

using json = nlohmann::json;

constexpr char kSecret[] = "an-hs256-secret-of-at-least-32-bytes!";

std::string sha256Hex(const std::string& text) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(text.data(), text.size(), digest, &len, EVP_sha256(), nullptr);
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < len; ++i) {
    out.push_back(kHex[digest[i] >> 4]);
    out.push_back(kHex[digest[i] & 15]);
  }
  return out;
}

int64_t nowSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The authorization service: "Bearer let-me-in" is carol, "Bearer sleepy" takes 1.5 s to answer,
// anything else is refused with its own challenge and body.
StubResponse authorize(const StubRequest& r) {
  std::string auth = r.header("authorization");
  if (auth == "Bearer let-me-in")
    return {200, {{"x-user-id", "carol"}, {"x-seen-uri", r.header("x-forwarded-uri")}}, ""};
  if (auth == "Bearer sleepy") {
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    return {200, {{"x-user-id", "sleepy"}}, ""};
  }
  return {403,
          {{"www-authenticate", "Custom realm=\"authz\""}, {"content-type", "application/json"}},
          R"({"error":"forbidden by policy"})"};
}

class AuthTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { rsa_ = generateRsaKey().release(); }
  static void TearDownTestSuite() { EVP_PKEY_free(rsa_); }

  AuthTest() {
    for (const char* f : {"access_log", "auth", "router"}) plugins_.addFilter(f);
  }

  json authConfig(const std::string& authz_cluster, const std::string& failure_mode,
                  const std::string& check_path = "/check") {
    json c = {
        {"jwt",
         {{"issuers", {"https://issuer.test"}},
          {"audiences", {"api"}},
          {"keys",
           {{{"kid", "hs"}, {"secret", kSecret}}, {{"kid", "rsa"}, {"pem", publicPem(rsa_)}}}}}},
        {"api_key", {{"keys", {{{"name", "ci-bot"}, {"sha256", sha256Hex("k-ci-123")}}}}}},
        {"ext_authz",
         {{"cluster", authz_cluster},
          {"path", check_path},
          {"timeout", "500ms"},
          {"upstream_headers", {"x-user-id"}},
          {"principal_header", "x-user-id"},
          {"failure_mode", failure_mode}}},
        {"rules",
         {{{"prefix", "/public"}, {"require", "none"}},
          {{"prefix", "/keys"}, {"require", {"api_key"}}},
          {{"prefix", "/ext"}, {"require", {"ext_authz"}}}}},
        {"default", {{"require", {"jwt"}}}}};
    return c;
  }

  // `authz_yaml`: more keys of the authz cluster (e.g. "protocol: http2\n").
  void start(const std::string& authz_address, const std::string& failure_mode = "closed",
             const std::string& authz_yaml = "", const std::string& check_path = "/check") {
    json router = {{"routes", {{{"match", {{"prefix", "/"}}}, {"cluster", "app"}}}}};
    proxy_ = std::make_unique<FilterProxy>(
        plugins_,
        std::vector<FilterSpec>{{"access_log", {{"path", log_}, {"format", "json"}}},
                                {"auth", authConfig("authz", failure_mode, check_path)},
                                {"router", router}},
        std::vector<ClusterSpec>{
            {"app", {app_.address()}, ""},
            {"authz", {authz_address}, "connect_timeout: 200ms\n" + authz_yaml}});
  }

  std::string hs256(json claims, const std::string& secret = kSecret) {
    return "Bearer " +
           signHs256(R"({"alg":"HS256","typ":"JWT","kid":"hs"})", claims.dump(), secret);
  }
  std::string rs256(json claims) {
    return "Bearer " + signRs256(R"({"alg":"RS256","kid":"rsa"})", claims.dump(), rsa_);
  }
  json claims(const std::string& sub, int64_t exp_in = 300) {
    return {{"sub", sub},
            {"iss", "https://issuer.test"},
            {"aud", "api"},
            {"exp", nowSeconds() + exp_in}};
  }

  // The access log entry of the request sent with x-request-id `id`.
  json logEntry(const std::string& id) {
    json found;
    eventually([&] {
      for (const std::string& line : readLines(log_)) {
        json j = json::parse(line, nullptr, false);
        if (j.is_object() && j["request_id"] == id) {
          found = j;
          return true;
        }
      }
      return false;
    });
    return found;
  }

  static inline EVP_PKEY* rsa_ = nullptr;
  PluginDir plugins_;
  std::string log_ = plugins_.file("access.log");
  DemoUpstream app_{"app"};
  std::unique_ptr<FilterProxy> proxy_;
};

TEST_F(AuthTest, ValidJwtsPassAndTheAccessLogNamesThePrincipal) {
  StubServer authz(authorize);
  start(authz.address());

  HttpResponse hs = proxy_->get(
      "/orders", {{"authorization", hs256(claims("alice"))}, {"x-request-id", "jwt-hs"}});
  EXPECT_EQ(hs.status, 200) << hs.body;
  EXPECT_EQ(hs.header("x-upstream"), "app");
  HttpResponse rs =
      proxy_->get("/orders", {{"authorization", rs256(claims("bob"))}, {"x-request-id", "jwt-rs"}});
  EXPECT_EQ(rs.status, 200) << rs.body;

  EXPECT_EQ(logEntry("jwt-hs")["principal"], "alice");
  EXPECT_EQ(logEntry("jwt-rs")["principal"], "bob");
  EXPECT_EQ(logEntry("jwt-rs")["chain"], "access_log,auth,router");

  // A route that requires nothing records no principal.
  EXPECT_EQ(proxy_->get("/public/x", {{"x-request-id", "open"}}).status, 200);
  EXPECT_TRUE(logEntry("open")["principal"].is_null());

  std::string metrics = proxy_->metrics();
  EXPECT_EQ(findMetric(metrics, "remora_filter_auth_allowed_total", {{"method", "jwt"}}), 2)
      << metrics;
}

// CVE-2019-9901: the rule for /public must not open /orders to "/public/../orders". Auth decides
// on the normalized path, the one the upstream receives.
TEST_F(AuthTest, APublicPrefixDoesNotOpenAProtectedPathThroughDotSegments) {
  StubServer authz(authorize);
  start(authz.address());
  for (const char* path : {"/public/../orders", "/public/%2e%2e/orders", "/public/.%2E/orders"}) {
    SCOPED_TRACE(path);
    HttpResponse r = proxy_->get(path);
    EXPECT_EQ(r.status, 401) << r.body;
    EXPECT_FALSE(r.has("x-upstream"));
  }
  HttpResponse ok = proxy_->get("/public/../headers", {{"authorization", hs256(claims("alice"))}});
  EXPECT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(ok.body.rfind("GET /headers HTTP/1.1\n", 0), 0u) << ok.body;
}

TEST_F(AuthTest, MissingExpiredAndForgedTokensAre401WithAChallenge) {
  StubServer authz(authorize);
  start(authz.address());

  HttpResponse missing = proxy_->get("/orders");
  EXPECT_EQ(missing.status, 401);
  EXPECT_EQ(missing.header("www-authenticate"), "Bearer realm=\"remora\"");
  EXPECT_FALSE(missing.has("x-upstream"));

  // exp two minutes ago: beyond the default 60 s clock skew.
  HttpResponse expired = proxy_->get("/orders", {{"authorization", hs256(claims("alice", -120))}});
  EXPECT_EQ(expired.status, 401);
  EXPECT_EQ(
      expired.header("www-authenticate"),
      "Bearer realm=\"remora\", error=\"invalid_token\", error_description=\"token expired\"");
  EXPECT_EQ(expired.header("content-type"), "application/json");
  EXPECT_FALSE(expired.has("x-upstream"));

  HttpResponse forged = proxy_->get(
      "/orders",
      {{"authorization", hs256(claims("mallory"), "another-secret-of-32-bytes-or-more")}});
  EXPECT_EQ(forged.status, 401);
  EXPECT_NE(forged.header("www-authenticate").find("error=\"invalid_token\""), std::string::npos)
      << forged.header("www-authenticate");

  // An RS256 token whose payload was swapped after signing.
  std::string good = rs256(claims("bob"));
  size_t first = good.find('.');
  size_t second = good.find('.', first + 1);
  std::string tampered =
      good.substr(0, first + 1) + b64url(claims("admin").dump()) + good.substr(second);
  HttpResponse swapped = proxy_->get("/orders", {{"authorization", tampered}});
  EXPECT_EQ(swapped.status, 401);

  std::string metrics = proxy_->metrics();
  EXPECT_EQ(findMetric(metrics, "remora_filter_auth_denied_total", {{"reason", "jwt_expired"}}), 1)
      << metrics;
  EXPECT_EQ(
      findMetric(metrics, "remora_filter_auth_denied_total", {{"reason", "jwt_bad_signature"}}), 2)
      << metrics;
}

TEST_F(AuthTest, ApiKeyHitAndMiss) {
  StubServer authz(authorize);
  start(authz.address());

  HttpResponse hit =
      proxy_->get("/keys/x", {{"x-api-key", "k-ci-123"}, {"x-request-id", "key-hit"}});
  EXPECT_EQ(hit.status, 200);
  EXPECT_EQ(logEntry("key-hit")["principal"], "ci-bot");

  HttpResponse miss = proxy_->get("/keys/x", {{"x-api-key", "k-ci-124"}});
  EXPECT_EQ(miss.status, 401);
  EXPECT_EQ(
      miss.header("www-authenticate"),
      "ApiKey realm=\"remora\", error=\"invalid_key\", error_description=\"unknown API key\"");
  HttpResponse none = proxy_->get("/keys/x");
  EXPECT_EQ(none.status, 401);
  EXPECT_EQ(none.header("www-authenticate"), "ApiKey realm=\"remora\"");
  // A valid JWT is not what this route asks for.
  EXPECT_EQ(proxy_->get("/keys/x", {{"authorization", hs256(claims("alice"))}}).status, 401);
}

TEST_F(AuthTest, ExtAuthzAllowsCopiesHeadersAndDenies) {
  StubServer authz(authorize);
  start(authz.address());

  // The client's own x-user-id is dropped; the service's answer replaces it.
  HttpResponse allowed = proxy_->get("/ext/headers?q=1", {{"authorization", "Bearer let-me-in"},
                                                          {"x-user-id", "forged"},
                                                          {"x-request-id", "ext-allow"}});
  EXPECT_EQ(allowed.status, 200) << allowed.body;
  EXPECT_EQ(logEntry("ext-allow")["principal"], "carol");
  ASSERT_GE(authz.requests(), 1u);
  StubRequest check = authz.received().back();
  EXPECT_EQ(check.method, "GET");
  EXPECT_EQ(check.target, "/check");
  EXPECT_EQ(check.header("authorization"), "Bearer let-me-in");
  EXPECT_EQ(check.header("x-forwarded-uri"), "/ext/headers?q=1");
  EXPECT_EQ(check.header("x-forwarded-method"), "GET");

  HttpResponse denied = proxy_->get("/ext/x", {{"authorization", "Bearer nope"}});
  EXPECT_EQ(denied.status, 403);
  EXPECT_EQ(denied.header("www-authenticate"), "Custom realm=\"authz\"");
  EXPECT_EQ(denied.body, R"({"error":"forbidden by policy"})");
  EXPECT_FALSE(denied.has("x-upstream"));

  // Slower than the 500 ms callout timeout: failing closed answers 503.
  auto t0 = std::chrono::steady_clock::now();
  HttpResponse slow = proxy_->get("/ext/x", {{"authorization", "Bearer sleepy"}});
  EXPECT_EQ(slow.status, 503);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(1400));
}

TEST_F(AuthTest, ExtAuthzOverAnHttp2Cluster) {
  // test/tools/h2_test_server.py's /authz answers like authorize() above, over h2c.
  H2TestServer authz;
  start(authz.address(), "closed", "protocol: http2\n", "/authz");
  HttpResponse allowed =
      proxy_->get("/ext/x", {{"authorization", "Bearer let-me-in"}, {"x-request-id", "h2-allow"}});
  EXPECT_EQ(allowed.status, 200) << allowed.body;
  EXPECT_EQ(allowed.header("x-upstream"), "app");
  EXPECT_EQ(logEntry("h2-allow")["principal"], "carol");
  HttpResponse denied = proxy_->get("/ext/x", {{"authorization", "Bearer nope"}});
  EXPECT_EQ(denied.status, 403);
  EXPECT_EQ(denied.header("www-authenticate"), "Custom realm=\"authz\"");
  EXPECT_EQ(denied.body, R"({"error":"forbidden by policy"})");
  EXPECT_FALSE(denied.has("x-upstream"));
}

TEST_F(AuthTest, ExtAuthzHttp2ServiceDownFailsClosed) {
  start("127.0.0.1:" + std::to_string(freePort()), "closed", "protocol: http2\n");
  auto t0 = std::chrono::steady_clock::now();
  HttpResponse r = proxy_->get("/ext/x", {{"authorization", "Bearer let-me-in"}});
  EXPECT_EQ(r.status, 503) << r.body;
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(1000));
  EXPECT_EQ(findMetric(proxy_->metrics(), "remora_filter_auth_denied_total",
                       {{"reason", "ext_authz_error"}}),
            1);
}

TEST_F(AuthTest, ExtAuthzUpstreamHeadersReachTheApp) {
  StubServer authz(authorize);
  // Prefix rewrites turn /ext/headers and /public/headers into the demo upstream's /headers.
  json router = {
      {"routes",
       {{{"match", {{"prefix", "/ext/"}}}, {"cluster", "app"}, {"prefix_rewrite", "/"}},
        {{"match", {{"prefix", "/public/"}}}, {"cluster", "app"}, {"prefix_rewrite", "/"}},
        {{"match", {{"prefix", "/"}}}, {"cluster", "app"}}}}};
  proxy_ = std::make_unique<FilterProxy>(
      plugins_,
      std::vector<FilterSpec>{{"auth", authConfig("authz", "closed")}, {"router", router}},
      std::vector<ClusterSpec>{{"app", {app_.address()}, ""}, {"authz", {authz.address()}, ""}});
  HttpResponse r =
      proxy_->get("/ext/headers", {{"authorization", "Bearer let-me-in"}, {"x-user-id", "forged"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.body.find("x-user-id: carol"), std::string::npos) << r.body;
  EXPECT_EQ(r.body.find("forged"), std::string::npos) << r.body;
  // On a route that does not call the service, a forged x-user-id is removed too.
  HttpResponse open = proxy_->get("/public/headers", {{"x-user-id", "forged"}});
  ASSERT_EQ(open.status, 200) << open.body;
  EXPECT_EQ(open.body.find("x-user-id"), std::string::npos) << open.body;
}

TEST_F(AuthTest, ExtAuthzHoldsTheRequestBodyWhileTheCalloutIsInFlight) {
  StubServer authz(authorize);
  json router = {{"routes",
                  {{{"match", {{"prefix", "/ext/"}}}, {"cluster", "app"}, {"prefix_rewrite", "/"}},
                   {{"match", {{"prefix", "/"}}}, {"cluster", "app"}}}}};
  proxy_ = std::make_unique<FilterProxy>(
      plugins_,
      std::vector<FilterSpec>{{"auth", authConfig("authz", "closed")}, {"router", router}},
      std::vector<ClusterSpec>{{"app", {app_.address()}, ""}, {"authz", {authz.address()}, ""}});
  // Larger than the listener's buffer watermark (1 MiB), so reading pauses while paused.
  const size_t kBody = 3 * 1024 * 1024;
  HttpResponse r = proxy_->request("POST", "/ext/count", {{"authorization", "Bearer let-me-in"}},
                                   std::string(kBody, 'x'));
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, std::to_string(kBody) + "\n");
  HttpResponse denied = proxy_->request("POST", "/ext/count", {{"authorization", "Bearer nope"}},
                                        std::string(1000, 'x'));
  EXPECT_EQ(denied.status, 403);
}

TEST_F(AuthTest, ClientGoneDuringTheCalloutLeavesTheProxyServing) {
  StubServer authz(authorize);
  start(authz.address());
  for (int i = 0; i < 5; ++i) {
    HttpClient client(proxy_->port());
    ASSERT_TRUE(client.send(requestText("GET", "/ext/x", {{"authorization", "Bearer sleepy"}})));
    // Gone while the service is still thinking; the kernel cancels the call.
    ASSERT_TRUE(eventually([&] { return authz.received().size() == size_t(i) + 1; }));
    client.close();
  }
  // The callouts' answers arrive for streams that no longer exist.
  std::this_thread::sleep_for(std::chrono::milliseconds(700));
  HttpResponse r = proxy_->get("/ext/x", {{"authorization", "Bearer let-me-in"}});
  EXPECT_EQ(r.status, 200);
  EXPECT_TRUE(proxy_->remora().process().running());
}

TEST_F(AuthTest, ExtAuthzServiceDownFailsClosed) {
  start("127.0.0.1:" + std::to_string(freePort()), "closed");  // nothing listens there
  HttpResponse r = proxy_->get("/ext/x", {{"authorization", "Bearer let-me-in"}});
  EXPECT_EQ(r.status, 503) << r.body;
  EXPECT_FALSE(r.has("x-upstream"));
  std::string metrics = proxy_->metrics();
  EXPECT_EQ(findMetric(metrics, "remora_filter_auth_denied_total", {{"reason", "ext_authz_error"}}),
            1)
      << metrics;
}

TEST_F(AuthTest, ExtAuthzServiceDownFailsOpen) {
  start("127.0.0.1:" + std::to_string(freePort()), "open");
  HttpResponse r = proxy_->get("/ext/x", {{"authorization", "Bearer let-me-in"}});
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.header("x-upstream"), "app");
  std::string metrics = proxy_->metrics();
  EXPECT_EQ(
      findMetric(metrics, "remora_filter_auth_allowed_total", {{"method", "ext_authz_fail_open"}}),
      1)
      << metrics;
}

}  // namespace
}  // namespace remora::test
