#include "ext_authz.h"

#include <algorithm>

#include "replies.h"

namespace remora::auth {
namespace {

bool sameName(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return (x | 0x20) == (y | 0x20);  // header names are tokens: ASCII folding is enough
         });
}

const std::string* findHeader(const HeaderPairs& headers, std::string_view name) {
  for (const auto& [n, v] : headers) {
    if (sameName(n, name)) return &v;
  }
  return nullptr;
}

// 401/403 from the service: its status, its challenge and (bounded) body go to the client.
Decision relayDeny(const ExtAuthzSettings& ext, const CalloutResponse& response) {
  Decision d;
  d.kind = Decision::Kind::kDeny;
  d.status = response.status;
  d.reason = DenyReason::kExtAuthzDenied;
  for (const auto& [name, value] : response.headers) {
    if (sameName(name, "www-authenticate") || sameName(name, "content-type")) {
      d.reply_headers.emplace_back(name, value);
    }
  }
  d.body = std::string(response.body.substr(0, ext.max_deny_body_bytes));
  return d;
}

Decision failed(const AuthConfig& config, const CalloutState& pending) {
  const ExtAuthzSettings& ext = *config.ext_authz;
  if (!ext.fail_open) {
    return denyWith(ext.status_on_error, DenyReason::kExtAuthzError, "authz_unavailable",
                    "authorization service unavailable", {});
  }
  // Fail open: the request goes on with whatever the synchronous methods established.
  Decision d;
  d.kind = Decision::Kind::kAllow;
  d.allowed_by = AllowReason::kExtAuthzFailOpen;
  if (pending.have_principal) d.principal = pending.principal;
  return d;
}

}  // namespace

HeaderPairs extAuthzRequestHeaders(const ExtAuthzSettings& ext, const RequestView& request) {
  HeaderPairs out;
  for (const std::string& name : ext.forward_headers) {
    if (auto v = request.header(name)) out.emplace_back(name, std::string(*v));
  }
  out.emplace_back("x-forwarded-method", std::string(request.method()));
  out.emplace_back("x-forwarded-uri", std::string(request.target()));
  out.emplace_back("x-forwarded-host", std::string(request.authority()));
  return out;
}

Decision completeExtAuthz(const AuthConfig& config, const CalloutState& pending,
                          const CalloutResponse& response) {
  const ExtAuthzSettings& ext = *config.ext_authz;
  if (response.status == 401 || response.status == 403) return relayDeny(ext, response);
  if (response.status < 200 || response.status > 299) return failed(config, pending);

  HeaderPairs upstream;
  for (const std::string& name : ext.upstream_headers) {
    if (const std::string* v = findHeader(response.headers, name)) upstream.emplace_back(name, *v);
  }
  std::string principal;
  AllowReason by = AllowReason::kExtAuthz;
  const std::vector<std::string>& scopes = pending.scopes;
  if (pending.have_principal) {
    principal = pending.principal;
    by = pending.allowed_by;
  } else if (!ext.principal_header.empty()) {
    if (const std::string* v = findHeader(response.headers, ext.principal_header)) principal = *v;
  }
  if (pending.requirement == nullptr) return failed(config, pending);
  Decision d = authorize(config, *pending.requirement, by, std::move(principal), scopes);
  if (d.kind == Decision::Kind::kAllow) d.upstream_headers = std::move(upstream);
  return d;
}

}  // namespace remora::auth
