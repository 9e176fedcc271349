#include "jwt_test_signer.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <nlohmann/json.hpp>

#include <stdexcept>
#include <vector>

namespace remora::test {
namespace {

std::string bnParam(EVP_PKEY* key, const char* name, int pad = 0) {
  BIGNUM* bn = nullptr;
  if (EVP_PKEY_get_bn_param(key, name, &bn) != 1) throw std::runtime_error(name);
  std::string out(pad > 0 ? static_cast<size_t>(pad) : static_cast<size_t>(BN_num_bytes(bn)), '\0');
  BN_bn2binpad(bn, reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(out.size()));
  BN_free(bn);
  return out;
}

std::string signingInput(std::string_view header, std::string_view claims) {
  return b64url(header) + "." + b64url(claims);
}

std::string digestSign(EVP_PKEY* key, std::string_view input) {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  size_t len = 0;
  EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, key);
  EVP_DigestSign(ctx, nullptr, &len, reinterpret_cast<const unsigned char*>(input.data()),
                 input.size());
  std::string sig(len, '\0');
  EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &len,
                 reinterpret_cast<const unsigned char*>(input.data()), input.size());
  EVP_MD_CTX_free(ctx);
  sig.resize(len);
  return sig;
}

}  // namespace

TestPkey generateRsaKey(unsigned bits) {
  return TestPkey(EVP_RSA_gen(bits));
}
TestPkey generateEcP256Key() {
  return TestPkey(EVP_EC_gen("P-256"));
}

std::string publicPem(EVP_PKEY* key) {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PUBKEY(bio, key);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  std::string out(data, static_cast<size_t>(len));
  BIO_free(bio);
  return out;
}

std::string publicJwk(EVP_PKEY* key, std::string_view kid) {
  nlohmann::json jwk;
  if (EVP_PKEY_is_a(key, "RSA")) {
    jwk = {{"kty", "RSA"},
           {"n", b64url(bnParam(key, OSSL_PKEY_PARAM_RSA_N))},
           {"e", b64url(bnParam(key, OSSL_PKEY_PARAM_RSA_E))}};
  } else {
    jwk = {{"kty", "EC"},
           {"crv", "P-256"},
           {"x", b64url(bnParam(key, OSSL_PKEY_PARAM_EC_PUB_X, 32))},
           {"y", b64url(bnParam(key, OSSL_PKEY_PARAM_EC_PUB_Y, 32))}};
  }
  if (!kid.empty()) jwk["kid"] = std::string(kid);
  return jwk.dump();
}

std::string b64url(std::string_view bytes) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : bytes) {
    acc = (acc << 8) | static_cast<uint8_t>(c);
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out.push_back(kAlphabet[(acc >> bits) & 0x3f]);
    }
  }
  if (bits > 0) out.push_back(kAlphabet[(acc << (6 - bits)) & 0x3f]);
  return out;
}

std::string signHs256(std::string_view header, std::string_view claims, std::string_view secret) {
  std::string input = signingInput(header, claims);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, &len);
  return input + "." + b64url(std::string_view(reinterpret_cast<char*>(mac), len));
}

std::string signRs256(std::string_view header, std::string_view claims, EVP_PKEY* key) {
  std::string input = signingInput(header, claims);
  return input + "." + b64url(digestSign(key, input));
}

std::string signEs256(std::string_view header, std::string_view claims, EVP_PKEY* key) {
  std::string input = signingInput(header, claims);
  std::string der = digestSign(key, input);
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  ECDSA_SIG* sig = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size()));
  const BIGNUM* r = nullptr;
  const BIGNUM* s = nullptr;
  ECDSA_SIG_get0(sig, &r, &s);
  std::string raw(64, '\0');
  BN_bn2binpad(r, reinterpret_cast<unsigned char*>(raw.data()), 32);
  BN_bn2binpad(s, reinterpret_cast<unsigned char*>(raw.data()) + 32, 32);
  ECDSA_SIG_free(sig);
  return input + "." + b64url(raw);
}

std::string unsignedToken(std::string_view header, std::string_view claims) {
  return signingInput(header, claims) + ".";
}

}  // namespace remora::test
