#pragma once
// The path form rules are matched against. An auth rule on "/admin" must also catch
// "//admin", "/x/../admin" and "/%61dmin", which many upstreams treat as /admin: so matching
// uses the path after RFC 3986 normalization (§6.2.2: decode percent-encoded unreserved bytes,
// remove dot segments) plus merged slashes. The request itself is forwarded unchanged.

#include <string>
#include <string_view>

namespace remora::auth {

// `target` is a request target: origin-form "/p?q" or absolute-form "http://h/p?q". Returns the
// normalized path without query or fragment; always starts with '/'.
std::string normalizeForMatch(std::string_view target);

// The query of a request target (after '?', before '#'), empty when there is none.
std::string_view targetQuery(std::string_view target);

}  // namespace remora::auth
