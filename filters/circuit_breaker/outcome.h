#pragma once
// How one finished stream went for the upstream that served it, read in on_log from the response
// status, the kernel's Envoy-style response flags and, for gRPC, the grpc-status.

#include <string_view>

namespace remora::circuit_breaker {

enum class Outcome {
  kNone,            // no upstream exchange to judge (answered locally, client went away first)
  kSuccess,         // the upstream answered below 500
  kError5xx,        // the upstream answered 5xx
  kTimeout,         // "UT": the upstream did not answer in time
  kReset,           // "UR"/"UC": the upstream reset or closed mid-exchange
  kConnectFailure,  // "UF": no connection to the upstream
  kGrpcFailure,     // HTTP 200 but a grpc-status the cluster counts as a failure
};

// `grpc_status` is the decimal grpc-status; `failures` has bit n set for each failing status n.
Outcome classifyGrpcStatus(std::string_view grpc_status, uint32_t failures);

// `flags` is the kernel's response_flags() ("-", "UF", "UT,URX", ...); `has_upstream` is true
// when upstream_address() was set, i.e. an endpoint was chosen.
Outcome classifyOutcome(int status, std::string_view flags, bool has_upstream);

// True for outcomes that count against a cluster's breaker.
inline bool isFailure(Outcome o) {
  return o != Outcome::kNone && o != Outcome::kSuccess;
}

const char* outcomeName(Outcome o);

}  // namespace remora::circuit_breaker
