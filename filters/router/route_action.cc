#include "route_action.h"

#include <algorithm>

namespace remora::router {

const std::string& pickWeighted(const std::vector<WeightedCluster>& clusters, uint32_t roll) {
  uint32_t cumulative = 0;
  for (const WeightedCluster& wc : clusters) {
    cumulative += wc.weight;
    if (roll < cumulative) return wc.cluster;
  }
  // Only reached if roll >= 100; weights sum to 100, so the last non-zero one is the fair answer.
  for (auto it = clusters.rbegin(); it != clusters.rend(); ++it) {
    if (it->weight > 0) return it->cluster;
  }
  return clusters.back().cluster;
}

const std::string& pickCluster(const Route& route, const RequestView& request, uint32_t roll) {
  if (route.canary) {
    std::optional<std::string_view> value = request.header(route.canary->header);
    if (value && (!route.canary->value || *value == *route.canary->value)) {
      return route.canary->cluster;
    }
  }
  if (route.action == Route::Action::kWeighted) return pickWeighted(route.weighted_clusters, roll);
  return route.cluster;
}

std::string rewriteTarget(const Route& route, std::string_view target) {
  if (!route.prefix_rewrite) return std::string();
  // The route matched, so the target starts with the prefix (or is the exact path plus a
  // query); what follows it — the rest of the path and the query — is kept.
  const std::string& prefix = *route.prefix_rewrite;  // empty or starting with '/'
  std::string_view rest = target.substr(std::min(route.match.path.size(), target.size()));
  std::string out;
  out.reserve(prefix.size() + rest.size() + 1);
  if (prefix.empty() && (rest.empty() || rest[0] != '/')) out.push_back('/');
  out.append(prefix);
  out.append(rest);
  return out;
}

std::string redirectLocation(const Redirect& redirect, const RequestView& request) {
  if (!redirect.location.empty()) return redirect.location;
  std::string out = redirect.scheme.empty() ? "http" : redirect.scheme;
  out += "://";
  out += redirect.host.empty() ? request.authority() : std::string_view(redirect.host);
  if (redirect.path.empty()) {
    out += request.target();
  } else {
    out += redirect.path;
    // Like a path swap in a browser bar: the request's query stays unless the new path has one.
    std::string_view query = queryOf(request.target());
    if (redirect.path.find('?') == std::string::npos && !query.empty()) {
      out += '?';
      out += query;
    }
  }
  return out;
}

}  // namespace remora::router
