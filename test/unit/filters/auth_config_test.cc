// The auth filter's config: defaults, key sources, rules, and the exact rejection messages.

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <fstream>

#include "auth/auth_config.h"
#include "auth/path_match.h"
#include "common/jwt_test_signer.h"
#include "common/temp_dir.h"

namespace remora::auth {
namespace {

using nlohmann::json;

const std::string kSecret(40, 'k');
const std::string kDigest = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

json minimal() {
  return json::parse(R"({
    "jwt": {"keys": [{"secret": ")" +
                     kSecret + R"("}]},
    "api_key": {"keys": [{"name": "ci", "sha256": ")" +
                     kDigest + R"("}]}
  })");
}

std::string errorOf(const json& j) {
  auto r = parseAuthConfig(j);
  return r.ok() ? std::string("(accepted)") : r.error();
}

TEST(AuthConfigTest, Defaults) {
  auto r = parseAuthConfig(minimal());
  ASSERT_TRUE(r.ok()) << r.error();
  const AuthConfig& c = **r;
  EXPECT_EQ(c.realm, "remora");
  ASSERT_TRUE(c.jwt);
  EXPECT_EQ(c.jwt->source.header, "authorization");
  EXPECT_EQ(c.jwt->source.prefix, "Bearer ");
  EXPECT_EQ(c.jwt->verifier->rules().clock_skew_s, 60);
  EXPECT_TRUE(c.jwt->verifier->rules().require_exp);
  ASSERT_TRUE(c.api_key);
  EXPECT_EQ(c.api_key->source.header, "x-api-key");
  EXPECT_FALSE(c.ext_authz);
  // No default given: any configured method will do.
  EXPECT_EQ(c.default_requirement.mode, Requirement::Mode::kAnyOf);
  EXPECT_EQ(c.default_requirement.methods, (std::vector<Method>{Method::kJwt, Method::kApiKey}));
}

TEST(AuthConfigTest, RulesFirstPrefixWinsThenDefault) {
  json j = minimal();
  j["rules"] = json::parse(R"([
    {"prefix": "/health", "require": "none"},
    {"prefix": "/admin", "require": ["jwt"], "scopes": ["admin"]},
    {"prefix": "/api", "require": {"any_of": ["jwt", "api_key"]}, "principals": ["ci"]}
  ])");
  j["default"] = json::parse(R"({"require": ["api_key"]})");
  auto r = parseAuthConfig(j);
  ASSERT_TRUE(r.ok()) << r.error();
  const AuthConfig& c = **r;
  EXPECT_EQ(c.match("/health", "GET").mode, Requirement::Mode::kNone);
  EXPECT_EQ(c.match("/healthz", "GET").mode, Requirement::Mode::kNone);
  EXPECT_EQ(c.match("/admin/users", "GET").scopes, std::vector<std::string>{"admin"});
  EXPECT_EQ(c.match("/api/x", "GET").mode, Requirement::Mode::kAnyOf);
  EXPECT_EQ(c.match("/api/x", "GET").principals, std::vector<std::string>{"ci"});
  EXPECT_EQ(c.match("/other", "GET").mode, Requirement::Mode::kAllOf);
  EXPECT_EQ(c.match("/other", "GET").methods, std::vector<Method>{Method::kApiKey});
  // Matching is on the normalized path.
  EXPECT_EQ(&c.match(normalizeForMatch("//admin/../admin/x"), "GET"), &c.match("/admin/x", "GET"));
}

TEST(AuthConfigTest, RulesByMethodAndShadowing) {
  json j = minimal();
  j["rules"] = json::parse(R"([
    {"prefix": "/refunds", "methods": ["post"], "require": ["mtls"],
     "principals": ["spiffe://td/ns/shop/sa/orders"]},
    {"prefix": "/refunds", "require": ["jwt"]}])");
  auto r = parseAuthConfig(j);
  ASSERT_TRUE(r.ok()) << r.error();
  const AuthConfig& c = **r;
  EXPECT_EQ(c.match("/refunds/7", "POST").methods, std::vector<Method>{Method::kMtls});
  EXPECT_EQ(c.match("/refunds/7", "GET").methods, std::vector<Method>{Method::kJwt});
  j["rules"] = json::parse(R"([{"prefix": "/r", "require": ["mtls"]},
                               {"prefix": "/r/x", "methods": ["GET"], "require": ["jwt"]}])");
  EXPECT_EQ(errorOf(j), "rules[1].prefix: never matches: rules[0] (\"/r\") comes first");
  j["rules"] = json::parse(R"([{"prefix": "/r", "methods": ["G T"], "require": ["mtls"]}])");
  EXPECT_EQ(errorOf(j), "rules[0].methods[0]: must be an HTTP method name");
}

