#include "http/grpc.h"

#include <array>

#include "codec/header_map.h"

namespace remora::http::grpc {
namespace {

constexpr std::array<std::string_view, kMaxStatus + 1> kNames = {
    "ok",
    "cancelled",
    "unknown",
    "invalid_argument",
    "deadline_exceeded",
    "not_found",
    "already_exists",
    "permission_denied",
    "resource_exhausted",
    "failed_precondition",
    "aborted",
    "out_of_range",
    "unimplemented",
    "internal",
    "unavailable",
    "data_loss",
    "unauthenticated",
};

}  // namespace

bool isGrpcContentType(std::string_view ct) {
  constexpr std::string_view kType = "application/grpc";
  if (ct.size() < kType.size() || !equalsIgnoreCase(ct.substr(0, kType.size()), kType))
    return false;
  // application/grpc-web is a different protocol (no trailers), so it is not gRPC here.
  return ct.size() == kType.size() || ct[kType.size()] == '+' || ct[kType.size()] == ';';
}

std::optional<uint64_t> parseTimeoutMs(std::string_view v) {
  // The spec allows at most 8 digits, so the value always fits and never overflows below.
  if (v.size() < 2 || v.size() > 9) return std::nullopt;
  uint64_t n = 0;
  for (char c : v.substr(0, v.size() - 1)) {
    if (c < '0' || c > '9') return std::nullopt;
    n = n * 10 + uint64_t(c - '0');
  }
  auto ceilDiv = [](uint64_t a, uint64_t b) { return (a + b - 1) / b; };
  switch (v.back()) {
    case 'H':
      return n * 3600 * 1000;
    case 'M':
      return n * 60 * 1000;
    case 'S':
      return n * 1000;
    case 'm':
      return n;
    case 'u':
      return ceilDiv(n, 1000);
    case 'n':
      return ceilDiv(n, 1000000);
    default:
      return std::nullopt;
  }
}

std::optional<int> parseStatus(std::string_view v) {
  if (v.empty() || v.size() > 3) return std::nullopt;
  int n = 0;
  for (char c : v) {
    if (c < '0' || c > '9') return std::nullopt;
    n = n * 10 + (c - '0');
  }
  return n;
}

int statusFromHttp(int http_status) {
  switch (http_status) {
    case 400:
      return kInternal;
    case 401:
      return kUnauthenticated;
    case 403:
      return kPermissionDenied;
    case 404:
      return kUnimplemented;
    case 429:
    case 502:
    case 503:
    case 504:
      return kUnavailable;
    default:
      return kUnknown;
  }
}

std::string_view statusName(int status) {
  return status >= 0 && status <= kMaxStatus ? kNames[size_t(status)] : "unknown";
}

std::optional<int> statusFromName(std::string_view name) {
  for (size_t i = 0; i < kNames.size(); ++i) {
    std::string_view n = kNames[i];
    if (n.size() != name.size()) continue;
    bool same = true;
    for (size_t k = 0; k < n.size() && same; ++k)
      same = n[k] == name[k] || (n[k] == '_' && name[k] == '-');
    if (same) return int(i);
  }
  return std::nullopt;
}

void appendPercentEncoded(std::string& out, std::string_view message) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  if (!message.empty() && message.back() == '\n') message.remove_suffix(1);
  for (char ch : message) {
    auto c = static_cast<unsigned char>(ch);
    if (c >= 0x20 && c <= 0x7e && c != '%') {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xf]);
    }
  }
}

std::optional<ServiceMethod> splitPath(std::string_view path) {
  if (path.size() < 4 || path[0] != '/') return std::nullopt;
  size_t slash = path.find('/', 1);
  if (slash == std::string_view::npos || slash == 1 || slash + 1 == path.size())
    return std::nullopt;
  std::string_view method = path.substr(slash + 1);
  if (method.find_first_of("/?") != std::string_view::npos) return std::nullopt;
  return ServiceMethod{path.substr(1, slash - 1), method};
}

}  // namespace remora::http::grpc
