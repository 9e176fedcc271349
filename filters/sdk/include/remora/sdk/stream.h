#pragma once
// Stream: a cheap handle (one pointer) on a kernel stream, with the host calls that address it.
//
// Threads: every method runs on the stream's worker thread, from inside a hook of this stream (or
// a callout/event callback delivered on that worker while the stream is alive).
//
// Views: a std::string_view a method returns is borrowed from the kernel. Header views live until
// that header block changes or the hook returns, whichever comes first; request facts (method,
// path, ...) and metadata live for the stream's life (a route rewrite replaces the path). Copy
// into a std::string whatever must outlive that.

#include <algorithm>
#include <chrono>
#include <initializer_list>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "remora/sdk/host.h"

namespace remora::sdk {

// Which header block a call addresses.
enum class HeaderKind {
  kRequest = REMORA_REQUEST_HEADERS,
  kResponse = REMORA_RESPONSE_HEADERS,
  kRequestTrailers = REMORA_REQUEST_TRAILERS,
  kResponseTrailers = REMORA_RESPONSE_TRAILERS,
};

// One header, both strings borrowed.
struct Header {
  std::string_view name;
  std::string_view value;
};

// gRPC status codes a filter may choose for its local replies (grpc/doc/statuscodes.md).
enum class GrpcStatus : int {
  kCancelled = 1,
  kUnknown = 2,
  kInvalidArgument = 3,
  kDeadlineExceeded = 4,
  kNotFound = 5,
  kPermissionDenied = 7,
  kResourceExhausted = 8,
  kFailedPrecondition = 9,
  kUnimplemented = 12,
  kInternal = 13,
  kUnavailable = 14,
  kUnauthenticated = 16,
};

// The reply header that chooses the gRPC status of a local reply to a gRPC request; other
// requests never see it (the kernel drops it). Without it the kernel maps the HTTP status
// (401 → UNAUTHENTICATED, 429/503 → UNAVAILABLE, ...). For example:
//   stream().sendLocalReply(429, "slow down\n", {{"content-type", "text/plain"},
//                                               grpcStatusHeader(GrpcStatus::kResourceExhausted)});
inline Header grpcStatusHeader(GrpcStatus status) {
  static constexpr std::string_view kCodes[] = {"0", "1",  "2",  "3",  "4",  "5",  "6",  "7", "8",
                                                "9", "10", "11", "12", "13", "14", "15", "16"};
  return {"grpc-status", kCodes[static_cast<int>(status)]};
}

// A non-owning list of headers for calls that copy them into the kernel (local replies,
// callouts). Accepts a braced list, a vector or a span; whatever it views must outlive the call,
// which a braced list in the call expression always does.
class HeaderList {
 public:
  HeaderList() = default;
  HeaderList(std::initializer_list<Header> list)  // NOLINT(google-explicit-constructor)
      : items_(list.begin(), list.size()) {}
  HeaderList(std::span<const Header> span) : items_(span) {}  // NOLINT
  HeaderList(const std::vector<Header>& v) : items_(v) {}     // NOLINT
  std::span<const Header> items() const { return items_; }

 private:
  std::span<const Header> items_;
};

namespace detail {
// Calls `fn(const remora_header_t*, size_t)` with `list` converted to the ABI's layout: on the
// stack for up to 16 headers, so a local reply on the hot path (e.g. a 429) does not allocate.
template <typename Fn>
auto withAbiHeaders(HeaderList list, Fn&& fn) {
  constexpr size_t kInline = 16;
  std::span<const Header> items = list.items();
  remora_header_t inline_buf[kInline];
  std::vector<remora_header_t> heap;
  remora_header_t* out = inline_buf;
  if (items.size() > kInline) {
    heap.resize(items.size());
    out = heap.data();
  }
  for (size_t i = 0; i < items.size(); ++i) {
    out[i] = remora_header_t{toStr(items[i].name), toStr(items[i].value)};
  }
  return fn(static_cast<const remora_header_t*>(out), items.size());
}
}  // namespace detail

// A route decision for Stream::setRoute. Strings are copied by the host during the call.
struct Route {
  std::string_view cluster{};                    // must name a configured cluster
  std::chrono::milliseconds timeout{0};          // whole upstream exchange; 0 = cluster default
  std::chrono::milliseconds per_try_timeout{0};  // 0 = timeout
  uint32_t retry_max = 0;                        // extra attempts after the first
  uint32_t retry_on = 0;                         // REMORA_RETRY_* bits
  bool retry_non_idempotent = false;             // also retry POST/PATCH/...
  std::string_view path{};                       // new request target; empty = unchanged
  std::string_view host{};                       // new Host header; empty = unchanged
};

// One endpoint of a cluster as this worker sees it (copied, so it outlives the host call).
struct EndpointInfo {
  std::string address;  // "host:port"
  uint32_t active_requests = 0;
  bool ejected = false;
};

class Stream {
 public:
  Stream() = default;
  explicit Stream(remora_stream_t* s) : s_(s) {}

