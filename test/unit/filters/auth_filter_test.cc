// The auth plugin as the kernel loads it: build/filters/auth.so, dlopened by the in-process test
// host and driven through the C ABI. Tokens are minted here with keys generated for the test.

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <chrono>
#include <fstream>

#include "auth/api_keys.h"
#include "auth/encoding.h"
#include "common/filter_test_host.h"
#include "common/jwt_test_signer.h"
#include "common/temp_dir.h"

namespace remora::test {
namespace {

using nlohmann::json;

std::string sha256Hex(std::string_view key) {
  auth::Sha256Digest d = auth::sha256(key);
  return auth::toHex(std::string_view(reinterpret_cast<const char*>(d.data()), d.size()));
}

class AuthFilterTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { rsa_ = generateRsaKey().release(); }
  static void TearDownTestSuite() { EVP_PKEY_free(rsa_); }

  void SetUp() override {
    ASSERT_TRUE(host_.ok()) << host_.error();
    host_.addCluster("authz", {"127.0.0.1:9000"});
    std::ofstream(dir_.file("jwks.json")) << R"({"keys":[)" << publicJwk(rsa_, "k1") << "]}";
  }

  // The config every test starts from; `ext` replaces the ext_authz block.
  json baseConfig(json ext = json::object()) {
    json c = json::parse(R"({
      "jwt": {"issuers": ["https://issuer.test"], "audiences": ["api"]},
      "api_key": {"keys": []},
      "ext_authz": {"cluster": "authz", "path": "/check", "timeout": "200ms",
                    "forward_headers": ["authorization"], "upstream_headers": ["x-user-id"],
                    "principal_header": "x-user-id"},
      "rules": [
        {"prefix": "/public", "require": "none"},
        {"prefix": "/admin", "require": ["jwt"], "scopes": ["admin"]},
        {"prefix": "/keys", "require": ["api_key"]},
        {"prefix": "/ext", "require": ["ext_authz"]}
      ],
      "default": {"require": ["jwt"]}
    })");
    c["jwt"]["keys"] = json::array({{{"jwks_file", dir_.file("jwks.json")}}});
    c["api_key"]["keys"] = json::array({{{"name", "ci-bot"}, {"sha256", sha256Hex("k-ci")}}});
    for (auto& [k, v] : ext.items()) c["ext_authz"][k] = v;
    return c;
  }

  void load(json config) {
    std::string error;
    config_ = host_.newConfig(config.dump(), &error);
    ASSERT_NE(config_, nullptr) << error;
  }

  std::unique_ptr<TestStream> request(std::string path, HeaderPairs headers = {}) {
    auto s = host_.newStream(*config_);
    s->path = std::move(path);
    for (const auto& [n, v] : headers) s->request_headers.add(n, v);
    return s;
  }

  std::string token(json extra = json::object()) {
    int64_t now = static_cast<int64_t>(host_.nowUnixUs() / 1'000'000);
    json c = {{"sub", "alice"}, {"iss", "https://issuer.test"}, {"aud", "api"}, {"exp", now + 60}};
    for (auto& [k, v] : extra.items()) c[k] = v;
    return "Bearer " + signRs256(R"({"alg":"RS256","kid":"k1"})", c.dump(), rsa_);
  }

  static inline EVP_PKEY* rsa_ = nullptr;
  TempDir dir_;
  FilterTestHost host_{FilterTestHost::pluginPath("auth")};
  std::unique_ptr<PluginConfig> config_;
};

TEST_F(AuthFilterTest, DescriptorAndMetrics) {
  EXPECT_STREQ(host_.descriptor().name, "auth");
  EXPECT_NE(host_.descriptor().on_request_headers, nullptr);
  EXPECT_EQ(host_.descriptor().on_response_headers, nullptr);
  load(baseConfig());
  EXPECT_EQ(host_.metric("auth_allowed_total")->label, "method");
  EXPECT_EQ(host_.metric("auth_denied_total")->label, "reason");
}

TEST_F(AuthFilterTest, ConfigRejectionIsReportedWithItsPath) {
  json c = baseConfig();
  c["rules"][1]["require"] = json::array({"oauth"});
  std::string error;
  EXPECT_EQ(host_.newConfig(c.dump(), &error), nullptr);
  EXPECT_EQ(error, "rules[1].require[0]: must be one of jwt, api_key, ext_authz, mtls");
  EXPECT_EQ(host_.newConfig("", &error), nullptr);
  EXPECT_EQ(error,
            "config: needs at least one of jwt, api_key, ext_authz, or a default such as "
            "{\"require\": [\"mtls\"]}");
}

TEST_F(AuthFilterTest, MissingTokenIs401WithBearerChallenge) {
  load(baseConfig());
  auto s = request("/orders");
  EXPECT_EQ(s->requestHeaders(), REMORA_REPLIED);
  ASSERT_TRUE(s->local_reply);
  EXPECT_EQ(s->local_reply->status, 401);
  EXPECT_EQ(s->local_reply->header("www-authenticate"), "Bearer realm=\"remora\"");
  EXPECT_EQ(s->local_reply->header("content-type"), "application/json");
  EXPECT_EQ(s->metadata.count("principal"), 0u);
  EXPECT_EQ(host_.metricValue("auth_denied_total", "missing_credentials"), 1);
}

