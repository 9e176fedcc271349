#include "jwt.h"

#include <openssl/crypto.h>

#include "encoding.h"

namespace remora::auth {
namespace {

using nlohmann::json;

std::optional<json> decodeObject(std::string_view segment) {
  auto bytes = base64UrlDecode(segment);
  if (!bytes) return std::nullopt;
  json doc = json::parse(*bytes, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) return std::nullopt;
  return doc;
}

bool verifyHmac(const Jwt& jwt, const JwtKey& key) {
  // A copy of the keyed template: the template itself is shared by every worker and only read.
  EvpMacCtxPtr ctx(EVP_MAC_CTX_dup(key.hmac.get()));
  if (!ctx) return false;
  unsigned char mac[EVP_MAX_MD_SIZE];
  size_t mac_len = 0;
  if (EVP_MAC_update(ctx.get(), reinterpret_cast<const unsigned char*>(jwt.signing_input.data()),
                     jwt.signing_input.size()) != 1 ||
      EVP_MAC_final(ctx.get(), mac, &mac_len, sizeof(mac)) != 1) {
    return false;
  }
  // The length is public (always 32 for SHA-256); the bytes are compared in constant time so a
  // forger learns nothing from how long a wrong tag took to refuse.
  return jwt.signature.size() == mac_len && CRYPTO_memcmp(mac, jwt.signature.data(), mac_len) == 0;
}

bool digestVerify(EVP_PKEY* pkey, std::string_view input, const unsigned char* sig,
                  size_t sig_len) {
  EvpMdCtxPtr ctx(EVP_MD_CTX_new());
  if (!ctx) return false;
  // RSA's default padding is PKCS#1 v1.5, which is what RS256 means.
  if (EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, pkey) != 1) return false;
  return EVP_DigestVerify(ctx.get(), sig, sig_len,
                          reinterpret_cast<const unsigned char*>(input.data()), input.size()) == 1;
}

bool verifyEcdsa(const Jwt& jwt, const JwtKey& key) {
  constexpr size_t kHalf = 32;  // P-256 coordinate size
  if (jwt.signature.size() != 2 * kHalf) return false;
  const auto* raw = reinterpret_cast<const unsigned char*>(jwt.signature.data());
  BignumPtr r(BN_bin2bn(raw, kHalf, nullptr));
  BignumPtr s(BN_bin2bn(raw + kHalf, kHalf, nullptr));
  EcdsaSigPtr sig(ECDSA_SIG_new());
  if (!r || !s || !sig || ECDSA_SIG_set0(sig.get(), r.get(), s.get()) != 1) return false;
  r.release();  // owned by sig now
  s.release();
  unsigned char* der = nullptr;
  int der_len = i2d_ECDSA_SIG(sig.get(), &der);
  if (der_len <= 0) return false;
  bool ok = digestVerify(key.pkey.get(), jwt.signing_input, der, static_cast<size_t>(der_len));
  OPENSSL_free(der);
  return ok;
}

}  // namespace

std::optional<Jwt> parseJwt(std::string_view token, std::string* why) {
  size_t dot1 = token.find('.');
  size_t dot2 = dot1 == std::string_view::npos ? dot1 : token.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || token.find('.', dot2 + 1) != std::string_view::npos) {
    *why = "malformed token";
    return std::nullopt;
  }
  auto header = decodeObject(token.substr(0, dot1));
  if (!header) {
    *why = "malformed header";
    return std::nullopt;
  }
  auto claims = decodeObject(token.substr(dot1 + 1, dot2 - dot1 - 1));
  if (!claims) {
    *why = "malformed payload";
    return std::nullopt;
  }
  auto signature = base64UrlDecode(token.substr(dot2 + 1));
  if (!signature) {
    *why = "malformed signature";
    return std::nullopt;
  }
  Jwt jwt;
  auto alg = header->find("alg");
  if (alg == header->end() || !alg->is_string()) {
    *why = "missing alg";
    return std::nullopt;
  }
  jwt.alg = alg->get<std::string>();
  if (auto kid = header->find("kid"); kid != header->end()) {
    if (!kid->is_string()) {
      *why = "kid is not a string";
      return std::nullopt;
    }
    jwt.kid = kid->get<std::string>();
  }
  if (header->contains("crit")) {
    *why = "unsupported crit header";
    return std::nullopt;
  }
  jwt.claims = std::move(*claims);
  jwt.signing_input = token.substr(0, dot2);
  jwt.signature = std::move(*signature);
  return jwt;
}

bool verifySignature(const Jwt& jwt, const JwtKey& key) {
  switch (key.alg) {
    case JwtAlg::kHS256:
      return key.hmac && verifyHmac(jwt, key);
    case JwtAlg::kRS256:
      return key.pkey && digestVerify(key.pkey.get(), jwt.signing_input,
                                      reinterpret_cast<const unsigned char*>(jwt.signature.data()),
                                      jwt.signature.size());
    case JwtAlg::kES256:
      return key.pkey && verifyEcdsa(jwt, key);
  }
  return false;
}

}  // namespace remora::auth
