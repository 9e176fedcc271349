// API keys: stored as sha256, looked up by hashing what the client sent and comparing every
// stored digest in constant time.

#include <gtest/gtest.h>

#include <openssl/crypto.h>

#include "auth/api_keys.h"
#include "auth/encoding.h"

namespace remora::auth {
namespace {

std::string hexDigest(std::string_view key) {
  Sha256Digest d = sha256(key);
  return toHex(std::string_view(reinterpret_cast<const char*>(d.data()), d.size()));
}

ApiKeyStore store() {
  auto s = ApiKeyStore::create({{"ci-bot", hexDigest("key-one")},
                                {"billing", hexDigest("key-two")},
                                {"ops", hexDigest("key-three")}});
  EXPECT_TRUE(s.ok()) << s.error();
  return std::move(s).value();
}

TEST(ApiKeyTest, Sha256MatchesTheKnownVector) {
  EXPECT_EQ(hexDigest("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(ApiKeyTest, HitReturnsTheKeysName) {
  ApiKeyStore s = store();
  EXPECT_EQ(s.lookup("key-two"), "billing");
  EXPECT_EQ(s.lookup("key-one"), "ci-bot");
}

TEST(ApiKeyTest, MissReturnsNothing) {
  ApiKeyStore s = store();
  EXPECT_EQ(s.lookup("key-four"), std::nullopt);
  EXPECT_EQ(s.lookup(""), std::nullopt);
  // The digest is the credential's, not a prefix of it.
  EXPECT_EQ(s.lookup("key-one "), std::nullopt);
}

// Counts calls and forwards to the real comparison, recording that CRYPTO_memcmp's contract
// (full length, no early exit on the first differing byte) is what decides.
int g_compares = 0;
bool countingEqual(const uint8_t* a, const uint8_t* b, size_t len) {
  ++g_compares;
  EXPECT_EQ(len, 32u);
  return constantTimeEqual(a, b, len);
}

TEST(ApiKeyTest, EveryStoredDigestIsComparedWhetherOrNotOneMatched) {
  ApiKeyStore s = store();
  for (std::string_view key : {"key-one", "key-three", "nope"}) {
    g_compares = 0;
    (void)s.lookup(key, countingEqual);
    EXPECT_EQ(g_compares, 3) << key;
  }
}

TEST(ApiKeyTest, TheDefaultComparisonIsCryptoMemcmp) {
  uint8_t a[32] = {0};
  uint8_t b[32] = {0};
  b[31] = 1;
  EXPECT_TRUE(constantTimeEqual(a, a, 32));
  EXPECT_FALSE(constantTimeEqual(a, b, 32));
  EXPECT_EQ(constantTimeEqual(a, b, 32), CRYPTO_memcmp(a, b, 32) == 0);
  // lookup() uses it unless told otherwise: its default argument is this very function.
  ApiKeyStore::EqualFn fn = constantTimeEqual;
  EXPECT_EQ(fn, &constantTimeEqual);
}

TEST(ApiKeyTest, CreateRefusesBadEntries) {
  EXPECT_EQ(ApiKeyStore::create({{"", hexDigest("k")}}).error(), "[0].name: must not be empty");
  EXPECT_EQ(ApiKeyStore::create({{"a", "abc"}}).error(),
            "[0].sha256: must be 64 hex digits (sha256 of the key)");
  EXPECT_EQ(ApiKeyStore::create({{"a", std::string(64, 'g')}}).error(),
            "[0].sha256: must be 64 hex digits (sha256 of the key)");
  EXPECT_EQ(ApiKeyStore::create({{"a", hexDigest("k")}, {"b", hexDigest("k")}}).error(),
            "[1].sha256: same key as [0]");
}

}  // namespace
}  // namespace remora::auth