TEST_F(AuthFilterTest, ValidTokenContinuesAndLeavesThePrincipal) {
  load(baseConfig());
  auto s = request("/orders", {{"authorization", token()}});
  EXPECT_EQ(s->requestHeaders(), REMORA_CONTINUE);
  EXPECT_FALSE(s->local_reply);
  EXPECT_EQ(s->metadata["principal"], "alice");
  EXPECT_EQ(host_.metricValue("auth_allowed_total", "jwt"), 1);
}

TEST_F(AuthFilterTest, TokenExpiresWithTheHostClock) {
  load(baseConfig());
  std::string t = token();  // exp = now + 60, skew 60 s
  EXPECT_EQ(request("/orders", {{"authorization", t}})->requestHeaders(), REMORA_CONTINUE);
  host_.advance(std::chrono::seconds(121));
  auto s = request("/orders", {{"authorization", t}});
  EXPECT_EQ(s->requestHeaders(), REMORA_REPLIED);
  EXPECT_EQ(s->local_reply->status, 401);
  EXPECT_EQ(
      s->local_reply->header("www-authenticate"),
      "Bearer realm=\"remora\", error=\"invalid_token\", error_description=\"token expired\"");
  EXPECT_EQ(host_.metricValue("auth_denied_total", "jwt_expired"), 1);
}

TEST_F(AuthFilterTest, CachedTokenStillMeetsEachRouteAndEachConfig) {
  load(baseConfig());
  std::string t = token();  // no admin scope
  EXPECT_EQ(request("/orders", {{"authorization", t}})->requestHeaders(), REMORA_CONTINUE);
  EXPECT_EQ(request("/orders", {{"authorization", t}})->requestHeaders(), REMORA_CONTINUE);
  // Known to this worker's cache, but /admin needs a scope the token lacks.
  auto admin = request("/admin/x", {{"authorization", t}});
  EXPECT_EQ(admin->requestHeaders(), REMORA_REPLIED);
  EXPECT_EQ(admin->local_reply->status, 403);
  // A pushed config accepting another audience only: nothing verified under the old one counts.
  json pushed = baseConfig();
  pushed["jwt"]["audiences"] = json::array({"other-api"});
  load(pushed);
  auto s = request("/orders", {{"authorization", t}});
  EXPECT_EQ(s->requestHeaders(), REMORA_REPLIED);
  EXPECT_EQ(s->local_reply->status, 401);
  EXPECT_EQ(host_.metricValue("auth_denied_total", "jwt_bad_audience"), 1);
}

TEST_F(AuthFilterTest, WrongAudienceIs401InvalidToken) {
  load(baseConfig());
  auto s = request("/orders", {{"authorization", token({{"aud", "billing"}})}});
  EXPECT_EQ(s->requestHeaders(), REMORA_REPLIED);
  EXPECT_EQ(s->local_reply->status, 401);
  EXPECT_NE(s->local_reply->header("www-authenticate")->find("error=\"invalid_token\""),
            std::string::npos);
  EXPECT_EQ(host_.metricValue("auth_denied_total", "jwt_bad_audience"), 1);
}

TEST_F(AuthFilterTest, MissingScopeIs403) {
  load(baseConfig());
  auto s = request("/admin/users", {{"authorization", token({{"scope", "read"}})}});
  EXPECT_EQ(s->requestHeaders(), REMORA_REPLIED);
  EXPECT_EQ(s->local_reply->status, 403);
  EXPECT_EQ(host_.metricValue("auth_denied_total", "insufficient_scope"), 1);
  // The normalized path is what rules match: "//admin" is still /admin.
  auto sneaky = request("//public/../admin/users", {{"authorization", token({{"scope", "read"}})}});
  EXPECT_EQ(sneaky->requestHeaders(), REMORA_REPLIED);
  EXPECT_EQ(sneaky->local_reply->status, 403);
  auto ok = request("/admin/users", {{"authorization", token({{"scope", "admin read"}})}});
  EXPECT_EQ(ok->requestHeaders(), REMORA_CONTINUE);
}

TEST_F(AuthFilterTest, PublicRouteNeedsNothing) {
  load(baseConfig());
  auto s = request("/public/logo.png");
  EXPECT_EQ(s->requestHeaders(), REMORA_CONTINUE);
  EXPECT_EQ(host_.metricValue("auth_allowed_total", "none"), 1);
}

