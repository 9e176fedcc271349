#pragma once
// The request path every filter and the upstream see, made once in the codec (HTTP/1 target and
// HTTP/2 `:path` alike), so that a filter deciding on `/public/x` never lets `/public/../admin`
// through (Envoy's CVE-2019-9901 was this).
//
// On the path part (before `?`; the query goes on as sent):
//   - percent-encoded unreserved characters (ALPHA DIGIT - . _ ~) are decoded, other
//     percent-encodings keep their bytes with upper-case hex ("%2f" -> "%2F");
//   - `%2F`, `%5C` and a raw backslash follow the listener's `encoded_slashes` policy: kept as
//     sent, refused, or decoded to "/" (then part of the segment rules below);
//   - dot segments are removed (RFC 3986 §5.2.4), so "/a/./b/../c" -> "/a/c", and so are
//     percent-encoded ones ("%2e%2E");
//   - repeated slashes are merged when `merge_slashes` is on.
// Refused (400): a fragment (`#`), a `..` that climbs above the root, a `%` not followed by two
// hex digits, and an encoded slash or backslash under `encoded_slashes: reject`.
//
// Pure functions: no state, callable from any thread.

#include <cstdint>
#include <string>
#include <string_view>

#include "config/config.h"

namespace remora::http {

enum class TargetError : uint8_t { kNone, kFragment, kAboveRoot, kBadPercent, kEncodedSlash };

// The plain-text reason a 400 gives for `e`, e.g. "fragment in request target".
const char* targetErrorText(TargetError e);

// True when `target` (origin form) may differ from its normalized form; false for a plain path
// (no `%`, no `#`, no dot segment, no `//` when merging, no backslash unless kept). One scan, no
// allocation: the common request stops here.
bool targetNeedsNormalizing(std::string_view target, const config::PathNormalization& policy);

// Normalizes the origin-form `target` in place. When the result differs, the target as received
// is moved to `original`; otherwise `original` is not touched. On an error `target` is unchanged.
TargetError normalizeTarget(std::string& target, const config::PathNormalization& policy,
                            std::string& original);

// The same, writing the normalized form of `target` to `out` (always, even when unchanged).
TargetError normalizeTargetTo(std::string_view target, const config::PathNormalization& policy,
                              std::string& out);

}  // namespace remora::http