  // The kernel's handle, for host calls the SDK does not wrap. Owned by the host, valid from
  // stream_new to stream_free.
  remora_stream_t* raw() const { return s_; }
  explicit operator bool() const { return s_ != nullptr; }

  // --- Headers ---------------------------------------------------------------------------------

  // First value of `name` (case-insensitive) in block `kind`, or nullopt when absent.
  std::optional<std::string_view> header(HeaderKind kind, std::string_view name) const {
    remora_str_t out{};
    if (host().header_get(s_, abi(kind), toStr(name), &out) == 0) return std::nullopt;
    return toView(out);
  }
  std::optional<std::string_view> requestHeader(std::string_view name) const {
    return header(HeaderKind::kRequest, name);
  }
  std::optional<std::string_view> responseHeader(std::string_view name) const {
    return header(HeaderKind::kResponse, name);
  }
  std::optional<std::string_view> requestTrailer(std::string_view name) const {
    return header(HeaderKind::kRequestTrailers, name);
  }
  std::optional<std::string_view> responseTrailer(std::string_view name) const {
    return header(HeaderKind::kResponseTrailers, name);
  }

  // Replaces every `name` with one `value`; `addHeader` appends another one. Both copy.
  void setHeader(HeaderKind kind, std::string_view name, std::string_view value) const {
    host().header_set(s_, abi(kind), toStr(name), toStr(value));
  }
  void addHeader(HeaderKind kind, std::string_view name, std::string_view value) const {
    host().header_add(s_, abi(kind), toStr(name), toStr(value));
  }
  // Removes every `name`; returns how many were removed.
  size_t removeHeader(HeaderKind kind, std::string_view name) const {
    return host().header_remove(s_, abi(kind), toStr(name));
  }
  void setRequestHeader(std::string_view name, std::string_view value) const {
    setHeader(HeaderKind::kRequest, name, value);
  }
  void addRequestHeader(std::string_view name, std::string_view value) const {
    addHeader(HeaderKind::kRequest, name, value);
  }
  size_t removeRequestHeader(std::string_view name) const {
    return removeHeader(HeaderKind::kRequest, name);
  }
  void setResponseHeader(std::string_view name, std::string_view value) const {
    setHeader(HeaderKind::kResponse, name, value);
  }
  void addResponseHeader(std::string_view name, std::string_view value) const {
    addHeader(HeaderKind::kResponse, name, value);
  }
  size_t removeResponseHeader(std::string_view name) const {
    return removeHeader(HeaderKind::kResponse, name);
  }

  size_t headerCount(HeaderKind kind) const { return host().header_count(s_, abi(kind)); }
  // The i-th header of block `kind`, nullopt past the end.
  std::optional<Header> headerAt(HeaderKind kind, size_t i) const {
    remora_header_t out{};
    if (host().header_at(s_, abi(kind), i, &out) == 0) return std::nullopt;
    return Header{toView(out.name), toView(out.value)};
  }
  // Calls `fn(Header)` for every header of block `kind`, in order. Do not modify the block from
  // inside `fn`.
  template <typename Fn>
  void forEachHeader(HeaderKind kind, Fn&& fn) const {
    for (size_t i = 0;; ++i) {
      std::optional<Header> h = headerAt(kind, i);
      if (!h) return;
      fn(*h);
    }
  }

  // --- Request and response facts -------------------------------------------------------------

  std::string_view method() const { return toView(host().request_method(s_)); }
  // Request target: path and query.
  std::string_view path() const { return toView(host().request_path(s_)); }
  // The Host header / :authority.
  std::string_view authority() const { return toView(host().request_authority(s_)); }
  // The downstream client's IP address.
  std::string_view clientAddress() const { return toView(host().downstream_address(s_)); }
  std::string_view listenerName() const { return toView(host().listener_name(s_)); }
  // 0 before response headers exist.
  int responseStatus() const { return host().response_status(s_); }
  uint64_t requestBytes() const { return host().request_bytes(s_); }
  uint64_t responseBytes() const { return host().response_bytes(s_); }
  // "host:port" of the chosen upstream endpoint, empty before one is chosen.
  std::string_view upstreamAddress() const { return toView(host().upstream_address(s_)); }
  // Envoy-style response flags ("UF", "UT,URX", "-").
  std::string_view responseFlags() const { return toView(host().response_flags(s_)); }
  // True when the response flags hold `flag` ("UF") as a whole code.
  bool hasResponseFlag(const char* flag) const { return hasFlag(responseFlags(), flag); }
  // Wall-clock start of the stream, microseconds since the Unix epoch.
  uint64_t startTimeUs() const { return host().stream_start_us(s_); }

