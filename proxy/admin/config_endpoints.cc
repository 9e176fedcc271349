#include "admin/config_endpoints.h"

#include <spdlog/spdlog.h>

#include <charconv>
#include <ctime>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "admin/admin_http.h"
#include "kernel/config_service.h"

namespace remora::admin {
namespace {

using nlohmann::json;

std::string isoTime(std::chrono::system_clock::time_point t) {
  const std::time_t secs = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

json errorsJson(const FieldErrors& errors) {
  json out = json::array();
  for (const FieldError& e : errors) out.push_back({{"path", e.path}, {"message", e.message}});
  return out;
}

std::optional<uint64_t> parseVersion(std::string_view text) {
  uint64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return v;
}

// If-Match: "7", 7 or W/"7" (the ETag of GET /config); "*" matches any version.
bool parseIfMatch(std::string text, std::optional<uint64_t>& out) {
  while (!text.empty() && text.back() == ' ') text.pop_back();
  while (!text.empty() && text.front() == ' ') text.erase(0, 1);
  if (text.empty() || text == "*") return true;
  if (text.rfind("W/", 0) == 0) text.erase(0, 2);
  if (text.size() >= 2 && text.front() == '"' && text.back() == '"')
    text = text.substr(1, text.size() - 2);
  out = parseVersion(text);
  return out.has_value();
}

// Without a Content-Type the service tells JSON from YAML in the one parse it makes anyway.
ConfigFormat formatOf(evhttp_request* req) {
  const std::string type = requestHeader(req, "Content-Type");
  if (type.find("json") != std::string::npos) return ConfigFormat::kJson;
  if (type.find("yaml") != std::string::npos) return ConfigFormat::kYaml;
  return ConfigFormat::kDetect;
}

void replyOutcome(evhttp_request* req, const ApplyOutcome& outcome) {
  addHeader(req, "ETag", "\"" + std::to_string(outcome.version) + "\"");
  if (outcome.stale) {
    replyJson(req, 412, "Precondition Failed",
              {{"version", outcome.version},
               {"errors", json::array({{{"path", "If-Match"},
                                        {"message", "version " + std::to_string(outcome.version) +
                                                        " is in service"}}})}});
  } else if (outcome.ok) {
    replyJson(req, HTTP_OK, "OK",
              {{"version", outcome.version}, {"apply_us", outcome.duration.count()}});
  } else {
    replyJson(req, HTTP_BADREQUEST, "Bad Request",
              {{"version", outcome.version}, {"errors", errorsJson(outcome.errors)}});
  }
}

}  // namespace

void putConfig(evhttp_request* req, ConfigService& service) {
  std::optional<uint64_t> if_match;
  if (!parseIfMatch(requestHeader(req, "If-Match"), if_match)) {
    replyJson(req, HTTP_BADREQUEST, "Bad Request",
              {{"version", service.version()},
               {"errors",
                json::array({{{"path", "If-Match"}, {"message", "expected a config version"}}})}});
    return;
  }
  replyOutcome(req, service.submit(requestBody(req), formatOf(req), "admin", if_match));
}

void configHistory(evhttp_request* req, const ConfigService& service) {
  json history = json::array();
  for (const AppliedConfig& entry : service.history()) {
    history.push_back({{"version", entry.version},
                       {"applied_at", isoTime(entry.applied_at)},
                       {"source", entry.source}});
  }
  json body = {{"version", service.version()}, {"history", std::move(history)}};
  if (const auto& rejected = service.lastRejected()) {
    body["last_rejected"] = {{"at", isoTime(rejected->at)},
                             {"source", rejected->source},
                             {"errors", errorsJson(rejected->errors)}};
  } else {
    body["last_rejected"] = nullptr;
  }
  addHeader(req, "ETag", "\"" + std::to_string(service.version()) + "\"");
  replyJson(req, HTTP_OK, "OK", body);
}

void configRollback(evhttp_request* req, const evhttp_uri* uri, ConfigService& service) {
  std::optional<uint64_t> to;
  const std::string param = queryParam(uri, "version");
  if (!param.empty()) {
    to = parseVersion(param);
    if (!to) {
      replyJson(req, HTTP_BADREQUEST, "Bad Request",
                {{"version", service.version()},
                 {"errors",
                  json::array({{{"path", "version"}, {"message", "expected a config version"}}})}});
      return;
    }
  }
  replyOutcome(req, service.rollback(to));
}

void drain(evhttp_request* req, const std::function<void()>& begin_drain) {
  if (begin_drain) begin_drain();
  replyText(req, HTTP_OK, "OK", "draining\n");
}

void logging(evhttp_request* req, const evhttp_uri* uri) {
  if (evhttp_request_get_command(req) == EVHTTP_REQ_POST) {
    const std::string level = queryParam(uri, "level");
    const auto parsed = spdlog::level::from_str(level);
    // from_str answers "off" for any word it does not know: accept "off" only when asked for.
    if (level.empty() || (parsed == spdlog::level::off && level != "off")) {
      replyText(req, HTTP_BADREQUEST, "Bad Request",
                "level: expected one of trace, debug, info, warn, error, critical, off\n");
      return;
    }
    spdlog::set_level(parsed);
    spdlog::info("log level set to {} through the admin API", level);
  }
  const auto name = spdlog::level::to_string_view(spdlog::get_level());
  replyJson(req, HTTP_OK, "OK", {{"level", std::string(name.data(), name.size())}});
}

}  // namespace remora::admin
