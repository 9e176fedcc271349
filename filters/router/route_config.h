#pragma once
// The router's config, parsed once at config time into immutable structs that every worker
// reads without locks. Regexes are compiled here (RE2 is safe for concurrent const use), so a
// pattern RE2 rejects is a config error and never a request-time surprise.

#include <re2/re2.h>
#include <nlohmann/json.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace remora::router {

// One header or query-parameter condition: exactly one of exact, regex or present.
struct ValueMatcher {
  enum class Kind { kExact, kRegex, kPresent };
  std::string name;  // headers: lower-cased; query: as written
  Kind kind = Kind::kPresent;
  std::string exact;
  std::unique_ptr<const RE2> regex;  // full match
  bool present = true;               // kPresent: false means "must be absent"
};

struct RouteMatch {
  enum class PathKind { kPrefix, kPath, kRegex };
  PathKind path_kind = PathKind::kPrefix;
  std::string path;                  // the prefix or the exact path
  std::unique_ptr<const RE2> regex;  // kRegex: full match on the path without the query
  std::vector<std::string> methods;  // upper-case; empty = any
  std::vector<ValueMatcher> headers;
  std::vector<ValueMatcher> query;
  // Host (Host header, port ignored unless the pattern has one), lower-case; "*.x" matches any
  // subdomain of x. Empty = any.
  std::string host;
  // The connection's original destination (transparent interception): `original_dst_host` in
  // canonical text (empty = any host), `original_dst_port` (0 = any port). Unset unless
  // `has_original_dst`.
  bool has_original_dst = false;
  std::string original_dst_host;
  uint16_t original_dst_port = 0;
};

struct WeightedCluster {
  std::string cluster;
  uint32_t weight = 0;  // weights of one route sum to 100
};

// Sends the request to `cluster` instead when header `header` equals `value` (or, with no value,
// is present).
struct Canary {
  std::string header;  // lower-cased
  std::optional<std::string> value;
  std::string cluster;
};

struct RetryPolicy {
  uint32_t attempts = 0;  // retries after the first try
  uint32_t on = 0;        // REMORA_RETRY_* bits
  uint32_t per_try_timeout_ms = 0;
  bool non_idempotent = false;
};

struct DirectResponse {
  int status = 200;
  std::string body;
  std::string content_type;  // sent only with a body
};

// Location is `location` when set; otherwise built from the request with host and/or path
// replaced, and the scheme (default "http").
struct Redirect {
  int status = 301;
  std::string location;
  std::string scheme;
  std::string host;
  std::string path;
};

struct Route {
  enum class Action { kCluster, kWeighted, kDirectResponse, kRedirect };
  std::string name;  // `name`, else "routes[i]"; used in logs, metadata and metric labels
  RouteMatch match;
  Action action = Action::kCluster;
  std::string cluster;
  std::vector<WeightedCluster> weighted_clusters;
  std::optional<Canary> canary;
  uint32_t timeout_ms = 0;  // 0 = the cluster's response timeout
  RetryPolicy retry;
  std::optional<std::string> prefix_rewrite;
  std::string host_rewrite;
  DirectResponse direct_response;
  Redirect redirect;
};

struct RouterConfig {
  std::vector<Route> routes;
};

// Parses and validates the router's config block. On error returns nullptr and sets `error` to
// "<json path>: <what is wrong>", e.g. `routes[3].match.regex: invalid regex "(": missing )`.
std::unique_ptr<RouterConfig> parseRouterConfig(const nlohmann::json& json, std::string& error);

}  // namespace remora::router
