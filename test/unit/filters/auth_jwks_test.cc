// JWKS parsing: supported keys load, foreign ones are skipped, malformed ones are named.

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "auth/jwks.h"
#include "common/jwt_test_signer.h"

namespace remora::auth {
namespace {

using nlohmann::json;

class JwksTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    rsa_ = test::generateRsaKey().release();
    ec_ = test::generateEcP256Key().release();
  }
  static void TearDownTestSuite() {
    EVP_PKEY_free(rsa_);
    EVP_PKEY_free(ec_);
  }
  static json jwk(EVP_PKEY* k, std::string_view kid) {
    return json::parse(test::publicJwk(k, kid));
  }
  static std::string set(const std::vector<json>& keys) {
    json doc = json::object();
    doc["keys"] = keys;
    return doc.dump();
  }

  static inline EVP_PKEY* rsa_ = nullptr;
  static inline EVP_PKEY* ec_ = nullptr;
};

TEST_F(JwksTest, LoadsRsaEcAndOct) {
  json oct = {{"kty", "oct"}, {"kid", "h"}, {"k", test::b64url(std::string(32, 's'))}};
  auto keys = parseJwks(set({jwk(rsa_, "r"), jwk(ec_, "e"), oct}));
  ASSERT_TRUE(keys.ok()) << keys.error();
  ASSERT_EQ(keys->size(), 3u);
  EXPECT_EQ((*keys)[0].kid, "r");
  EXPECT_EQ((*keys)[0].alg, JwtAlg::kRS256);
  EXPECT_EQ((*keys)[1].alg, JwtAlg::kES256);
  EXPECT_EQ((*keys)[2].alg, JwtAlg::kHS256);
  EXPECT_EQ((*keys)[2].secret, std::string(32, 's'));
}

TEST_F(JwksTest, SkipsKeysThatAreNotForRs256Es256Hs256Signing) {
  json enc = jwk(rsa_, "enc");
  enc["use"] = "enc";
  json ps = jwk(rsa_, "ps");
  ps["alg"] = "PS256";
  json okp = {{"kty", "OKP"}, {"crv", "Ed25519"}, {"x", "AAAA"}};
  auto keys = parseJwks(set({enc, ps, okp, jwk(ec_, "e")}));
  ASSERT_TRUE(keys.ok()) << keys.error();
  ASSERT_EQ(keys->size(), 1u);
  EXPECT_EQ((*keys)[0].kid, "e");
  EXPECT_EQ(parseJwks(set({enc, okp})).error(), "keys: no RS256, ES256 or HS256 signing key");
}

TEST_F(JwksTest, NamesTheBrokenMember) {
  json bad_n = jwk(rsa_, "r");
  bad_n["n"] = "***";
  EXPECT_EQ(parseJwks(set({jwk(ec_, "e"), bad_n})).error(), "keys[1].n: not base64url");
  json p384 = jwk(ec_, "e");
  p384["crv"] = "P-384";
  EXPECT_EQ(parseJwks(set({p384})).error(), "keys[0].crv: must be \"P-256\"");
  json short_x = jwk(ec_, "e");
  short_x["x"] = test::b64url(std::string(31, 'x'));
  EXPECT_EQ(parseJwks(set({short_x})).error(), "keys[0].x: must be 32 bytes");
  json bad_modulus = jwk(rsa_, "r");
  bad_modulus["n"] = test::b64url(std::string(256, '\xc1'));  // divisible by 193
  EXPECT_EQ(parseJwks(set({bad_modulus})).error(), "keys[0]: invalid public key");
  json off_curve = jwk(ec_, "e");
  off_curve["y"] = test::b64url(std::string(32, '\x01'));
  EXPECT_EQ(parseJwks(set({off_curve})).error(), "keys[0]: invalid public key");
  test::TestPkey rsa1024 = test::generateRsaKey(1024);
  EXPECT_EQ(parseJwks(set({jwk(rsa1024.get(), "small")})).error(),
            "keys[0]: RSA key must be at least 2048 bits, got 1024");
  json no_kty = {{"n", "AQAB"}};
  EXPECT_EQ(parseJwks(set({no_kty})).error(), "keys[0].kty: missing string");
}

TEST_F(JwksTest, RefusesDocumentsThatAreNotKeySets) {
  EXPECT_EQ(parseJwks("{").error(), "not valid JSON");
  EXPECT_EQ(parseJwks("[]").error(), "must be a JSON object with \"keys\"");
  EXPECT_EQ(parseJwks("{\"keys\": 1}").error(), "keys: must be a list");
}

}  // namespace
}  // namespace remora::auth
