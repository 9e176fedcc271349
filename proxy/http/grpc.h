#pragma once
// gRPC semantics above the transport: what a proxy must know about gRPC without decoding a single
// message. Detection (content-type), deadlines (grpc-timeout), status codes (grpc-status and the
// mapping from HTTP statuses, as Envoy maps them), grpc-message percent-encoding, and the
// service/method split of `:path` for metric labels. Pure functions: the same on HTTP/1.1 and
// HTTP/2 streams, callable from any thread.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace remora::http::grpc {

// Canonical status codes (grpc/doc/statuscodes.md).
enum Status : int {
  kOk = 0,
  kCancelled = 1,
  kUnknown = 2,
  kInvalidArgument = 3,
  kDeadlineExceeded = 4,
  kNotFound = 5,
  kAlreadyExists = 6,
  kPermissionDenied = 7,
  kResourceExhausted = 8,
  kFailedPrecondition = 9,
  kAborted = 10,
  kOutOfRange = 11,
  kUnimplemented = 12,
  kInternal = 13,
  kUnavailable = 14,
  kDataLoss = 15,
  kUnauthenticated = 16,
};
inline constexpr int kMaxStatus = 16;
// Label slots: 0..16 plus one for anything else (absent, unparsable, out of range).
inline constexpr int kStatusSlots = kMaxStatus + 2;
inline constexpr int kUnknownSlot = kMaxStatus + 1;

// The header a filter passes in send_local_reply's headers to choose the gRPC status of its
// reply to a gRPC request (e.g. the rate limiter's RESOURCE_EXHAUSTED); dropped from replies to
// other requests.
inline constexpr std::string_view kStatusHeader = "grpc-status";
inline constexpr std::string_view kMessageHeader = "grpc-message";
inline constexpr std::string_view kTimeoutHeader = "grpc-timeout";

// True for `application/grpc`, `application/grpc+proto`, `application/grpc;...` (any case).
bool isGrpcContentType(std::string_view content_type);

// Parses a grpc-timeout value: 1 to 8 ASCII digits and a unit (H, M, S, m, u, n). Returns the
// timeout in milliseconds, rounded up so a positive timeout never becomes 0, or nullopt when the
// value is malformed (the header is then ignored, as gRPC servers do).
std::optional<uint64_t> parseTimeoutMs(std::string_view value);

// A grpc-status value: 1 to 3 digits. Returns nullopt if malformed; values above 16 are returned
// as they are (statusSlot() files them under "unknown").
std::optional<int> parseStatus(std::string_view value);
inline int statusSlot(int status) {
  return status >= 0 && status <= kMaxStatus ? status : kUnknownSlot;
}

// The gRPC status a client infers from an HTTP status (Envoy's httpToGrpcStatus, which follows
// grpc/doc/http-grpc-status-mapping.md).
int statusFromHttp(int http_status);

// The lowercase name used in metrics and config ("unavailable", "deadline_exceeded", ...);
// "unknown" for anything out of range.
std::string_view statusName(int status);
// The status named `name` (as statusName spells it, `-` accepted for `_`), or nullopt.
std::optional<int> statusFromName(std::string_view name);

// Appends `message` percent-encoded as grpc-message requires: bytes outside 0x20..0x7E and '%'
// become %XX (uppercase hex). A trailing newline (local reply bodies end with one) is dropped.
void appendPercentEncoded(std::string& out, std::string_view message);

// `/pkg.Service/Method` → {"pkg.Service", "Method"}; nullopt if `path` is not of that shape
// (query strings are not part of gRPC paths and make it fail too).
struct ServiceMethod {
  std::string_view service;
  std::string_view method;
};
std::optional<ServiceMethod> splitPath(std::string_view path);

}  // namespace remora::http::grpc
