// The auth decision without a host: requirements, challenges, authorization and the external
// service's answers, over a fake request.

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <map>

#include "auth/authenticator.h"
#include "auth/encoding.h"
#include "auth/ext_authz.h"
#include "common/jwt_test_signer.h"

namespace remora::auth {
namespace {

using nlohmann::json;

constexpr int64_t kNow = 1'700'000'000;
const std::string kSecret(40, 's');

std::string sha256Hex(std::string_view key) {
  Sha256Digest d = sha256(key);
  return toHex(std::string_view(reinterpret_cast<const char*>(d.data()), d.size()));
}

std::string token(json extra = json::object()) {
  json c = {{"sub", "alice"}, {"exp", kNow + 60}};
  for (auto& [k, v] : extra.items()) c[k] = v;
  return test::signHs256(R"({"alg":"HS256"})", c.dump(), kSecret);
}

class FakeRequest : public RequestView {
 public:
  std::map<std::string, std::string> headers;
  std::string target_ = "/";
  std::optional<std::string_view> header(std::string_view name) const override {
    auto it = headers.find(std::string(name));
    if (it == headers.end()) return std::nullopt;
    return std::string_view(it->second);
  }
  std::string_view method() const override { return "POST"; }
  std::string_view target() const override { return target_; }
  std::string_view authority() const override { return "svc.test"; }
  std::optional<std::string_view> peerIdentity() const override {
    if (peer_.empty()) return std::nullopt;
    return std::string_view(peer_);
  }
  std::string peer_;
};

class AuthenticatorTest : public ::testing::Test {
 protected:
  void load(json rules, json extra = json::object()) {
    json j = {
        {"jwt", {{"keys", json::array({{{"secret", kSecret}}})}, {"query_param", "access_token"}}},
        {"api_key",
         {{"keys", json::array({{{"name", "ci-bot"}, {"sha256", sha256Hex("k-ci")}},
                                {{"name", "ops"}, {"sha256", sha256Hex("k-ops")}}})}}},
        {"ext_authz",
         {{"cluster", "authz"},
          {"path", "/check"},
          {"forward_headers", {"authorization", "cookie"}},
          {"upstream_headers", {"x-user-id", "x-tenant"}},
          {"principal_header", "x-user-id"}}},
        {"rules", rules}};
    for (auto& [k, v] : extra.items()) j[k] = v;
    auto r = parseAuthConfig(j);
    ASSERT_TRUE(r.ok()) << r.error();
    config_ = *r;
  }

  Decision run(const std::string& path) {
    request_.target_ = path;
    pending_ = CalloutState{};
    return authenticate(*config_, config_->match(path, request_.method()), request_, kNow,
                        &pending_);
  }

  static std::vector<std::string> challenges(const Decision& d) {
    std::vector<std::string> out;
    for (const auto& [n, v] : d.reply_headers) {
      if (n == "www-authenticate") out.push_back(v);
    }
    return out;
  }

