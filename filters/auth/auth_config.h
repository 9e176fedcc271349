#pragma once
// The auth filter's config: parsed once from the filter's JSON block on the main thread, frozen,
// and shared read-only by every worker's streams (shared_ptr<const AuthConfig>). The field
// reference is README.md in this folder.

#include <remora/sdk/result.h>

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api_keys.h"
#include "jwt_verifier.h"

namespace remora::auth {

// kMtls: the client certificate the listener's TLS verified (stream metadata
// remora.peer.identity); the identity is the principal. It needs no section of its own.
enum class Method : uint8_t { kJwt, kApiKey, kExtAuthz, kMtls };
std::string_view methodName(Method m);

// What a route asks of a request.
struct Requirement {
  enum class Mode : uint8_t {
    kNone,   // no credentials needed
    kAllOf,  // `require: [a, b]`: every method must succeed; the first listed names the principal
    kAnyOf,  // `require: {any_of: [a, b]}`: one is enough
  };
  Mode mode = Mode::kNone;
  std::vector<Method> methods;          // config order; empty iff kNone
  std::vector<std::string> principals;  // non-empty: the principal must be one of these (403)
  std::vector<std::string> scopes;      // non-empty: the JWT must carry all of these (403)

  bool uses(Method m) const;
};

struct Rule {
  std::string prefix;
  std::vector<std::string> methods;  // upper case; empty = every method
  Requirement requirement;
  bool matches(std::string_view normalized_path, std::string_view method) const;
};

// Where a credential is read from: a header (with an optional scheme prefix such as "Bearer ")
// and/or a query parameter. The header wins when both are present.
struct CredentialSource {
  std::string header;  // lower case; empty = not read from a header
  std::string prefix;  // e.g. "Bearer "; matched case-insensitively, then stripped
  std::string query_param;
};

struct JwtSettings {
  CredentialSource source;
  std::shared_ptr<const JwtVerifier> verifier;
  size_t cache_size = 1000;  // verified tokens remembered per worker (JwtCache); 0: none
};

struct ApiKeySettings {
  CredentialSource source;
  ApiKeyStore store;
};

struct ExtAuthzSettings {
  std::string cluster;
  std::string path;
  std::string method = "GET";
  uint32_t timeout_ms = 1000;
  std::vector<std::string> forward_headers;   // request headers sent to the auth service
  std::vector<std::string> upstream_headers;  // auth response headers copied onto the request
  std::string principal_header;               // auth response header naming the principal
  bool fail_open = false;                     // on error/timeout/unexpected status
  int status_on_error = 503;                  // the reply when failing closed
  size_t max_deny_body_bytes = 4096;          // of the auth service's deny body relayed
};

struct AuthConfig {
  std::string realm = "remora";
  std::optional<JwtSettings> jwt;
  std::optional<ApiKeySettings> api_key;
  std::optional<ExtAuthzSettings> ext_authz;
  std::vector<Rule> rules;
  Requirement default_requirement;

  // The first rule whose prefix matches `normalized_path` (see normalizeForMatch) and whose
  // methods (if any) include `method`, else the default.
  const Requirement& match(std::string_view normalized_path, std::string_view method) const;
};

using AuthConfigPtr = std::shared_ptr<const AuthConfig>;

// Parses and validates the filter's config block. Errors carry the field path inside the block,
// e.g. `rules[1].require[0]: "jwt" needs the jwt section`. Reads key files (pem_file, jwks_file).
sdk::Result<AuthConfigPtr> parseAuthConfig(const nlohmann::json& json);

}  // namespace remora::auth
