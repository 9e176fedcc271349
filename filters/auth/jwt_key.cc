#include "jwt_key.h"

#include <openssl/core_names.h>
#include <openssl/pem.h>

#include <cstring>

namespace remora::auth {

std::optional<JwtAlg> parseJwtAlg(std::string_view name) {
  if (name == "HS256") return JwtAlg::kHS256;
  if (name == "RS256") return JwtAlg::kRS256;
  if (name == "ES256") return JwtAlg::kES256;
  return std::nullopt;
}

std::string_view jwtAlgName(JwtAlg alg) {
  switch (alg) {
    case JwtAlg::kHS256:
      return "HS256";
    case JwtAlg::kRS256:
      return "RS256";
    case JwtAlg::kES256:
      return "ES256";
  }
  return "?";
}

sdk::Result<JwtKey> makeHmacKey(std::string kid, std::string secret) {
  if (secret.size() < kMinHmacSecretBytes) {
    return sdk::Error{"HS256 secret must be at least " + std::to_string(kMinHmacSecretBytes) +
                      " bytes, got " + std::to_string(secret.size())};
  }
  EvpMacPtr mac(EVP_MAC_fetch(nullptr, "HMAC", nullptr));
  EvpMacCtxPtr ctx(mac ? EVP_MAC_CTX_new(mac.get()) : nullptr);
  char digest[] = "SHA256";
  OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                         OSSL_PARAM_construct_end()};
  if (!ctx || EVP_MAC_init(ctx.get(), reinterpret_cast<const unsigned char*>(secret.data()),
                           secret.size(), params) != 1) {
    return sdk::Error{"HMAC-SHA256 is not available"};
  }
  JwtKey key;
  key.kid = std::move(kid);
  key.alg = JwtAlg::kHS256;
  key.secret = std::move(secret);
  key.hmac = SharedMacCtx(ctx.release(), EvpMacCtxDeleter{});
  return key;
}

namespace {

EvpPkeyPtr readPem(std::string_view pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return nullptr;
  EvpPkeyPtr pkey(PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr));
  if (pkey) return pkey;
  // Not a bare public key: a certificate is the other form identity providers publish.
  BIO_reset(bio.get());
  X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (!cert) return nullptr;
  return EvpPkeyPtr(X509_get_pubkey(cert.get()));
}

std::optional<JwtAlg> algForKey(EVP_PKEY* pkey) {
  if (EVP_PKEY_is_a(pkey, "RSA")) return JwtAlg::kRS256;
  if (EVP_PKEY_is_a(pkey, "EC")) return JwtAlg::kES256;
  return std::nullopt;
}

}  // namespace

sdk::Result<JwtKey> makePublicKey(std::string kid, JwtAlg alg, EvpPkeyPtr pkey) {
  if (!pkey) return sdk::Error{"no key"};
  switch (alg) {
    case JwtAlg::kHS256:
      return sdk::Error{"HS256 takes a secret, not a public key"};
    case JwtAlg::kRS256:
      if (!EVP_PKEY_is_a(pkey.get(), "RSA")) return sdk::Error{"RS256 needs an RSA key"};
      if (EVP_PKEY_get_bits(pkey.get()) < kMinRsaBits) {
        return sdk::Error{"RSA key must be at least " + std::to_string(kMinRsaBits) +
                          " bits, got " + std::to_string(EVP_PKEY_get_bits(pkey.get()))};
      }
      break;
    case JwtAlg::kES256: {
      if (!EVP_PKEY_is_a(pkey.get(), "EC")) return sdk::Error{"ES256 needs an EC key"};
      char group[64] = {0};
      size_t len = 0;
      if (EVP_PKEY_get_utf8_string_param(pkey.get(), OSSL_PKEY_PARAM_GROUP_NAME, group,
                                         sizeof(group), &len) != 1 ||
          std::strcmp(group, "prime256v1") != 0) {
        return sdk::Error{"ES256 needs an EC key on curve P-256"};
      }
      break;
    }
  }
  JwtKey key;
  key.kid = std::move(kid);
  key.alg = alg;
  key.pkey = sharePkey(std::move(pkey));
  return key;
}

sdk::Result<JwtKey> makePemKey(std::string kid, std::optional<JwtAlg> alg, std::string_view pem) {
  EvpPkeyPtr pkey = readPem(pem);
  if (!pkey) return sdk::Error{"not a PEM public key or certificate"};
  std::optional<JwtAlg> inferred = algForKey(pkey.get());
  if (!inferred) return sdk::Error{"unsupported key type (want RSA or EC P-256)"};
  if (alg && *alg != *inferred) {
    return sdk::Error{"alg " + std::string(jwtAlgName(*alg)) + " does not match the key's type (" +
                      std::string(jwtAlgName(*inferred)) + ")"};
  }
  return makePublicKey(std::move(kid), *inferred, std::move(pkey));
}

}  // namespace remora::auth
