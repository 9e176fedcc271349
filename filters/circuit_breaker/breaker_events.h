#pragma once
// What the circuit breaker tells the rest of the proxy: the event-bus payloads on topic
// "remora.circuit_breaker" (small JSON objects) and the matching log lines.
//
//   {"event":"state","cluster":"users","from":"closed","to":"open","reason":"failure_ratio"}
//   {"event":"ejection","cluster":"users","endpoint":"10.0.0.7:8080","duration_ms":30000,
//    "times":1,"reason":"consecutive_5xx"}

#include <cstdint>
#include <string>
#include <string_view>

#include "breaker.h"

namespace remora::circuit_breaker {

inline constexpr std::string_view kEventTopic = "remora.circuit_breaker";

std::string stateEventJson(std::string_view cluster, const Transition& t);
std::string ejectionEventJson(std::string_view cluster, std::string_view endpoint,
                              uint32_t duration_ms, uint32_t times, std::string_view reason);

std::string stateLogLine(std::string_view cluster, const Transition& t);
std::string ejectionLogLine(std::string_view cluster, std::string_view endpoint,
                            uint32_t duration_ms, uint32_t times, std::string_view reason);

}  // namespace remora::circuit_breaker
