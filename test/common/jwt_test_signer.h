#pragma once
// Test-only JWT minting with OpenSSL: keys generated in the test (RSA 2048, EC P-256, HMAC),
// tokens signed the way an identity provider would, and the same keys exported as PEM or JWK so
// the verifier under test loads them through its real config paths.

#include <openssl/evp.h>

#include <memory>
#include <string>
#include <string_view>

namespace remora::test {

struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
using TestPkey = std::unique_ptr<EVP_PKEY, PkeyFree>;

TestPkey generateRsaKey(unsigned bits = 2048);
TestPkey generateEcP256Key();

std::string publicPem(EVP_PKEY* key);
// {"kty":"RSA","kid":...,"n":...,"e":...} or {"kty":"EC","crv":"P-256",...}; no surrounding set.
std::string publicJwk(EVP_PKEY* key, std::string_view kid);

std::string b64url(std::string_view bytes);

// header and claims are JSON texts; the signature is computed over their base64url forms.
std::string signHs256(std::string_view header, std::string_view claims, std::string_view secret);
std::string signRs256(std::string_view header, std::string_view claims, EVP_PKEY* key);
// Raw r||s (64 bytes) as JWS requires, converted from OpenSSL's DER output.
std::string signEs256(std::string_view header, std::string_view claims, EVP_PKEY* key);
// alg "none": empty signature segment.
std::string unsignedToken(std::string_view header, std::string_view claims);

}  // namespace remora::test
