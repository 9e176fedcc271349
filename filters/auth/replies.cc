#include "replies.h"

#include <nlohmann/json.hpp>

namespace remora::auth {

std::string challenge(const AuthConfig& config, Method method, std::string_view error,
                      std::string_view description, std::string_view scope) {
  std::string out;
  switch (method) {
    case Method::kJwt:
      out = "Bearer";
      break;
    case Method::kApiKey:
      out = "ApiKey";
      break;
    case Method::kExtAuthz:
    case Method::kMtls:  // a client certificate is asked for by TLS, not by a header
      return out;
  }
  out += " realm=\"" + config.realm + "\"";
  if (!error.empty()) {
    out += ", error=\"" + std::string(error) + "\"";
    out += ", error_description=\"" + std::string(description) + "\"";
  }
  if (!scope.empty()) out += ", scope=\"" + std::string(scope) + "\"";
  return out;
}

Decision denyWith(int status, DenyReason reason, std::string_view error,
                  std::string_view description, const std::vector<std::string>& challenges) {
  Decision d;
  d.kind = Decision::Kind::kDeny;
  d.status = status;
  d.reason = reason;
  for (const std::string& c : challenges) {
    if (!c.empty()) d.reply_headers.emplace_back("www-authenticate", c);
  }
  d.reply_headers.emplace_back("content-type", "application/json");
  nlohmann::json body = {{"error", error.empty() ? "unauthorized" : std::string(error)},
                         {"error_description", std::string(description)}};
  d.body = body.dump() + "\n";
  return d;
}

}  // namespace remora::auth
