#pragma once
// JwtVerifier: the whole check of one bearer token — parse, pick the key, verify the signature,
// then the registered claims. Built once per config (main thread), then shared read-only by every
// worker; verify() is const and allocation-light.

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "jwt_key.h"

namespace remora::auth {

// Why a token was refused. Each value is one bounded metric label (jwtFailureName).
enum class JwtFailure {
  kNone,
  kMalformed,      // not a JWS, bad JSON, crit header, oversized
  kAlgNotAllowed,  // "none" or an algorithm this filter does not verify
  kUnknownKey,     // no configured key has the token's kid
  kAlgMismatch,    // keys exist but none is for the token's alg (algorithm confusion)
  kBadSignature,
  kExpired,
  kNotYetValid,
  kMissingExp,
  kBadIssuer,
  kBadAudience,
};
std::string_view jwtFailureName(JwtFailure f);

struct JwtRules {
  std::vector<std::string> issuers;    // empty: any iss
  std::vector<std::string> audiences;  // empty: any aud; else one must match
  int64_t clock_skew_s = 60;           // leeway for exp and nbf, in seconds
  bool require_exp = true;             // a token with no exp never expires: refuse by default
  size_t max_token_bytes = 8192;       // bounds the work an unauthenticated client can ask for
};

struct JwtVerdict {
  JwtFailure failure = JwtFailure::kNone;
  // Fixed text for error_description; never token contents, which would be attacker bytes in a
  // response header.
  std::string_view description;
  std::string subject;              // "sub", empty when absent
  std::vector<std::string> scopes;  // from "scope" (space-separated) or "scp" (list or string)
  std::optional<double> exp;        // the checked NumericDates, so a cache can honour them
  std::optional<double> nbf;
  bool ok() const { return failure == JwtFailure::kNone; }
};

class JwtVerifier {
 public:
  JwtVerifier(std::vector<JwtKey> keys, JwtRules rules)
      : keys_(std::move(keys)), rules_(std::move(rules)) {}

  // `now_unix_s` comes from the host clock so tests can move time.
  JwtVerdict verify(std::string_view token, int64_t now_unix_s) const;

  const std::vector<JwtKey>& keys() const { return keys_; }
  const JwtRules& rules() const { return rules_; }

 private:
  JwtVerdict checkClaims(const nlohmann::json& claims, int64_t now_unix_s) const;

  std::vector<JwtKey> keys_;
  JwtRules rules_;
};

}  // namespace remora::auth