TEST(AuthConfigTest, KeysFromPemFilesAndJwks) {
  test::TestPkey rsa = test::generateRsaKey();
  test::TestPkey ec = test::generateEcP256Key();
  test::TempDir dir;
  std::string pem_path = dir.path() + "/rsa.pem";
  std::string jwks_path = dir.path() + "/jwks.json";
  std::ofstream(pem_path) << test::publicPem(rsa.get());
  std::ofstream(jwks_path) << R"({"keys":[)" << test::publicJwk(ec.get(), "ec-1") << "]}";
  json j = json::parse(R"({"jwt": {"keys": []}})");
  j["jwt"]["keys"] =
      json::array({json{{"kid", "rsa-1"}, {"pem_file", pem_path}}, json{{"jwks_file", jwks_path}},
                   json{{"kid", "ec-2"}, {"alg", "ES256"}, {"pem", test::publicPem(ec.get())}},
                   json{{"secret_base64", test::b64url(kSecret)}}});
  auto r = parseAuthConfig(j);
  ASSERT_TRUE(r.ok()) << r.error();
  const auto& keys = (*r)->jwt->verifier->keys();
  ASSERT_EQ(keys.size(), 4u);
  EXPECT_EQ(keys[0].kid, "rsa-1");
  EXPECT_EQ(keys[0].alg, JwtAlg::kRS256);
  EXPECT_EQ(keys[1].kid, "ec-1");
  EXPECT_EQ(keys[1].alg, JwtAlg::kES256);
  EXPECT_EQ(keys[2].alg, JwtAlg::kES256);
  EXPECT_EQ(keys[3].alg, JwtAlg::kHS256);
  EXPECT_EQ(keys[3].secret, kSecret);
}

TEST(AuthConfigTest, RejectionsNameTheField) {
  EXPECT_EQ(errorOf(json::object()),
            "config: needs at least one of jwt, api_key, ext_authz, or a default such as "
            "{\"require\": [\"mtls\"]}");
  EXPECT_EQ(errorOf(json::array()), "config: must be an object");

  json j = minimal();
  j["jwt"]["audience"] = "api";
  EXPECT_EQ(errorOf(j), "jwt.audience: unknown field");

  j = minimal();
  j["jwt"]["keys"][0]["alg"] = "PS256";
  EXPECT_EQ(errorOf(j), "jwt.keys[0].alg: must be one of HS256, RS256, ES256, got \"PS256\"");

  j = minimal();
  j["jwt"]["keys"][0]["secret"] = "short";
  EXPECT_EQ(errorOf(j), "jwt.keys[0].secret: HS256 secret must be at least 32 bytes, got 5");

  j = minimal();
  j["jwt"]["keys"][0]["pem"] = "x";
  EXPECT_EQ(errorOf(j),
            "jwt.keys[0]: needs exactly one of secret, secret_base64, pem, pem_file, jwks, "
            "jwks_file");

  j = minimal();
  j["jwt"]["keys"][0] = json{{"pem_file", "/nonexistent/key.pem"}};
  EXPECT_EQ(errorOf(j), "jwt.keys[0].pem_file: cannot read /nonexistent/key.pem");

  j = minimal();
  j["jwt"]["keys"] = json::array();
  EXPECT_EQ(errorOf(j), "jwt.keys: must be a non-empty list");

  j = minimal();
  j["jwt"]["clock_skew"] = "2h";
  EXPECT_EQ(errorOf(j), "jwt.clock_skew: must be between 0s and 3600s, got \"2h\"");

  j = minimal();
  j["jwt"]["clock_skew"] = "soon";
  EXPECT_EQ(errorOf(j),
            "jwt.clock_skew: must be a duration like \"1s\" or \"250ms\", got \"soon\"");

  j = minimal();
  j["api_key"]["keys"][0]["sha256"] = "abc";
  EXPECT_EQ(errorOf(j), "api_key.keys[0].sha256: must be 64 hex digits (sha256 of the key)");

  j = minimal();
  j["api_key"]["header"] = "";
  EXPECT_EQ(errorOf(j), "api_key.header: header and query_param cannot both be empty");

  j = minimal();
  j["realm"] = "a\"b";
  EXPECT_EQ(errorOf(j), "realm: must be non-empty, without quotes, backslashes or line breaks");
}