  // --- Control ---------------------------------------------------------------------------------

  // Answers the stream locally (status, body and headers are copied). From a hook, return
  // Status::kReplied afterwards; after a Status::kStop (e.g. in a callout callback) just return.
  // False if a response already started: nothing was sent.
  bool sendLocalReply(int status, std::string_view body = {}, HeaderList headers = {}) const {
    return detail::withAbiHeaders(headers, [&](const remora_header_t* h, size_t n) {
      return host().send_local_reply(s_, status, toStr(body), h, n) != 0;
    });
  }
  // Continues a stream one of this plugin's hooks paused with Status::kStop.
  void resume() const { host().resume(s_); }
  // Hands the kernel the route decision. False when refused (e.g. unknown cluster), with the
  // kernel's reason in `*error` when given.
  bool setRoute(const Route& route, std::string* error = nullptr) const {
    remora_route_t r{};
    r.struct_size = sizeof(r);
    r.cluster = toStr(route.cluster);
    r.timeout_ms = clampMs(route.timeout);
    r.per_try_timeout_ms = clampMs(route.per_try_timeout);
    r.retry_max = route.retry_max;
    r.retry_on = route.retry_on;
    r.retry_non_idempotent = route.retry_non_idempotent ? 1 : 0;
    r.path = toStr(route.path);
    r.host = toStr(route.host);
    char err[256] = {0};
    if (host().set_route(s_, &r, err, sizeof(err)) != 0) return true;
    if (error != nullptr) *error = err;
    return false;
  }

  // --- Metadata one filter leaves for the next (key and value copied; views live until the
  // stream ends). Keys of the form "remora.*" are reserved for the kernel. ----------------------

  std::optional<std::string_view> metadata(std::string_view key) const {
    remora_str_t out{};
    if (host().metadata_get(s_, toStr(key), &out) == 0) return std::nullopt;
    return toView(out);
  }
  void setMetadata(std::string_view key, std::string_view value) const {
    host().metadata_set(s_, toStr(key), toStr(value));
  }
  // A gRPC stream's grpc-status once known (trailers, a trailers-only response, a mapped non-200
  // status or a local reply); nullopt for other requests and before then.
  std::optional<int> grpcStatus() const {
    std::optional<std::string_view> v = metadata("remora.grpc_status");
    if (!v || v->empty() || v->size() > 3) return std::nullopt;
    int code = 0;
    for (char c : *v) code = code * 10 + (c - '0');
    return code;
  }

  // --- Upstream limits (ABI 1.1 append) ---------------------------------------------------------

  // Bounds the kernel enforces on this stream's use of its routed cluster on this worker: refuse
  // it (503, flag UO) rather than queue it behind `max_pending` waiting streams; skip a retry when
  // `max_retries` streams are already retrying. REMORA_NO_LIMIT leaves one off. Returns false when
  // the kernel is too old to enforce them. Call after the route is decided.
  bool setUpstreamLimits(uint32_t max_pending, uint32_t max_retries) const {
    if (!REMORA_HOST_HAS(&host(), set_upstream_limits)) return false;
    remora_upstream_limits_t l{sizeof(remora_upstream_limits_t), max_pending, max_retries};
    host().set_upstream_limits(s_, &l);
    return true;
  }
  // REMORA_LIMIT_HIT_* bits: which of those bounds acted on the stream; 0 on an older kernel.
  uint32_t upstreamLimitsHit() const {
    if (!REMORA_HOST_HAS(&host(), upstream_limits_hit)) return 0;
    return host().upstream_limits_hit(s_);
  }

  // --- Clusters (this worker's view) -----------------------------------------------------------

  size_t endpointCount(std::string_view cluster) const {
    return host().cluster_endpoint_count(s_, toStr(cluster));
  }
  // Copies, because the host's strings only last until the next host call.
  std::vector<EndpointInfo> endpoints(std::string_view cluster) const {
    std::vector<EndpointInfo> out;
    size_t n = endpointCount(cluster);
    out.reserve(n);
    for (size_t i = 0; i < n; ++i) {
      remora_endpoint_info_t e{};
      e.struct_size = sizeof(e);
      if (host().cluster_endpoint_at(s_, toStr(cluster), i, &e) == 0) break;
      out.push_back(
          EndpointInfo{std::string(toView(e.address)), e.active_requests, e.ejected != 0});
    }
    return out;
  }

 private:
  static const remora_host_api_t& host() { return *detail::g_host; }
  static remora_headers_kind_t abi(HeaderKind k) { return static_cast<remora_headers_kind_t>(k); }
  static uint32_t clampMs(std::chrono::milliseconds ms) {
    if (ms.count() <= 0) return 0;
    return static_cast<uint32_t>(std::min<int64_t>(ms.count(), UINT32_MAX));
  }

  remora_stream_t* s_ = nullptr;
};

}  // namespace remora::sdk
