#pragma once
// Route matching: which route, if any, a request takes. Routes are tried in config order and the
// first whose every condition holds wins; there is no "most specific" ranking, so the operator
// controls precedence by order alone.

#include <optional>
#include <string>
#include <string_view>

#include "request_view.h"
#include "route_config.h"

namespace remora::router {

// True if every condition of `match` holds for `request`.
bool routeMatches(const RouteMatch& match, const RequestView& request);

// The first matching route, or nullptr for "no route".
const Route* findRoute(const RouterConfig& config, const RequestView& request);

// True if `authority` (a Host header, maybe with a port) matches the lower-case host pattern.
bool hostMatches(std::string_view pattern, std::string_view authority);

}  // namespace remora::router
