// JWT verification: tokens are minted in the test with freshly generated keys, then checked by
// the filter's verifier through the same key-loading paths the config uses.

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "auth/jwks.h"
#include "auth/jwt.h"
#include "auth/jwt_verifier.h"
#include "common/jwt_test_signer.h"

namespace remora::auth {
namespace {

using nlohmann::json;
using test::signEs256;
using test::signHs256;
using test::signRs256;

constexpr int64_t kNow = 1'700'000'000;
const std::string kSecret = "0123456789abcdef0123456789abcdef-hs256-test-secret";

std::string header(std::string_view alg, std::string_view kid = "") {
  json h = {{"alg", alg}, {"typ", "JWT"}};
  if (!kid.empty()) h["kid"] = kid;
  return h.dump();
}

std::string claims(json extra = json::object()) {
  json c = {{"sub", "alice"},   {"iss", "https://issuer.test"},
            {"aud", "api"},     {"exp", kNow + 300},
            {"nbf", kNow - 10}, {"iat", kNow - 10}};
  for (auto& [k, v] : extra.items()) c[k] = v;
  return c.dump();
}

class JwtTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    rsa_ = test::generateRsaKey().release();
    rsa2_ = test::generateRsaKey().release();
    ec_ = test::generateEcP256Key().release();
  }
  static void TearDownTestSuite() {
    EVP_PKEY_free(rsa_);
    EVP_PKEY_free(rsa2_);
    EVP_PKEY_free(ec_);
  }

  static JwtKey pemKey(EVP_PKEY* k, std::string kid = "") {
    auto key = makePemKey(std::move(kid), std::nullopt, test::publicPem(k));
    EXPECT_TRUE(key.ok()) << key.error();
    return std::move(*key);
  }
  static JwtKey hmacKey(std::string kid = "") {
    return makeHmacKey(std::move(kid), kSecret).value();
  }

  static JwtVerifier verifier(std::vector<JwtKey> keys, JwtRules rules = {}) {
    if (rules.issuers.empty()) rules.issuers = {"https://issuer.test"};
    if (rules.audiences.empty()) rules.audiences = {"api"};
    return JwtVerifier(std::move(keys), std::move(rules));
  }

  static inline EVP_PKEY* rsa_ = nullptr;
  static inline EVP_PKEY* rsa2_ = nullptr;
  static inline EVP_PKEY* ec_ = nullptr;
};

TEST_F(JwtTest, AcceptsHs256Rs256Es256) {
  std::vector<JwtKey> keys;
  keys.push_back(hmacKey());
  keys.push_back(pemKey(rsa_));
  keys.push_back(pemKey(ec_));
  auto v = verifier(std::move(keys));
  for (const std::string& token :
       {signHs256(header("HS256"), claims(), kSecret), signRs256(header("RS256"), claims(), rsa_),
        signEs256(header("ES256"), claims(), ec_)}) {
    JwtVerdict r = v.verify(token, kNow);
    EXPECT_TRUE(r.ok()) << jwtFailureName(r.failure);
    EXPECT_EQ(r.subject, "alice");
  }
}

TEST_F(JwtTest, ExpiredBeyondSkewIsRefused) {
  auto v = verifier({pemKey(rsa_)});
  std::string token = signRs256(header("RS256"), claims({{"exp", kNow - 61}}), rsa_);
  EXPECT_EQ(v.verify(token, kNow).failure, JwtFailure::kExpired);
  // Within the default 60 s skew it still passes.
  token = signRs256(header("RS256"), claims({{"exp", kNow - 59}}), rsa_);
  EXPECT_TRUE(v.verify(token, kNow).ok());
}

TEST_F(JwtTest, NotBeforeInTheFutureIsRefused) {
  JwtRules rules;
  rules.clock_skew_s = 0;
  auto v = verifier({pemKey(rsa_)}, rules);
  std::string token = signRs256(header("RS256"), claims({{"nbf", kNow + 5}}), rsa_);
  EXPECT_EQ(v.verify(token, kNow).failure, JwtFailure::kNotYetValid);
  EXPECT_TRUE(v.verify(token, kNow + 5).ok());
}

TEST_F(JwtTest, MissingExpIsRefusedUnlessAllowed) {
  json c = json::parse(claims());
  c.erase("exp");
  std::string token = signHs256(header("HS256"), c.dump(), kSecret);
  EXPECT_EQ(verifier({hmacKey()}).verify(token, kNow).failure, JwtFailure::kMissingExp);
  JwtRules rules;
  rules.require_exp = false;
  EXPECT_TRUE(verifier({hmacKey()}, rules).verify(token, kNow).ok());
}

