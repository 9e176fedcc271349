#include "decision.h"

namespace remora::auth {

std::string_view allowReasonName(AllowReason r) {
  static constexpr std::string_view kNames[kAllowReasonCount] = {
      "none", "jwt", "api_key", "ext_authz", "ext_authz_fail_open", "mtls"};
  return kNames[static_cast<size_t>(r)];
}

std::string_view denyReasonName(DenyReason r) {
  static constexpr std::string_view kNames[kDenyReasonCount] = {
      "missing_credentials",   "jwt_malformed",      "jwt_alg_not_allowed", "jwt_unknown_key",
      "jwt_alg_mismatch",      "jwt_bad_signature",  "jwt_expired",         "jwt_not_yet_valid",
      "jwt_missing_exp",       "jwt_bad_issuer",     "jwt_bad_audience",    "invalid_api_key",
      "principal_not_allowed", "insufficient_scope", "ext_authz_denied",    "ext_authz_error"};
  return kNames[static_cast<size_t>(r)];
}

DenyReason denyReasonFor(JwtFailure f) {
  switch (f) {
    case JwtFailure::kNone:
    case JwtFailure::kMalformed:
      return DenyReason::kJwtMalformed;
    case JwtFailure::kAlgNotAllowed:
      return DenyReason::kJwtAlgNotAllowed;
    case JwtFailure::kUnknownKey:
      return DenyReason::kJwtUnknownKey;
    case JwtFailure::kAlgMismatch:
      return DenyReason::kJwtAlgMismatch;
    case JwtFailure::kBadSignature:
      return DenyReason::kJwtBadSignature;
    case JwtFailure::kExpired:
      return DenyReason::kJwtExpired;
    case JwtFailure::kNotYetValid:
      return DenyReason::kJwtNotYetValid;
    case JwtFailure::kMissingExp:
      return DenyReason::kJwtMissingExp;
    case JwtFailure::kBadIssuer:
      return DenyReason::kJwtBadIssuer;
    case JwtFailure::kBadAudience:
      return DenyReason::kJwtBadAudience;
  }
  return DenyReason::kJwtMalformed;
}

}  // namespace remora::auth
