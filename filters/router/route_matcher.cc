#include "route_matcher.h"

#include <remora/sdk/query.h>

#include <cctype>

namespace remora::router {

namespace {

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) != static_cast<unsigned char>(b[i])) {
      return false;
    }
  }
  return true;
}

// Strips ":port" (also after an IPv6 literal's ']').
std::string_view hostWithoutPort(std::string_view authority) {
  size_t from = 0;
  if (!authority.empty() && authority[0] == '[') {
    from = authority.find(']');
    if (from == std::string_view::npos) return authority;
  }
  size_t colon = authority.find(':', from);
  return colon == std::string_view::npos ? authority : authority.substr(0, colon);
}

bool valueMatches(const ValueMatcher& m, std::optional<std::string_view> value) {
  switch (m.kind) {
    case ValueMatcher::Kind::kPresent:
      return value.has_value() == m.present;
    case ValueMatcher::Kind::kExact:
      return value && *value == m.exact;
    case ValueMatcher::Kind::kRegex:
      return value && RE2::FullMatch(re2::StringPiece(value->data(), value->size()), *m.regex);
  }
  return false;
}

bool pathMatches(const RouteMatch& match, std::string_view path) {
  switch (match.path_kind) {
    case RouteMatch::PathKind::kPrefix:
      return path.substr(0, match.path.size()) == match.path;
    case RouteMatch::PathKind::kPath:
      return path == match.path;
    case RouteMatch::PathKind::kRegex:
      return RE2::FullMatch(re2::StringPiece(path.data(), path.size()), *match.regex);
  }
  return false;
}

}  // namespace

bool hostMatches(std::string_view pattern, std::string_view authority) {
  // A pattern with a port compares the whole authority; otherwise the port is ignored.
  bool with_port = pattern.find(':') != std::string_view::npos && pattern.back() != ']';
  std::string_view host = with_port ? authority : hostWithoutPort(authority);
  if (pattern.substr(0, 2) == "*.") {
    std::string_view suffix = pattern.substr(1);  // ".example.com"
    return host.size() > suffix.size() &&
           equalsIgnoreCase(host.substr(host.size() - suffix.size()), suffix);
  }
  return equalsIgnoreCase(host, pattern);
}

namespace {

// `dst` is the kernel's canonical text: "10.0.0.7:8080" or "[fd00::7]:80".
bool originalDstMatches(const RouteMatch& match, std::optional<std::string_view> dst) {
  if (!dst) return false;
  size_t colon = dst->rfind(':');
  if (colon == std::string_view::npos) return false;
  std::string_view host = dst->substr(0, colon);
  if (host.size() >= 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
  if (!match.original_dst_host.empty() && host != match.original_dst_host) return false;
  if (match.original_dst_port == 0) return true;
  uint32_t port = 0;
  for (char c : dst->substr(colon + 1)) port = port * 10 + uint32_t(c - '0');
  return port == match.original_dst_port;
}

}  // namespace

bool routeMatches(const RouteMatch& match, const RequestView& request) {
  std::string_view target = request.target();
  if (!pathMatches(match, pathOf(target))) return false;
  if (!match.methods.empty()) {
    bool found = false;
    for (const std::string& m : match.methods) found = found || m == request.method();
    if (!found) return false;
  }
  if (!match.host.empty() && !hostMatches(match.host, request.authority())) return false;
  if (match.has_original_dst && !originalDstMatches(match, request.originalDst())) return false;
  for (const ValueMatcher& h : match.headers) {
    if (!valueMatches(h, request.header(h.name))) return false;
  }
  if (!match.query.empty()) {
    std::string_view query = queryOf(target);
    for (const ValueMatcher& q : match.query) {
      std::optional<std::string> value = sdk::queryParam(query, q.name);
      std::optional<std::string_view> view;
      if (value) view = *value;
      if (!valueMatches(q, view)) return false;
    }
  }
  return true;
}

const Route* findRoute(const RouterConfig& config, const RequestView& request) {
  for (const Route& route : config.routes) {
    if (routeMatches(route.match, request)) return &route;
  }
  return nullptr;
}

}  // namespace remora::router
