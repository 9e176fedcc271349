// The per-worker cache of verified tokens: hits, expiry against the clock, bounds, and that a hit
// still meets every requirement of the route it is presented on.

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <map>

#include "auth/authenticator.h"
#include "auth/jwt_cache.h"
#include "common/jwt_test_signer.h"

namespace remora::auth {
namespace {

using nlohmann::json;

constexpr int64_t kNow = 1'700'000'000;
const std::string kSecret(40, 's');

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
  std::string_view method() const override { return "GET"; }
  std::string_view target() const override { return target_; }
  std::string_view authority() const override { return "svc.test"; }
};

class JwtCacheTest : public ::testing::Test {
 protected:
  void load(json jwt_extra = json::object()) {
    json jwt = {{"keys", json::array({{{"secret", kSecret}}})}};
    for (auto& [k, v] : jwt_extra.items()) jwt[k] = v;
    json j = {{"jwt", jwt}, {"rules", json::parse(R"([
                 {"prefix": "/a", "require": ["jwt"]},
                 {"prefix": "/b", "require": ["jwt"], "scopes": ["admin"]},
                 {"prefix": "/c", "require": ["jwt"], "principals": ["bob"]}])")}};
    auto r = parseAuthConfig(j);
    ASSERT_TRUE(r.ok()) << r.error();
    config_ = *r;
    cache_ = std::make_unique<JwtCache>(config_->jwt->cache_size);
  }

  Decision run(const std::string& path, const std::string& tok, int64_t now = kNow) {
    request_.target_ = path;
    request_.headers["authorization"] = "Bearer " + tok;
    CalloutState pending;
    return authenticate(*config_, config_->match(path, "GET"), request_, now, &pending,
                        cache_.get());
  }

  AuthConfigPtr config_;
  std::unique_ptr<JwtCache> cache_;
  FakeRequest request_;
};

TEST_F(JwtCacheTest, DefaultSizeAndRange) {
  load();
  EXPECT_EQ(config_->jwt->cache_size, 1000u);
  load({{"cache_size", 0}});
  EXPECT_EQ(config_->jwt->cache_size, 0u);
  auto bad = parseAuthConfig(
      json{{"jwt", {{"keys", json::array({{{"secret", kSecret}}})}, {"cache_size", -1}}}});
  EXPECT_FALSE(bad.ok());
}

TEST_F(JwtCacheTest, HitReturnsTheSamePrincipal) {
  load();
  std::string t = token();
  Decision first = run("/a", t);
  ASSERT_EQ(first.kind, Decision::Kind::kAllow);
  EXPECT_EQ(first.principal, "alice");
  ASSERT_EQ(cache_->size(), 1u);
  ASSERT_NE(cache_->lookup(t, kNow), nullptr);

  Decision second = run("/a", t);
  EXPECT_EQ(second.kind, Decision::Kind::kAllow);
  EXPECT_EQ(second.allowed_by, AllowReason::kJwt);
  EXPECT_EQ(second.principal, "alice");
  EXPECT_EQ(cache_->size(), 1u);
}

TEST_F(JwtCacheTest, ExpiredTokenIsNotServedFromCache) {
  load({{"clock_skew", "10s"}});
  std::string t = token({{"exp", kNow + 60}});
  ASSERT_EQ(run("/a", t).kind, Decision::Kind::kAllow);
  ASSERT_EQ(cache_->size(), 1u);
  // Still inside exp + skew: served.
  EXPECT_EQ(run("/a", t, kNow + 70).kind, Decision::Kind::kAllow);
  // One second later the cached entry is dropped and the verifier says why.
  Decision late = run("/a", t, kNow + 71);
  EXPECT_EQ(late.kind, Decision::Kind::kDeny);
  EXPECT_EQ(late.reason, DenyReason::kJwtExpired);
  EXPECT_EQ(cache_->size(), 0u);
}

TEST_F(JwtCacheTest, EntryHonoursNotBeforeIfTheClockGoesBack) {
  load({{"clock_skew", "0s"}});
  std::string t = token({{"nbf", kNow - 5}});
  ASSERT_EQ(run("/a", t).kind, Decision::Kind::kAllow);
  EXPECT_EQ(cache_->lookup(t, kNow - 10), nullptr);
  EXPECT_EQ(run("/a", t, kNow - 10).reason, DenyReason::kJwtNotYetValid);
}

TEST_F(JwtCacheTest, DifferentTokenMisses) {
  load();
  std::string alice = token();
  std::string bob = token({{"sub", "bob"}});
  ASSERT_EQ(run("/a", alice).principal, "alice");
  EXPECT_EQ(cache_->lookup(bob, kNow), nullptr);
  EXPECT_EQ(run("/a", bob).principal, "bob");
  EXPECT_EQ(cache_->size(), 2u);
  // A token differing in its last byte is a different key, and it is verified (and refused).
  std::string forged = alice;
  forged.back() = forged.back() == 'A' ? 'B' : 'A';
  Decision d = run("/a", forged);
  EXPECT_EQ(d.kind, Decision::Kind::kDeny);
  EXPECT_EQ(d.reason, DenyReason::kJwtBadSignature);
}

TEST_F(JwtCacheTest, OnlyVerifiedTokensAreCached) {
  load({{"issuers", "https://good/"}});
  EXPECT_EQ(run("/a", token({{"iss", "https://evil/"}})).reason, DenyReason::kJwtBadIssuer);
  EXPECT_EQ(run("/a", token({{"exp", kNow - 3600}})).reason, DenyReason::kJwtExpired);
  EXPECT_EQ(run("/a", "not.a.token").reason, DenyReason::kJwtMalformed);
  EXPECT_EQ(cache_->size(), 0u);
  EXPECT_EQ(run("/a", token({{"iss", "https://good/"}})).kind, Decision::Kind::kAllow);
  EXPECT_EQ(cache_->size(), 1u);
}

TEST_F(JwtCacheTest, BoundedWithLeastRecentlyUsedEviction) {
  load({{"cache_size", 3}});
  std::vector<std::string> t;
  for (int i = 0; i < 5; ++i) t.push_back(token({{"sub", "u" + std::to_string(i)}}));
  for (int i = 0; i < 3; ++i) ASSERT_EQ(run("/a", t[i]).kind, Decision::Kind::kAllow);
  ASSERT_NE(cache_->lookup(t[0], kNow), nullptr);  // t0 is now the most recent; t1 the oldest
  ASSERT_EQ(run("/a", t[3]).kind, Decision::Kind::kAllow);
  EXPECT_EQ(cache_->size(), 3u);
  EXPECT_EQ(cache_->lookup(t[1], kNow), nullptr);
  EXPECT_NE(cache_->lookup(t[0], kNow), nullptr);
  ASSERT_EQ(run("/a", t[4]).kind, Decision::Kind::kAllow);
  EXPECT_EQ(cache_->size(), 3u);
  EXPECT_EQ(cache_->lookup(t[2], kNow), nullptr);
}

TEST_F(JwtCacheTest, SizeZeroDisables) {
  load({{"cache_size", 0}});
  std::string t = token();
  EXPECT_EQ(run("/a", t).principal, "alice");
  EXPECT_EQ(run("/a", t).principal, "alice");
  EXPECT_EQ(cache_->size(), 0u);
  EXPECT_EQ(cache_->lookup(t, kNow), nullptr);
}

TEST_F(JwtCacheTest, HitIsStillCheckedAgainstTheRoute) {
  load();
  std::string reader = token({{"scope", "read"}});
  ASSERT_EQ(run("/a", reader).kind, Decision::Kind::kAllow);
  ASSERT_EQ(cache_->size(), 1u);
  // Cached for /a, but /b needs the admin scope and /c another principal.
  Decision b = run("/b", reader);
  EXPECT_EQ(b.status, 403);
  EXPECT_EQ(b.reason, DenyReason::kInsufficientScope);
  Decision c = run("/c", reader);
  EXPECT_EQ(c.status, 403);
  EXPECT_EQ(c.reason, DenyReason::kPrincipalNotAllowed);
  // And a token carrying the scope passes /b from the cache too.
  std::string admin = token({{"scope", "read admin"}});
  ASSERT_EQ(run("/b", admin).kind, Decision::Kind::kAllow);
  EXPECT_EQ(run("/b", admin).kind, Decision::Kind::kAllow);
}

}  // namespace
}  // namespace remora::auth
