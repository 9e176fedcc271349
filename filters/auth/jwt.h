#pragma once
// A JWS compact token (RFC 7515 §7.1) split and decoded, and its signature checked against one
// key. No claim is trusted here: claims are checked by JwtVerifier after the signature. Worker
// threads; no exceptions.

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <string_view>

#include "jwt_key.h"

namespace remora::auth {

struct Jwt {
  std::string alg;        // header "alg", as written (may be "none": the verifier refuses it)
  std::string kid;        // header "kid", empty when absent
  nlohmann::json claims;  // payload, a JSON object
  std::string_view signing_input;  // "<header>.<payload>", a view into the token passed to parse
  std::string signature;           // decoded bytes
};

// Splits and decodes `token`. Returns nullopt with `why` set when it is not a well-formed JWS:
// wrong segment count, bad base64url, header or payload not a JSON object, no "alg" string, or a
// "crit" header (no extension is understood, so RFC 7515 §4.1.11 says reject).
std::optional<Jwt> parseJwt(std::string_view token, std::string* why);

// Checks `jwt.signature` over `jwt.signing_input` with `key`, using key.alg — never the token's
// own alg, which the caller has already compared. HMAC tags are compared in constant time;
// ES256 signatures arrive as raw r||s (RFC 7518 §3.4) and are re-encoded as DER for OpenSSL.
bool verifySignature(const Jwt& jwt, const JwtKey& key);

}  // namespace remora::auth