TEST(AuthConfigTest, RuleRejections) {
  auto withRules = [](const char* rules) {
    json j = minimal();
    j["rules"] = json::parse(rules);
    return errorOf(j);
  };
  EXPECT_EQ(withRules(R"([{"prefix": "/a", "require": ["ext_authz"]}])"),
            "rules[0].require[0]: \"ext_authz\" needs the ext_authz section");
  EXPECT_EQ(withRules(R"([{"prefix": "/a", "require": ["oauth"]}])"),
            "rules[0].require[0]: must be one of jwt, api_key, ext_authz, mtls");
  EXPECT_EQ(withRules(R"([{"prefix": "/a", "require": ["jwt", "jwt"]}])"),
            "rules[0].require[1]: listed twice");
  EXPECT_EQ(withRules(R"([{"prefix": "/a", "require": []}])"),
            "rules[0].require: must be a non-empty list of jwt, api_key, ext_authz, mtls");
  EXPECT_EQ(withRules(R"([{"prefix": "/a", "require": "all"}])"),
            "rules[0].require: must be a list of methods, \"none\", or {any_of: [...]}");
  EXPECT_EQ(withRules(R"([{"prefix": "/a"}])"),
            "rules[0].require: required (a list of methods, \"none\", or {any_of: [...]})");
  EXPECT_EQ(withRules(R"([{"prefix": "/a", "require": {"one_of": ["jwt"]}}])"),
            "rules[0].require.any_of: required");
  EXPECT_EQ(withRules(R"([{"prefix": "a", "require": "none"}])"),
            "rules[0].prefix: must start with /");
  EXPECT_EQ(withRules(R"([{"prefix": "/a/../b", "require": "none"}])"),
            "rules[0].prefix: must be a normalized path (no //, . or .. segments, %xx)");
  EXPECT_EQ(withRules(R"([{"prefix": "/api", "require": "none"},
                          {"prefix": "/api/admin", "require": ["jwt"]}])"),
            "rules[1].prefix: never matches: rules[0] (\"/api\") comes first");
  EXPECT_EQ(withRules(R"([{"prefix": "/a", "require": ["api_key"], "scopes": ["x"]}])"),
            "rules[0].scopes: scopes are JWT claims: the rule must accept jwt");
  EXPECT_EQ(withRules(R"([{"prefix": "/a", "require": ["jwt"], "scopes": ["a b"]}])"),
            "rules[0].scopes[0]: must be a scope token (no spaces, quotes or backslashes)");
  EXPECT_EQ(withRules(R"([{"prefix": "/a", "require": "none", "principals": ["x"]}])"),
            "rules[0].require: \"none\" cannot have principals or scopes");
  EXPECT_EQ(withRules(R"([{"prefix": "/a", "require": "none", "verbs": ["x"]}])"),
            "rules[0].verbs: unknown field");
}

TEST(AuthConfigTest, ExtAuthz) {
  json j = json::parse(R"({"ext_authz": {"cluster": "authz", "path": "/check",
                           "timeout": "250ms", "upstream_headers": ["X-User-Id"],
                           "principal_header": "X-User-Id", "failure_mode": "open"}})");
  auto r = parseAuthConfig(j);
  ASSERT_TRUE(r.ok()) << r.error();
  const ExtAuthzSettings& ext = *(*r)->ext_authz;
  EXPECT_EQ(ext.timeout_ms, 250u);
  EXPECT_EQ(ext.method, "GET");
  EXPECT_EQ(ext.forward_headers, std::vector<std::string>{"authorization"});
  EXPECT_EQ(ext.upstream_headers, std::vector<std::string>{"x-user-id"});
  EXPECT_EQ(ext.principal_header, "x-user-id");
  EXPECT_TRUE(ext.fail_open);
  EXPECT_EQ(ext.status_on_error, 503);

  j["ext_authz"]["failure_mode"] = "maybe";
  EXPECT_EQ(errorOf(j), "ext_authz.failure_mode: must be \"closed\" or \"open\", got \"maybe\"");
  j["ext_authz"].erase("failure_mode");
  j["ext_authz"]["method"] = "get";
  EXPECT_EQ(errorOf(j),
            "ext_authz.method: must be one of GET, HEAD, POST, PUT, DELETE, OPTIONS, PATCH, got "
            "\"get\"");
  j["ext_authz"]["method"] = "POST";
  ASSERT_TRUE(parseAuthConfig(j).ok());
  j["ext_authz"].erase("cluster");
  EXPECT_EQ(errorOf(j), "ext_authz.cluster: required");
}

}  // namespace
}  // namespace remora::auth
