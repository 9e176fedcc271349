#pragma once
// The config in service as JSON, for GET /config (the default format). Keys are the config's
// own field names; durations are strings in milliseconds ("1000ms"), addresses "host:port"
// ("[::1]:80" for IPv6), the load-balancing policy its config spelling ("round_robin").

#include <nlohmann/json.hpp>

#include <string>

#include "config/config.h"

namespace remora::admin {

nlohmann::json toJson(const config::Config& config);

// "127.0.0.1:80" or "[::1]:80": the same form as SocketAddress::str(), which is also the key
// stats::Store uses for endpoints.
std::string addressString(const config::SocketAddress& address);

// "round_robin" / "least_request".
const char* lbPolicyName(config::LbPolicy policy);

}  // namespace remora::admin
