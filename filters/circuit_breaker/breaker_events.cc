#include "breaker_events.h"

#include <nlohmann/json.hpp>

namespace remora::circuit_breaker {

std::string stateEventJson(std::string_view cluster, const Transition& t) {
  nlohmann::ordered_json j;
  j["event"] = "state";
  j["cluster"] = cluster;
  j["from"] = stateName(t.from);
  j["to"] = stateName(t.to);
  j["reason"] = t.reason;
  return j.dump();
}

std::string ejectionEventJson(std::string_view cluster, std::string_view endpoint,
                              uint32_t duration_ms, uint32_t times, std::string_view reason) {
  nlohmann::ordered_json j;
  j["event"] = "ejection";
  j["cluster"] = cluster;
  j["endpoint"] = endpoint;
  j["duration_ms"] = duration_ms;
  j["times"] = times;
  j["reason"] = reason;
  return j.dump();
}

std::string stateLogLine(std::string_view cluster, const Transition& t) {
  return "cluster " + std::string(cluster) + ": breaker " + stateName(t.from) + " -> " +
         stateName(t.to) + " (" + t.reason + ")";
}

std::string ejectionLogLine(std::string_view cluster, std::string_view endpoint,
                            uint32_t duration_ms, uint32_t times, std::string_view reason) {
  return "cluster " + std::string(cluster) + ": ejected " + std::string(endpoint) + " for " +
         std::to_string(duration_ms) + "ms (" + std::string(reason) + ", ejection #" +
         std::to_string(times) + ")";
}

}  // namespace remora::circuit_breaker
