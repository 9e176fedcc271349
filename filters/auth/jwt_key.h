#pragma once
// A JWT verification key: an HMAC secret (HS256) or a public key (RS256, ES256), with the one
// algorithm it may verify. Binding each key to exactly one algorithm is what defeats algorithm
// confusion: a token whose header says HS256 can never be checked against an RSA key's bytes.
//
// Keys are built on the main thread at config time and only read afterwards, from any worker.

#include <remora/sdk/result.h>

#include <optional>
#include <string>
#include <string_view>

#include "openssl_handles.h"

namespace remora::auth {

enum class JwtAlg { kHS256, kRS256, kES256 };

// "HS256" -> kHS256 ...; nullopt for anything else, "none" included.
std::optional<JwtAlg> parseJwtAlg(std::string_view name);
std::string_view jwtAlgName(JwtAlg alg);

// HS256 secrets shorter than the hash output are refused (RFC 7518 §3.2).
inline constexpr size_t kMinHmacSecretBytes = 32;
// RSA moduli below this are refused (RFC 7518 §3.3 requires 2048).
inline constexpr int kMinRsaBits = 2048;

struct JwtKey {
  std::string kid;  // empty: matches tokens without a kid, or any kid when no key claims it
  JwtAlg alg = JwtAlg::kHS256;
  std::string secret;  // HS256 only
  // HS256 only: HMAC-SHA256 fetched and keyed once at config time. Verification duplicates it
  // (reading it only, so workers share it) instead of fetching the algorithm and running the key
  // schedule per token, which is most of what one-shot HMAC() costs in OpenSSL 3.
  SharedMacCtx hmac;
  SharedPkey pkey;  // RS256 / ES256 only
};

// An HS256 key from raw secret bytes.
sdk::Result<JwtKey> makeHmacKey(std::string kid, std::string secret);

// A public key from PEM text ("PUBLIC KEY" or "CERTIFICATE"). `alg` is inferred from the key type
// when absent (RSA -> RS256, EC P-256 -> ES256) and must agree with it when present.
sdk::Result<JwtKey> makePemKey(std::string kid, std::optional<JwtAlg> alg, std::string_view pem);

// Wraps an already-built EVP_PKEY (from a JWK), checking type, size and curve against `alg`.
sdk::Result<JwtKey> makePublicKey(std::string kid, JwtAlg alg, EvpPkeyPtr pkey);

}  // namespace remora::auth
