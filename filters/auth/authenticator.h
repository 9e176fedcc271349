#pragma once
// The auth decision for one request, without the host: which credentials a route needs, whether
// the request's are valid, whether the principal may pass, and the reply when not. Worker
// thread; reads only the shared, immutable AuthConfig.
//
// JWT and API keys are checked synchronously. When a route also needs the external service,
// authenticate() returns kCallout with a CalloutState; the filter makes the call and hands the
// answer to completeExtAuthz().

#include <cstdint>
#include <string>
#include <vector>

#include "auth_config.h"
#include "credentials.h"
#include "decision.h"
#include "jwt_cache.h"

namespace remora::auth {

// What the synchronous part learned, carried across the callout.
struct CalloutState {
  const Requirement* requirement = nullptr;
  // all_of: the principal and scopes from the methods already checked.
  bool have_principal = false;
  AllowReason allowed_by = AllowReason::kExtAuthz;
  std::string principal;
  std::vector<std::string> scopes;
};

// `jwt_cache`: this worker's cache of verified tokens for `config`, or nullptr to verify every
// token. A hit skips only the token's verification; the route's scopes and principals are
// checked as for a fresh one.
Decision authenticate(const AuthConfig& config, const Requirement& requirement,
                      const RequestView& request, int64_t now_unix_s, CalloutState* pending,
                      JwtCache* jwt_cache = nullptr);

// Authorization once authenticated: the requirement's principal list and JWT scopes. Returns
// kAllow (allowed_by `by`, with `principal`) or a 403 kDeny.
Decision authorize(const AuthConfig& config, const Requirement& requirement, AllowReason by,
                   std::string principal, const std::vector<std::string>& scopes);

// The auth service's answer: `status` 0 when the call failed (connect error, timeout).
struct CalloutResponse {
  int status = 0;
  HeaderPairs headers;  // names as received
  std::string_view body;
};

// 2xx: allow (principal from the synchronous methods, else the principal_header; upstream_headers
// copied); 401/403: deny with the service's status, challenge and body; anything else, 0
// included: allow or deny by failure_mode.
Decision completeExtAuthz(const AuthConfig& config, const CalloutState& pending,
                          const CalloutResponse& response);

}  // namespace remora::auth
