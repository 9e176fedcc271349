#include "router_filter.h"

#include "random_percent.h"
#include "route_action.h"
#include "route_matcher.h"

namespace remora::router {

namespace {

// Stream metadata naming the matched route, for the access log and later filters. ("remora.*"
// keys are the kernel's.)
constexpr std::string_view kRouteMetadata = "router.route";

// The stream's request seen through RequestView. Views are valid for the hook's duration.
class StreamRequest : public RequestView {
 public:
  explicit StreamRequest(const sdk::Stream& stream) : stream_(stream) {}
  std::string_view method() const override { return stream_.method(); }
  std::string_view target() const override { return stream_.path(); }
  std::string_view authority() const override { return stream_.authority(); }
  std::optional<std::string_view> header(std::string_view lower_name) const override {
    return stream_.requestHeader(lower_name);
  }
  std::optional<std::string_view> originalDst() const override {
    return stream_.metadata("remora.original_dst");
  }

 private:
  const sdk::Stream& stream_;
};

}  // namespace

std::unique_ptr<RouterPluginConfig> RouterPluginConfig::create(const nlohmann::json& json,
                                                               sdk::ConfigContext& ctx,
                                                               std::string& error) {
  auto config = std::make_unique<RouterPluginConfig>();
  config->routes = parseRouterConfig(json, error);
  if (!config->routes) return nullptr;
  auto matched =
      ctx.counterFamily("router_matched_total", "Requests that took each route", "route");
  for (const Route& route : config->routes->routes) {
    config->matched.push_back(ctx.series(matched, route.name));
  }
  config->no_route = ctx.counter("router_no_route_total", "Requests that matched no route (404)");
  config->refused =
      ctx.counter("router_route_refused_total",
                  "Route decisions the kernel refused, e.g. an unknown cluster (503)");
  return config;
}

sdk::Status RouterFilter::onRequestHeaders(bool) {
  StreamRequest request(stream());
  const Route* route = findRoute(*config_.routes, request);
  if (route == nullptr) {
    config_.no_route.inc(stream());
    return reply(404, "no route\n", {{"content-type", "text/plain"}});
  }
  size_t index = static_cast<size_t>(route - config_.routes->routes.data());
  config_.matched[index].inc(stream());
  stream().setMetadata(kRouteMetadata, route->name);
  switch (route->action) {
    case Route::Action::kDirectResponse: {
      const DirectResponse& d = route->direct_response;
      if (d.body.empty()) return reply(d.status, {}, {});
      return reply(d.status, d.body, {{"content-type", d.content_type}});
    }
    case Route::Action::kRedirect: {
      std::string location = redirectLocation(route->redirect, request);
      return reply(route->redirect.status, {}, {{"location", location}});
    }
    case Route::Action::kCluster:
    case Route::Action::kWeighted:
      return forward(*route);
  }
  return sdk::Status::kError;
}

sdk::Status RouterFilter::forward(const Route& route) {
  StreamRequest request(stream());
  uint32_t roll =
      route.action == Route::Action::kWeighted ? randomPercent(sdk::nowMonotonicUs()) : 0;
  const std::string& cluster = pickCluster(route, request, roll);
  // Computed before set_route: the rewrite replaces the path view it is built from.
  std::string target = rewriteTarget(route, request.target());
  sdk::Route decision;
  decision.cluster = cluster;
  decision.timeout = std::chrono::milliseconds(route.timeout_ms);
  decision.per_try_timeout = std::chrono::milliseconds(route.retry.per_try_timeout_ms);
  decision.retry_max = route.retry.attempts;
  decision.retry_on = route.retry.attempts > 0 ? route.retry.on : 0;
  decision.retry_non_idempotent = route.retry.non_idempotent;
  decision.path = target;
  decision.host = route.host_rewrite;
  std::string why;
  if (stream().setRoute(decision, &why)) return sdk::Status::kContinue;
  config_.refused.inc(stream());
  if (!config_.refusal_logged.exchange(true, std::memory_order_relaxed)) {
    sdk::log(sdk::LogLevel::kWarn, "route " + route.name + " to cluster " + cluster +
                                       " refused by the kernel: " + why +
                                       " (logged once per config; see router_route_refused_total)");
  }
  return reply(503, "no healthy upstream\n", {{"content-type", "text/plain"}});
}

sdk::Status RouterFilter::reply(int status, std::string_view body, sdk::HeaderList headers) {
  // False only if a response already started, which cannot happen at request headers.
  stream().sendLocalReply(status, body, headers);
  return sdk::Status::kReplied;
}

}  // namespace remora::router

REMORA_FILTER_PLUGIN("router", "1.0.0", 1000, remora::router::RouterPluginConfig,
                     remora::router::RouterFilter)