TEST_F(AuthFilterTest, ApiKeyHitAndMiss) {
  load(baseConfig());
  auto hit = request("/keys/x", {{"x-api-key", "k-ci"}});
  EXPECT_EQ(hit->requestHeaders(), REMORA_CONTINUE);
  EXPECT_EQ(hit->metadata["principal"], "ci-bot");
  auto miss = request("/keys/x", {{"x-api-key", "k-other"}});
  EXPECT_EQ(miss->requestHeaders(), REMORA_REPLIED);
  EXPECT_EQ(miss->local_reply->status, 401);
  EXPECT_EQ(miss->local_reply->header("www-authenticate"),
            "ApiKey realm=\"remora\", error=\"invalid_key\", error_description=\"unknown API "
            "key\"");
  EXPECT_EQ(host_.metricValue("auth_denied_total", "invalid_api_key"), 1);
  EXPECT_EQ(host_.metricValue("auth_allowed_total", "api_key"), 1);
}

TEST_F(AuthFilterTest, ExtAuthzAllowResumesWithItsHeaders) {
  load(baseConfig());
  auto s = request("/ext/orders?id=1",
                   {{"authorization", "Bearer opaque"}, {"x-user-id", "forged"}, {"cookie", "c"}});
  s->method = "DELETE";
  EXPECT_EQ(s->requestHeaders(), REMORA_STOP);
  // The client's own x-user-id is gone before anything else happens.
  EXPECT_FALSE(s->request_headers.has("x-user-id"));
  ASSERT_EQ(host_.callouts().size(), 1u);
  const PendingCallout& call = host_.callouts()[0];
  EXPECT_EQ(call.cluster, "authz");
  EXPECT_EQ(call.method, "GET");
  EXPECT_EQ(call.path, "/check");
  EXPECT_EQ(call.timeout_ms, 200u);
  EXPECT_EQ(call.headers, (HeaderPairs{{"authorization", "Bearer opaque"},
                                       {"x-forwarded-method", "DELETE"},
                                       {"x-forwarded-uri", "/ext/orders?id=1"},
                                       {"x-forwarded-host", "localhost"}}));
  host_.completeCallout(0, 200, {{"X-User-Id", "u-7"}, {"x-internal", "no"}});
  EXPECT_EQ(s->resume_count, 1);
  EXPECT_FALSE(s->local_reply);
  EXPECT_EQ(s->request_headers.get("x-user-id"), "u-7");
  EXPECT_FALSE(s->request_headers.has("x-internal"));
  EXPECT_EQ(s->metadata["principal"], "u-7");
  EXPECT_EQ(host_.metricValue("auth_allowed_total", "ext_authz"), 1);
}

TEST_F(AuthFilterTest, ExtAuthzDenyRepliesWithItsStatus) {
  load(baseConfig());
  auto s = request("/ext/orders");
  EXPECT_EQ(s->requestHeaders(), REMORA_STOP);
  host_.completeCallout(0, 403, {{"content-type", "text/plain"}}, "not yours\n");
  EXPECT_EQ(s->resume_count, 0);
  ASSERT_TRUE(s->local_reply);
  EXPECT_EQ(s->local_reply->status, 403);
  EXPECT_EQ(s->local_reply->body, "not yours\n");
  EXPECT_EQ(s->local_reply->header("content-type"), "text/plain");
  EXPECT_EQ(host_.metricValue("auth_denied_total", "ext_authz_denied"), 1);
}

TEST_F(AuthFilterTest, ExtAuthzTimeoutFailsClosedByDefault) {
  load(baseConfig());
  auto s = request("/ext/orders");
  EXPECT_EQ(s->requestHeaders(), REMORA_STOP);
  host_.completeCallout(0, 0, {}, "timeout");
  ASSERT_TRUE(s->local_reply);
  EXPECT_EQ(s->local_reply->status, 503);
  EXPECT_EQ(host_.metricValue("auth_denied_total", "ext_authz_error"), 1);
}

TEST_F(AuthFilterTest, ExtAuthzErrorFailsOpenWhenConfigured) {
  load(baseConfig({{"failure_mode", "open"}}));
  auto s = request("/ext/orders");
  EXPECT_EQ(s->requestHeaders(), REMORA_STOP);
  host_.completeCallout(0, 500, {}, "boom");
  EXPECT_EQ(s->resume_count, 1);
  EXPECT_FALSE(s->local_reply);
  EXPECT_EQ(host_.metricValue("auth_allowed_total", "ext_authz_fail_open"), 1);
}

TEST_F(AuthFilterTest, ExtAuthzToAnUnknownClusterFailsAtOnce) {
  load(baseConfig({{"cluster", "nowhere"}}));
  auto s = request("/ext/orders");
  EXPECT_EQ(s->requestHeaders(), REMORA_REPLIED);
  EXPECT_EQ(s->local_reply->status, 503);
  EXPECT_TRUE(host_.callouts().empty());
}

TEST_F(AuthFilterTest, StreamEndingBeforeTheAnswerCancelsTheCallout) {
  load(baseConfig());
  {
    auto s = request("/ext/orders");
    EXPECT_EQ(s->requestHeaders(), REMORA_STOP);
    EXPECT_EQ(host_.callouts().size(), 1u);
  }
  EXPECT_TRUE(host_.callouts().empty());
  EXPECT_EQ(host_.metricValue("auth_denied_total", "ext_authz_error"), 0);
}

}  // namespace
}  // namespace remora::test
