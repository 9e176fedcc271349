#include "common/config_push.h"

#include "common/observe.h"

namespace remora::test {

HttpResponse putConfig(uint16_t admin_port, const std::string& body,
                       const std::vector<std::pair<std::string, std::string>>& headers) {
  HttpClient client(admin_port);
  auto all = headers;
  all.emplace_back("connection", "close");
  return client.request("PUT", "/config", all, body);
}

HttpResponse adminPost(uint16_t admin_port, const std::string& path) {
  HttpClient client(admin_port);
  return client.request("POST", path, {{"connection", "close"}, {"content-length", "0"}});
}

nlohmann::json bodyJson(const HttpResponse& r) {
  return nlohmann::json::parse(r.body, nullptr, /*allow_exceptions=*/false);
}

std::vector<std::string> errorLines(const HttpResponse& r) {
  std::vector<std::string> out;
  const nlohmann::json body = bodyJson(r);
  if (!body.is_object() || !body.contains("errors")) return out;
  for (const auto& e : body["errors"]) {
    const std::string path = e.value("path", "");
    out.push_back((path.empty() ? "" : path + ": ") + e.value("message", ""));
  }
  return out;
}

uint64_t configVersion(uint16_t admin_port) {
  const nlohmann::json body = bodyJson(adminGet(admin_port, "/config/history"));
  return body.is_object() ? body.value("version", uint64_t{0}) : 0;
}

}  // namespace remora::test