TEST_F(JwtTest, WrongIssuerIsRefused) {
  auto v = verifier({hmacKey()});
  std::string token = signHs256(header("HS256"), claims({{"iss", "https://evil.test"}}), kSecret);
  EXPECT_EQ(v.verify(token, kNow).failure, JwtFailure::kBadIssuer);
}

TEST_F(JwtTest, IssuerListAcceptsAnyListed) {
  JwtRules rules;
  rules.issuers = {"https://a.test", "https://issuer.test"};
  auto v = verifier({hmacKey()}, rules);
  EXPECT_TRUE(v.verify(signHs256(header("HS256"), claims(), kSecret), kNow).ok());
}

TEST_F(JwtTest, AudienceStringOrList) {
  auto v = verifier({hmacKey()});
  EXPECT_EQ(v.verify(signHs256(header("HS256"), claims({{"aud", "other"}}), kSecret), kNow).failure,
            JwtFailure::kBadAudience);
  EXPECT_TRUE(
      v.verify(signHs256(header("HS256"), claims({{"aud", {"other", "api"}}}), kSecret), kNow)
          .ok());
  EXPECT_EQ(
      v.verify(signHs256(header("HS256"), claims({{"aud", {"x", "y"}}}), kSecret), kNow).failure,
      JwtFailure::kBadAudience);
  json c = json::parse(claims());
  c.erase("aud");
  EXPECT_EQ(v.verify(signHs256(header("HS256"), c.dump(), kSecret), kNow).failure,
            JwtFailure::kBadAudience);
}

TEST_F(JwtTest, TamperedPayloadFailsSignature) {
  auto v = verifier({pemKey(rsa_)});
  std::string token = signRs256(header("RS256"), claims(), rsa_);
  std::string forged = signRs256(header("RS256"), claims({{"sub", "mallory"}}), rsa_);
  // The forged payload with the original signature.
  std::string mixed = forged.substr(0, forged.rfind('.')) + token.substr(token.rfind('.'));
  EXPECT_EQ(v.verify(mixed, kNow).failure, JwtFailure::kBadSignature);
  // Signed by a different RSA key.
  EXPECT_EQ(v.verify(signRs256(header("RS256"), claims(), rsa2_), kNow).failure,
            JwtFailure::kBadSignature);
}

TEST_F(JwtTest, Es256RejectsBadSignatureAndWrongLength) {
  auto v = verifier({pemKey(ec_)});
  std::string token = signEs256(header("ES256"), claims(), ec_);
  std::string flipped = token;
  flipped[flipped.size() - 5] = flipped[flipped.size() - 5] == 'A' ? 'B' : 'A';
  EXPECT_EQ(v.verify(flipped, kNow).failure, JwtFailure::kBadSignature);
  // A DER signature (what OpenSSL emits natively) is not a JWS ES256 signature.
  std::string shortsig = token.substr(0, token.rfind('.') + 1) + test::b64url(std::string(70, 'x'));
  EXPECT_EQ(v.verify(shortsig, kNow).failure, JwtFailure::kBadSignature);
}

TEST_F(JwtTest, AlgNoneIsRefused) {
  auto v = verifier({hmacKey(), pemKey(rsa_)});
  EXPECT_EQ(v.verify(test::unsignedToken(header("none"), claims()), kNow).failure,
            JwtFailure::kAlgNotAllowed);
  EXPECT_EQ(v.verify(test::unsignedToken(R"({"alg":"NONE"})", claims()), kNow).failure,
            JwtFailure::kAlgNotAllowed);
  // An alg this filter does not verify, even with a signature present.
  EXPECT_EQ(v.verify(signHs256(header("HS512"), claims(), kSecret), kNow).failure,
            JwtFailure::kAlgNotAllowed);
}

TEST_F(JwtTest, AlgConfusionHs256WithRsaPublicKeyIsRefused) {
  // The classic attack: sign HS256 with the server's RSA public key (PEM bytes) as the secret.
  std::string pem = test::publicPem(rsa_);
  std::string token = signHs256(header("HS256"), claims(), pem);
  auto v = verifier({pemKey(rsa_)});
  EXPECT_EQ(v.verify(token, kNow).failure, JwtFailure::kAlgMismatch);
  // Same with a kid naming the RSA key.
  std::string with_kid = signHs256(header("HS256", "rsa-1"), claims(), pem);
  auto v2 = verifier({pemKey(rsa_, "rsa-1")});
  EXPECT_EQ(v2.verify(with_kid, kNow).failure, JwtFailure::kAlgMismatch);
  // And an RS256 header over an ES256 key.
  auto v3 = verifier({pemKey(ec_)});
  EXPECT_EQ(v3.verify(signRs256(header("RS256"), claims(), rsa_), kNow).failure,
            JwtFailure::kAlgMismatch);
}

