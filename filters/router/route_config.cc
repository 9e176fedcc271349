// Parsing of the router's config: the route list and each route's action (cluster, weighted
// clusters, direct response or redirect) with its upstream settings.

#include "route_config.h"

#include <set>

#include <remora/sdk/host.h>
#include "config_parse.h"

namespace remora::router {

using sdk::ConfigErrors;
using sdk::ConfigReader;
using sdk::Json;

namespace {

constexpr int64_t kMaxRetryAttempts = 10;

void parseWeightedClusters(ConfigReader& r, ConfigErrors& errors, Route& route) {
  const Json* list = r.array("weighted_clusters");
  if (!list) return;
  if (list->empty()) {
    r.fail("weighted_clusters", "must not be empty");
    return;
  }
  uint32_t sum = 0;
  std::set<std::string> seen;
  for (size_t i = 0; i < list->size(); ++i) {
    ConfigReader w((*list)[i], sdk::indexPath(r.pathOf("weighted_clusters"), i), errors);
    w.allowOnly({"cluster", "weight"});
    WeightedCluster wc;
    if (auto cluster = w.string("cluster", /*required=*/true)) {
      if (cluster->empty()) w.fail("cluster", "must not be empty");
      if (!seen.insert(*cluster).second) w.fail("cluster", "\"" + *cluster + "\" is listed twice");
      wc.cluster = *cluster;
    }
    if (auto weight = w.integer("weight", 0, 100, /*required=*/true)) {
      wc.weight = static_cast<uint32_t>(*weight);
    }
    sum += wc.weight;
    route.weighted_clusters.push_back(std::move(wc));
  }
  if (r.ok() && sum != 100) {
    r.fail("weighted_clusters", "weights must sum to 100, got " + std::to_string(sum));
  }
}

void parseCanary(ConfigReader& r, ConfigErrors& errors, Route& route) {
  const Json* json = r.object("canary");
  if (!json) return;
  ConfigReader c(*json, r.pathOf("canary"), errors);
  c.allowOnly({"header", "value", "cluster"});
  Canary canary;
  if (auto header = c.string("header", /*required=*/true)) {
    if (!isToken(*header)) c.fail("header", "must be a header name, got \"" + *header + "\"");
    canary.header = toLower(*header);
  }
  canary.value = c.string("value");
  if (auto cluster = c.string("cluster", /*required=*/true)) {
    if (cluster->empty()) c.fail("cluster", "must not be empty");
    canary.cluster = *cluster;
  }
  route.canary = std::move(canary);
}

// Envoy's retry_grpc_on names (the underscore spelling is accepted too); 0 if not one.
uint32_t grpcRetryCondition(std::string_view s) {
  if (s == "cancelled") return REMORA_RETRY_GRPC_CANCELLED;
  if (s == "deadline-exceeded" || s == "deadline_exceeded")
    return REMORA_RETRY_GRPC_DEADLINE_EXCEEDED;
  if (s == "resource-exhausted" || s == "resource_exhausted")
    return REMORA_RETRY_GRPC_RESOURCE_EXHAUSTED;
  if (s == "unavailable") return REMORA_RETRY_GRPC_UNAVAILABLE;
  if (s == "internal") return REMORA_RETRY_GRPC_INTERNAL;
  return 0;
}

void parseRetry(ConfigReader& r, ConfigErrors& errors, Route& route) {
  const Json* json = r.object("retry");
  if (!json) return;
  ConfigReader p(*json, r.pathOf("retry"), errors);
  p.allowOnly({"attempts", "on", "per_try_timeout", "non_idempotent"});
  RetryPolicy& retry = route.retry;
  retry.attempts = static_cast<uint32_t>(p.integer("attempts", 0, kMaxRetryAttempts).value_or(1));
  retry.on = REMORA_RETRY_5XX | REMORA_RETRY_RESET | REMORA_RETRY_CONNECT_FAILURE;
  if (const Json* on = p.array("on")) {
    retry.on = 0;
    if (on->empty()) p.fail("on", "must not be empty (leave it out to retry on every condition)");
    for (size_t i = 0; i < on->size(); ++i) {
      const Json& cond = (*on)[i];
      std::string s = cond.is_string() ? cond.get<std::string>() : std::string();
      if (s == "5xx") {
        retry.on |= REMORA_RETRY_5XX;
      } else if (s == "reset") {
        retry.on |= REMORA_RETRY_RESET;
      } else if (s == "connect_failure") {
        retry.on |= REMORA_RETRY_CONNECT_FAILURE;
      } else if (uint32_t bit = grpcRetryCondition(s)) {
        retry.on |= bit;
      } else {
        errors.fail(sdk::indexPath(p.pathOf("on"), i),
                    "must be one of \"5xx\", \"reset\", \"connect_failure\", \"cancelled\", "
                    "\"deadline-exceeded\", \"internal\", \"resource-exhausted\", "
                    "\"unavailable\", got " +
                        cond.dump());
      }
    }
  }
  retry.per_try_timeout_ms = p.durationMs("per_try_timeout", /*min_ms=*/1).value_or(0);
  retry.non_idempotent = p.boolean("non_idempotent").value_or(false);
  if (p.ok() && route.timeout_ms > 0 && retry.per_try_timeout_ms > route.timeout_ms) {
    p.fail("per_try_timeout",
           "must not exceed the route's timeout (" + std::to_string(route.timeout_ms) + "ms)");
  }
}

void parseDirectResponse(ConfigReader& r, ConfigErrors& errors, Route& route) {
  ConfigReader d(*r.object("direct_response"), r.pathOf("direct_response"), errors);
  d.allowOnly({"status", "body", "content_type"});
  route.direct_response.status = static_cast<int>(d.integer("status", 200, 599).value_or(200));
  route.direct_response.body = d.string("body").value_or("");
  route.direct_response.content_type = d.string("content_type").value_or("text/plain");
  if (!isHeaderValueSafe(route.direct_response.content_type)) {
    d.fail("content_type", "must not contain control characters");
  }
}

void parseRedirect(ConfigReader& r, ConfigErrors& errors, Route& route) {
  ConfigReader d(*r.object("redirect"), r.pathOf("redirect"), errors);
  d.allowOnly({"status", "location", "scheme", "host", "path"});
  Redirect& redirect = route.redirect;
  if (auto status = d.integer("status", 301, 308)) {
    if (*status == 304 || *status == 305 || *status == 306) {
      d.fail("status", "must be one of 301, 302, 303, 307, 308, got " + std::to_string(*status));
    }
    redirect.status = static_cast<int>(*status);
  }
  redirect.location = d.string("location").value_or("");
  redirect.scheme = d.string("scheme").value_or("");
  redirect.host = d.string("host").value_or("");
  redirect.path = d.string("path").value_or("");
  bool has_parts = d.has("scheme") || d.has("host") || d.has("path");
  if (d.has("location") && has_parts) {
    d.failHere("location cannot be combined with scheme, host or path");
  } else if (!d.has("location") && !has_parts) {
    d.failHere("one of location, scheme, host, path is required");
  }
  if (!redirect.scheme.empty() && redirect.scheme != "http" && redirect.scheme != "https") {
    d.fail("scheme", "must be \"http\" or \"https\", got \"" + redirect.scheme + "\"");
  }
  if (d.has("path") && (redirect.path.empty() || redirect.path[0] != '/')) {
    d.fail("path", "must start with '/'");
  }
  for (const char* key : {"location", "host", "path"}) {
    auto value = d.string(key);
    if (value && (value->empty() || !isHeaderValueSafe(*value))) {
      d.fail(key, "must be non-empty and free of control characters");
    }
  }
}

// Settings that only make sense when the route forwards upstream.
void parseUpstreamSettings(ConfigReader& r, ConfigErrors& errors, Route& route) {
  route.timeout_ms = r.durationMs("timeout").value_or(0);
  parseCanary(r, errors, route);
  parseRetry(r, errors, route);
  if (auto rewrite = r.string("prefix_rewrite")) {
    if (route.match.path_kind == RouteMatch::PathKind::kRegex) {
      r.fail("prefix_rewrite", "needs a prefix or path match");
    } else if (!rewrite->empty() && (*rewrite)[0] != '/') {
      r.fail("prefix_rewrite", "must be empty or start with '/'");
    }
    route.prefix_rewrite = std::move(rewrite);
  }
  if (auto host = r.string("host_rewrite")) {
    if (host->empty() || !isHeaderValueSafe(*host) || host->find(' ') != std::string::npos) {
      r.fail("host_rewrite", "must be a host name, got \"" + *host + "\"");
    }
    route.host_rewrite = *host;
  }
}

void parseAction(ConfigReader& r, ConfigErrors& errors, Route& route) {
  int actions =
      r.has("cluster") + r.has("weighted_clusters") + r.has("direct_response") + r.has("redirect");
  if (actions != 1) {
    r.failHere("exactly one of cluster, weighted_clusters, direct_response, redirect is required");
    return;
  }
  if (r.has("cluster")) {
    route.action = Route::Action::kCluster;
    route.cluster = r.string("cluster").value_or("");
    if (r.ok() && route.cluster.empty()) r.fail("cluster", "must not be empty");
  } else if (r.has("weighted_clusters")) {
    route.action = Route::Action::kWeighted;
    parseWeightedClusters(r, errors, route);
  } else {
    bool direct = r.has("direct_response");
    route.action = direct ? Route::Action::kDirectResponse : Route::Action::kRedirect;
    if (!r.object(direct ? "direct_response" : "redirect")) return;
    direct ? parseDirectResponse(r, errors, route) : parseRedirect(r, errors, route);
    for (const char* key : {"timeout", "retry", "canary", "prefix_rewrite", "host_rewrite"}) {
      if (r.has(key)) {
        r.fail(key, std::string("only applies to a route with cluster or weighted_clusters"));
      }
    }
    return;
  }
  parseUpstreamSettings(r, errors, route);
}

void parseRoute(const Json& json, const std::string& path, ConfigErrors& errors, Route& route) {
  ConfigReader r(json, path, errors);
  if (!r.ok()) return;
  r.allowOnly({"name", "match", "cluster", "weighted_clusters", "canary", "timeout", "retry",
               "prefix_rewrite", "host_rewrite", "direct_response", "redirect"});
  route.name = r.string("name").value_or(path);
  if (route.name.empty()) r.fail("name", "must not be empty");
  if (const Json* match = r.object("match", /*required=*/true)) {
    parseMatch(*match, r.pathOf("match"), errors, route.match);
  }
  if (r.ok()) parseAction(r, errors, route);
}

}  // namespace

std::unique_ptr<RouterConfig> parseRouterConfig(const Json& json, std::string& error) {
  ConfigErrors errors;
  auto config = std::make_unique<RouterConfig>();
  {
    ConfigReader top(json, "", errors);
    top.allowOnly({"routes"});
    if (const Json* routes = top.array("routes", /*required=*/true)) {
      config->routes.resize(routes->size());
      std::set<std::string> names;
      for (size_t i = 0; i < routes->size() && !errors.failed(); ++i) {
        std::string path = sdk::indexPath("routes", i);
        parseRoute((*routes)[i], path, errors, config->routes[i]);
        if (!errors.failed() && !names.insert(config->routes[i].name).second) {
          errors.fail(sdk::fieldPath(path, "name"),
                      "\"" + config->routes[i].name + "\" names another route too");
        }
      }
    }
  }
  if (errors.failed()) {
    error = errors.first();
    return nullptr;
  }
  return config;
}

}  // namespace remora::router
