#pragma once
// Deny replies: RFC 6750 challenges (Bearer) and the matching ApiKey challenge, with a small
// JSON body. Descriptions are fixed strings from this filter, never request bytes.

#include <string>
#include <string_view>
#include <vector>

#include "auth_config.h"
#include "decision.h"

namespace remora::auth {

// The challenge for a method: `error` empty for missing credentials (RFC 6750 §3.1: no error
// code when the request had no authentication information). nullopt-like empty string for
// ext_authz, which has no scheme of its own.
std::string challenge(const AuthConfig& config, Method method, std::string_view error,
                      std::string_view description, std::string_view scope = {});

// A deny decision with `status`, `reason`, the challenges given, and a JSON body
// {"error": ..., "error_description": ...}.
Decision denyWith(int status, DenyReason reason, std::string_view error,
                  std::string_view description, const std::vector<std::string>& challenges);

}  // namespace remora::auth