TEST_F(JwtTest, KidSelectsTheKeyFromAJwks) {
  std::string jwks = R"({"keys":[)" + test::publicJwk(rsa_, "k1") + "," +
                     test::publicJwk(rsa2_, "k2") + "," + test::publicJwk(ec_, "k3") + "]}";
  auto keys = parseJwks(jwks);
  ASSERT_TRUE(keys.ok()) << keys.error();
  ASSERT_EQ(keys->size(), 3u);
  auto v = verifier(std::move(*keys));
  EXPECT_TRUE(v.verify(signRs256(header("RS256", "k2"), claims(), rsa2_), kNow).ok());
  EXPECT_TRUE(v.verify(signRs256(header("RS256", "k1"), claims(), rsa_), kNow).ok());
  EXPECT_TRUE(v.verify(signEs256(header("ES256", "k3"), claims(), ec_), kNow).ok());
  // The right signer, the wrong kid: only k1 is tried.
  EXPECT_EQ(v.verify(signRs256(header("RS256", "k1"), claims(), rsa2_), kNow).failure,
            JwtFailure::kBadSignature);
  EXPECT_EQ(v.verify(signRs256(header("RS256", "k9"), claims(), rsa_), kNow).failure,
            JwtFailure::kUnknownKey);
  // No kid: every key of the token's alg is tried.
  EXPECT_TRUE(v.verify(signRs256(header("RS256"), claims(), rsa2_), kNow).ok());
}

TEST_F(JwtTest, MalformedTokens) {
  auto v = verifier({hmacKey()});
  std::string good = signHs256(header("HS256"), claims(), kSecret);
  for (const std::string& bad : {std::string(""), std::string("abc"), std::string("a.b"),
                                 good + ".x", good + "=", "!!!." + good.substr(good.find('.') + 1),
                                 test::b64url("[1]") + "." + test::b64url(claims()) + ".sig"}) {
    EXPECT_EQ(v.verify(bad, kNow).failure, JwtFailure::kMalformed) << bad;
  }
  std::string crit = signHs256(R"({"alg":"HS256","crit":["exp"]})", claims(), kSecret);
  EXPECT_EQ(v.verify(crit, kNow).failure, JwtFailure::kMalformed);
  std::string big = signHs256(header("HS256"), claims({{"pad", std::string(9000, 'x')}}), kSecret);
  EXPECT_EQ(v.verify(big, kNow).failure, JwtFailure::kMalformed);
  std::string exp_str = signHs256(header("HS256"), claims({{"exp", "tomorrow"}}), kSecret);
  EXPECT_EQ(v.verify(exp_str, kNow).failure, JwtFailure::kMalformed);
}

TEST_F(JwtTest, ScopesFromScopeOrScp) {
  auto v = verifier({hmacKey()});
  auto r = v.verify(signHs256(header("HS256"), claims({{"scope", "read  write"}}), kSecret), kNow);
  EXPECT_EQ(r.scopes, (std::vector<std::string>{"read", "write"}));
  r = v.verify(signHs256(header("HS256"), claims({{"scp", {"admin"}}}), kSecret), kNow);
  EXPECT_EQ(r.scopes, (std::vector<std::string>{"admin"}));
}

TEST_F(JwtTest, KeyLoadingRefusesWeakOrMismatchedKeys) {
  EXPECT_EQ(makeHmacKey("", "short").error(), "HS256 secret must be at least 32 bytes, got 5");
  auto small = test::generateRsaKey(1024);
  EXPECT_EQ(makePemKey("", std::nullopt, test::publicPem(small.get())).error(),
            "RSA key must be at least 2048 bits, got 1024");
  EXPECT_EQ(makePemKey("", JwtAlg::kES256, test::publicPem(rsa_)).error(),
            "alg ES256 does not match the key's type (RS256)");
  EXPECT_EQ(makePemKey("", std::nullopt, "not pem").error(), "not a PEM public key or certificate");
  test::TestPkey p384(EVP_EC_gen("P-384"));
  EXPECT_EQ(makePemKey("", std::nullopt, test::publicPem(p384.get())).error(),
            "ES256 needs an EC key on curve P-256");
}

}  // namespace
}  // namespace remora::auth
