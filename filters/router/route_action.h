#pragma once
// What a matched route does with a request: which cluster (canary header, then weights), the
// rewritten target, and where a redirect points. Pure functions of the route and the request, so
// they are tested without a kernel.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "request_view.h"
#include "route_config.h"

namespace remora::router {

// The cluster for a forwarding route. `roll` is uniform in [0, 100) and picks among weighted
// clusters; a request carrying the canary header goes to the canary cluster whatever the roll.
const std::string& pickCluster(const Route& route, const RequestView& request, uint32_t roll);

// The cluster among `clusters` for `roll` in [0, 100): cumulative weights, zero weights never.
const std::string& pickWeighted(const std::vector<WeightedCluster>& clusters, uint32_t roll);

// The request target after prefix_rewrite (query kept); empty when the route does not rewrite.
std::string rewriteTarget(const Route& route, std::string_view target);

// The Location of a redirect route for this request.
std::string redirectLocation(const Redirect& redirect, const RequestView& request);

}  // namespace remora::router
