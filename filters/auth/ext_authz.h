#pragma once
// External authorization over HTTP: what is sent to the auth service, and what its answer means.
// The call itself goes through the host's async client (the filter makes it); this file is pure.

#include "authenticator.h"

namespace remora::auth {

// Headers for the callout: each configured forward_headers entry the request carries, plus
// x-forwarded-method, x-forwarded-uri and x-forwarded-host so the service can decide per route.
HeaderPairs extAuthzRequestHeaders(const ExtAuthzSettings& ext, const RequestView& request);

}  // namespace remora::auth
