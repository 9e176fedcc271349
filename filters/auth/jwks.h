#pragma once
// JSON Web Key Sets (RFC 7517) into verification keys: RSA (n, e) for RS256, EC P-256 (x, y) for
// ES256, and "oct" (k) for HS256. Main thread, config time.

#include <remora/sdk/result.h>

#include <string_view>
#include <vector>

#include "jwt_key.h"

namespace remora::auth {

// Parses a JWKS document ({"keys": [...]}). Keys whose `use` is not "sig", or whose `kty` or
// `alg` this filter does not verify (e.g. OKP, PS256), are skipped, so a provider's full set can
// be used as is; a supported key that is malformed is an error naming it (`keys[2].n: ...`). A
// set left with no usable key is an error too.
sdk::Result<std::vector<JwtKey>> parseJwks(std::string_view json);

}  // namespace remora::auth
