#pragma once
// Internal to the router's config parser: the pieces route_config.cc and match_config.cc share.

#include <remora/sdk/config_reader.h>

#include <memory>
#include <string>
#include <string_view>

#include "route_config.h"

namespace remora::router {

// Compiles `pattern` for field `key` of `r`; on failure records
// `<path>.<key>: invalid regex "<pattern>": <RE2's reason>` and returns nullptr.
std::unique_ptr<const RE2> compileRegex(sdk::ConfigReader& r, std::string_view key,
                                        const std::string& pattern);

// Parses the `match` object at `path` into `out`.
void parseMatch(const sdk::Json& json, const std::string& path, sdk::ConfigErrors& errors,
                RouteMatch& out);

// True if `s` is a non-empty RFC 9110 token (header names, methods).
bool isToken(std::string_view s);
// True if `s` has no control characters, so it can go into a header value as is.
bool isHeaderValueSafe(std::string_view s);
std::string toLower(std::string_view s);

}  // namespace remora::router
