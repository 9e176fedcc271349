#pragma once
// What the auth filter decided for one request, and the bounded reasons it counts.

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "jwt_verifier.h"

namespace remora::auth {

// Label values of remora_filter_auth_allowed_total{method}.
enum class AllowReason : uint8_t {
  kNoneRequired,
  kJwt,
  kApiKey,
  kExtAuthz,
  kExtAuthzFailOpen,
  kMtls,
};
inline constexpr size_t kAllowReasonCount = 6;
std::string_view allowReasonName(AllowReason r);

// Label values of remora_filter_auth_denied_total{reason}. Every JwtFailure has its own, so an
// operator can tell clock trouble (expired, not_yet_valid) from forgery (bad_signature).
enum class DenyReason : uint8_t {
  kMissingCredentials,
  kJwtMalformed,
  kJwtAlgNotAllowed,
  kJwtUnknownKey,
  kJwtAlgMismatch,
  kJwtBadSignature,
  kJwtExpired,
  kJwtNotYetValid,
  kJwtMissingExp,
  kJwtBadIssuer,
  kJwtBadAudience,
  kInvalidApiKey,
  kPrincipalNotAllowed,
  kInsufficientScope,
  kExtAuthzDenied,
  kExtAuthzError,
};
inline constexpr size_t kDenyReasonCount = 16;
std::string_view denyReasonName(DenyReason r);
DenyReason denyReasonFor(JwtFailure f);

using HeaderPairs = std::vector<std::pair<std::string, std::string>>;

struct Decision {
  enum class Kind : uint8_t {
    kAllow,
    kDeny,
    kCallout,  // ask the external authorization service, then completeExtAuthz()
  };
  Kind kind = Kind::kDeny;

  // kAllow
  AllowReason allowed_by = AllowReason::kNoneRequired;
  std::string principal;         // empty: none to record
  HeaderPairs upstream_headers;  // set on the request before it goes upstream (ext authz)

  // kDeny
  DenyReason reason = DenyReason::kMissingCredentials;
  int status = 401;
  HeaderPairs reply_headers;  // WWW-Authenticate, content-type
  std::string body;
};

}  // namespace remora::auth
