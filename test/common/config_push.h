#pragma once
// Driving the config API of a running remora: PUT /config, rollback, history, and reading the
// errors of a refused change as "path: message" lines.

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/http_client.h"

namespace remora::test {

// PUT /config with `body` on a fresh admin connection; `headers` e.g. {"If-Match", "3"}.
HttpResponse putConfig(uint16_t admin_port, const std::string& body,
                       const std::vector<std::pair<std::string, std::string>>& headers = {});
// POST `path` (e.g. "/config/rollback?version=2") with an empty body.
HttpResponse adminPost(uint16_t admin_port, const std::string& path);
// The JSON body of a response, or null when it is not JSON.
nlohmann::json bodyJson(const HttpResponse& r);
// The "errors" of a refused change, each as "path: message".
std::vector<std::string> errorLines(const HttpResponse& r);
// The version in service as GET /config/history reports it; 0 when it cannot be read.
uint64_t configVersion(uint16_t admin_port);

}  // namespace remora::test
