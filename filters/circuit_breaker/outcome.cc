#include "outcome.h"

#include <remora/sdk/host.h>

namespace remora::circuit_breaker {

using sdk::hasFlag;

Outcome classifyOutcome(int status, std::string_view flags, bool has_upstream) {
  // Flags first: a failed exchange may still carry a status (the kernel's own 503/504).
  if (hasFlag(flags, "UF")) return Outcome::kConnectFailure;
  if (hasFlag(flags, "UT")) return Outcome::kTimeout;
  if (hasFlag(flags, "UR") || hasFlag(flags, "UC")) return Outcome::kReset;
  if (!has_upstream || status <= 0) return Outcome::kNone;
  return status >= 500 ? Outcome::kError5xx : Outcome::kSuccess;
}

Outcome classifyGrpcStatus(std::string_view grpc_status, uint32_t failures) {
  uint32_t code = 0;
  if (grpc_status.empty() || grpc_status.size() > 2) return Outcome::kSuccess;
  for (char c : grpc_status) {
    if (c < '0' || c > '9') return Outcome::kSuccess;
    code = code * 10 + uint32_t(c - '0');
  }
  return code < 32 && (failures >> code) & 1 ? Outcome::kGrpcFailure : Outcome::kSuccess;
}

const char* outcomeName(Outcome o) {
  switch (o) {
    case Outcome::kNone:
      return "none";
    case Outcome::kSuccess:
      return "success";
    case Outcome::kError5xx:
      return "5xx";
    case Outcome::kTimeout:
      return "timeout";
    case Outcome::kReset:
      return "reset";
    case Outcome::kConnectFailure:
      return "connect_failure";
    case Outcome::kGrpcFailure:
      return "grpc_failure";
  }
  return "none";
}

}  // namespace remora::circuit_breaker