  AuthConfigPtr config_;
  FakeRequest request_;
  CalloutState pending_;
};

TEST_F(AuthenticatorTest, MtlsIdentityIsThePrincipalAndRulesNameWhoMayCall) {
  load(json::parse(R"([{"prefix": "/refunds", "methods": ["POST"], "require": ["mtls"],
                        "principals": ["spiffe://td/ns/shop/sa/orders"]}])"));
  Decision d = run("/refunds");  // no client certificate
  EXPECT_EQ(d.kind, Decision::Kind::kDeny);
  EXPECT_EQ(d.status, 401);
  EXPECT_EQ(d.reason, DenyReason::kMissingCredentials);
  EXPECT_TRUE(challenges(d).empty());
  request_.peer_ = "spiffe://td/ns/shop/sa/cart";
  d = run("/refunds");
  EXPECT_EQ(d.status, 403);
  EXPECT_EQ(d.reason, DenyReason::kPrincipalNotAllowed);
  request_.peer_ = "spiffe://td/ns/shop/sa/orders";
  d = run("/refunds");
  EXPECT_EQ(d.kind, Decision::Kind::kAllow);
  EXPECT_EQ(d.allowed_by, AllowReason::kMtls);
  EXPECT_EQ(d.principal, "spiffe://td/ns/shop/sa/orders");
}

TEST_F(AuthenticatorTest, NoneLetsEverythingThrough) {
  load(json::parse(R"([{"prefix": "/public", "require": "none"}])"));
  Decision d = run("/public/x");
  EXPECT_EQ(d.kind, Decision::Kind::kAllow);
  EXPECT_EQ(d.allowed_by, AllowReason::kNoneRequired);
  EXPECT_EQ(d.principal, "");
}

TEST_F(AuthenticatorTest, MissingBearerIsA401WithoutErrorCode) {
  load(json::parse(R"([{"prefix": "/", "require": ["jwt"]}])"));
  Decision d = run("/x");
  EXPECT_EQ(d.kind, Decision::Kind::kDeny);
  EXPECT_EQ(d.status, 401);
  EXPECT_EQ(d.reason, DenyReason::kMissingCredentials);
  EXPECT_EQ(challenges(d), std::vector<std::string>{"Bearer realm=\"remora\""});
}

TEST_F(AuthenticatorTest, InvalidTokenCarriesRfc6750Error) {
  load(json::parse(R"([{"prefix": "/", "require": ["jwt"]}])"));
  request_.headers["authorization"] = "Bearer " + token({{"exp", kNow - 3600}});
  Decision d = run("/x");
  EXPECT_EQ(d.status, 401);
  EXPECT_EQ(d.reason, DenyReason::kJwtExpired);
  EXPECT_EQ(challenges(d),
            std::vector<std::string>{
                "Bearer realm=\"remora\", error=\"invalid_token\", error_description=\"token "
                "expired\""});
  EXPECT_EQ(json::parse(d.body)["error"], "invalid_token");
}

TEST_F(AuthenticatorTest, ValidTokenFromHeaderOrQuery) {
  load(json::parse(R"([{"prefix": "/", "require": ["jwt"]}])"));
  request_.headers["authorization"] = "bearer " + token();  // the scheme is case-insensitive
  Decision d = run("/x");
  EXPECT_EQ(d.kind, Decision::Kind::kAllow);
  EXPECT_EQ(d.allowed_by, AllowReason::kJwt);
  EXPECT_EQ(d.principal, "alice");
  request_.headers.clear();
  d = run("/x?a=1&access_token=" + token({{"sub", "bob"}}));
  EXPECT_EQ(d.principal, "bob");
  // Another scheme in the header is not a bearer token: the query is still read.
  request_.headers["authorization"] = "Basic YTpi";
  d = run("/x?access_token=" + token());
  EXPECT_EQ(d.kind, Decision::Kind::kAllow);
  d = run("/x");
  EXPECT_EQ(d.reason, DenyReason::kMissingCredentials);
}

TEST_F(AuthenticatorTest, ApiKeyHitMissAndChallenge) {
  load(json::parse(R"([{"prefix": "/", "require": ["api_key"]}])"));
  Decision d = run("/x");
  EXPECT_EQ(challenges(d), std::vector<std::string>{"ApiKey realm=\"remora\""});
  request_.headers["x-api-key"] = "k-wrong";
  d = run("/x");
  EXPECT_EQ(d.status, 401);
  EXPECT_EQ(d.reason, DenyReason::kInvalidApiKey);
  EXPECT_EQ(challenges(d),
            std::vector<std::string>{"ApiKey realm=\"remora\", error=\"invalid_key\", "
                                     "error_description=\"unknown API key\""});
  request_.headers["x-api-key"] = "k-ops";
  d = run("/x");
  EXPECT_EQ(d.kind, Decision::Kind::kAllow);
  EXPECT_EQ(d.allowed_by, AllowReason::kApiKey);
  EXPECT_EQ(d.principal, "ops");
}

TEST_F(AuthenticatorTest, AnyOfTakesTheFirstValidAndChallengesForEach) {
  load(json::parse(R"([{"prefix": "/", "require": {"any_of": ["jwt", "api_key"]}}])"));
  Decision d = run("/x");
  EXPECT_EQ(challenges(d),
            (std::vector<std::string>{"Bearer realm=\"remora\"", "ApiKey realm=\"remora\""}));
  request_.headers["authorization"] = "Bearer garbage";
  request_.headers["x-api-key"] = "k-ci";
  d = run("/x");
  EXPECT_EQ(d.kind, Decision::Kind::kAllow);
  EXPECT_EQ(d.principal, "ci-bot");
  request_.headers["x-api-key"] = "nope";
  d = run("/x");
  EXPECT_EQ(d.reason, DenyReason::kJwtMalformed);
}

TEST_F(AuthenticatorTest, AllOfNeedsEveryMethod) {
  load(json::parse(R"([{"prefix": "/", "require": ["api_key", "jwt"]}])"));
  request_.headers["authorization"] = "Bearer " + token();
  Decision d = run("/x");
  EXPECT_EQ(d.reason, DenyReason::kMissingCredentials);
  EXPECT_EQ(challenges(d), std::vector<std::string>{"ApiKey realm=\"remora\""});
  request_.headers["x-api-key"] = "k-ci";
  d = run("/x");
  EXPECT_EQ(d.kind, Decision::Kind::kAllow);
  EXPECT_EQ(d.principal, "ci-bot");  // the first listed method names the principal
}

TEST_F(AuthenticatorTest, ValidButNotAllowedIs403) {
  load(json::parse(R"([
    {"prefix": "/admin", "require": ["jwt"], "scopes": ["admin"]},
    {"prefix": "/ops", "require": {"any_of": ["jwt", "api_key"]}, "principals": ["ops"]}
  ])"));
  request_.headers["authorization"] = "Bearer " + token({{"scope", "read write"}});
  Decision d = run("/admin/users");
  EXPECT_EQ(d.status, 403);
  EXPECT_EQ(d.reason, DenyReason::kInsufficientScope);
  EXPECT_EQ(challenges(d),
            std::vector<std::string>{"Bearer realm=\"remora\", error=\"insufficient_scope\", "
                                     "error_description=\"token lacks a required scope\", "
                                     "scope=\"admin\""});
  request_.headers["authorization"] = "Bearer " + token({{"scope", "read admin"}});
  EXPECT_EQ(run("/admin/users").kind, Decision::Kind::kAllow);

  d = run("/ops/x");  // alice is authenticated but not listed
  EXPECT_EQ(d.status, 403);
  EXPECT_EQ(d.reason, DenyReason::kPrincipalNotAllowed);
  request_.headers["x-api-key"] = "k-ops";
  d = run("/ops/x");  // any_of: the API key's principal is listed
  EXPECT_EQ(d.kind, Decision::Kind::kAllow);
  EXPECT_EQ(d.principal, "ops");
}

TEST_F(AuthenticatorTest, WrongAudienceIs401NotForbidden) {
  load(json::parse(R"([{"prefix": "/", "require": ["jwt"]}])"),
       json{{"jwt", {{"keys", json::array({{{"secret", kSecret}}})}, {"audiences", {"api"}}}}});
  request_.headers["authorization"] = "Bearer " + token({{"aud", "other"}});
  Decision d = run("/x");
  EXPECT_EQ(d.status, 401);
  EXPECT_EQ(d.reason, DenyReason::kJwtBadAudience);
}

TEST_F(AuthenticatorTest, ExtAuthzCalloutAllowsWithItsHeaders) {
  load(json::parse(R"([{"prefix": "/", "require": ["ext_authz"]}])"));
  request_.headers["authorization"] = "Bearer opaque";
  request_.headers["cookie"] = "session=1";
  request_.headers["x-other"] = "not forwarded";
  Decision d = run("/orders?id=7");
  ASSERT_EQ(d.kind, Decision::Kind::kCallout);
  HeaderPairs sent = extAuthzRequestHeaders(*config_->ext_authz, request_);
  EXPECT_EQ(sent, (HeaderPairs{{"authorization", "Bearer opaque"},
                               {"cookie", "session=1"},
                               {"x-forwarded-method", "POST"},
                               {"x-forwarded-uri", "/orders?id=7"},
                               {"x-forwarded-host", "svc.test"}}));
  CalloutResponse ok{200, {{"X-User-Id", "u-42"}, {"x-tenant", "t1"}, {"x-secret", "no"}}, ""};
  d = completeExtAuthz(*config_, pending_, ok);
  EXPECT_EQ(d.kind, Decision::Kind::kAllow);
  EXPECT_EQ(d.allowed_by, AllowReason::kExtAuthz);
  EXPECT_EQ(d.principal, "u-42");
  EXPECT_EQ(d.upstream_headers, (HeaderPairs{{"x-user-id", "u-42"}, {"x-tenant", "t1"}}));
}

TEST_F(AuthenticatorTest, ExtAuthzDenyRelaysItsStatusAndChallenge) {
  load(json::parse(R"([{"prefix": "/", "require": ["ext_authz"]}])"));
  ASSERT_EQ(run("/x").kind, Decision::Kind::kCallout);
  for (int status : {401, 403}) {
    CalloutResponse no{
        status, {{"WWW-Authenticate", "Cookie realm=\"x\""}, {"x-drop", "1"}}, "go away"};
    Decision d = completeExtAuthz(*config_, pending_, no);
    EXPECT_EQ(d.kind, Decision::Kind::kDeny);
    EXPECT_EQ(d.status, status);
    EXPECT_EQ(d.reason, DenyReason::kExtAuthzDenied);
    EXPECT_EQ(d.reply_headers, (HeaderPairs{{"WWW-Authenticate", "Cookie realm=\"x\""}}));
    EXPECT_EQ(d.body, "go away");
  }
}

TEST_F(AuthenticatorTest, ExtAuthzErrorsFailClosedOrOpen) {
  load(json::parse(R"([{"prefix": "/", "require": ["ext_authz"]}])"));
  ASSERT_EQ(run("/x").kind, Decision::Kind::kCallout);
  for (int status : {0, 500, 302, 404}) {
    Decision d = completeExtAuthz(*config_, pending_, CalloutResponse{status, {}, "timeout"});
    EXPECT_EQ(d.kind, Decision::Kind::kDeny) << status;
    EXPECT_EQ(d.status, 503);
    EXPECT_EQ(d.reason, DenyReason::kExtAuthzError);
  }
  json open = {{"cluster", "authz"}, {"path", "/check"}, {"failure_mode", "open"}};
  load(json::parse(R"([{"prefix": "/", "require": ["ext_authz"]}])"), json{{"ext_authz", open}});
  ASSERT_EQ(run("/x").kind, Decision::Kind::kCallout);
  Decision d = completeExtAuthz(*config_, pending_, CalloutResponse{0, {}, "timeout"});
  EXPECT_EQ(d.kind, Decision::Kind::kAllow);
  EXPECT_EQ(d.allowed_by, AllowReason::kExtAuthzFailOpen);
}

TEST_F(AuthenticatorTest, JwtThenExtAuthzKeepsTheTokensPrincipal) {
  load(json::parse(R"([{"prefix": "/", "require": ["jwt", "ext_authz"]}])"));
  EXPECT_EQ(run("/x").reason, DenyReason::kMissingCredentials);  // no callout without the JWT
  request_.headers["authorization"] = "Bearer " + token();
  ASSERT_EQ(run("/x").kind, Decision::Kind::kCallout);
  Decision d =
      completeExtAuthz(*config_, pending_, CalloutResponse{204, {{"x-user-id", "u-1"}}, ""});
  EXPECT_EQ(d.kind, Decision::Kind::kAllow);
  EXPECT_EQ(d.principal, "alice");
  EXPECT_EQ(d.allowed_by, AllowReason::kJwt);
}

TEST_F(AuthenticatorTest, AnyOfSkipsTheCalloutWhenATokenSuffices) {
  load(json::parse(R"([{"prefix": "/", "require": {"any_of": ["jwt", "ext_authz"]}}])"));
  request_.headers["authorization"] = "Bearer " + token();
  EXPECT_EQ(run("/x").kind, Decision::Kind::kAllow);
  request_.headers["authorization"] = "Bearer not-a-jwt";
  EXPECT_EQ(run("/x").kind, Decision::Kind::kCallout);
}

}  // namespace
}  // namespace remora::auth
