#pragma once
// The per-request state of a ProxyStream, in parts with one owner each. A stream is reused (an
// HTTP/1 connection keeps one for all its requests, an HTTP/2 connection recycles the streams it
// retired), so each request must start from nothing the one before left behind. Every part is
// reset by construction: begin() assigns its values a default-constructed value, so a field
// added to a part's values starts each request at its default without being named anywhere.
//
// What a part reuses for its capacity (an evbuffer, a string, a vector) is the exception: it is
// a member of the part beside its values, and the part's reset() empties it without freeing its
// storage, so the hot path allocates nothing per request. Values are trivially copyable
// (asserted), which keeps storage out of them and their reset a few stores.

#include <event2/buffer.h>

#include <cstdint>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "codec/http1_parser.h"
#include "common/c_handles.h"
#include "plugin/abi/remora_filter.h"

namespace remora::upstream {
class EndpointPool;
class UpstreamRequest;
class WorkerCluster;
}  // namespace remora::upstream

namespace remora::http {

// Empties a buffer kept for its capacity.
inline void emptyKept(EvbufferPtr& buffer) {
  if (buffer && evbuffer_get_length(buffer.get()) > 0)
    evbuffer_drain(buffer.get(), evbuffer_get_length(buffer.get()));
}

// What a routing filter decided (remora_route_t, validated and resolved).
struct RouteDecision {
  uint32_t timeout_ms = 0;
  uint32_t per_try_timeout_ms = 0;
  uint32_t retry_max = 0;
  uint32_t retry_on = 0;
  bool retry_non_idempotent = false;
};

// Where the exchange is in its life.
struct ProgressValues {
  bool active = false;
  bool routed = false;          // the chain (or the built-in table) has decided
  bool finish_pending = false;  // finish() ran inside a hook
  bool notify_pending = false;  // ... and the encoder must hear onStreamComplete
  uint64_t start_unix_us = 0;   // set when a chain runs
};
struct StreamProgress : ProgressValues {
  std::vector<std::pair<std::string, std::string>> metadata;  // filters' (set_metadata)

  void reset() {
    static_cast<ProgressValues&>(*this) = {};
    metadata.clear();
  }
};

// The downstream request: its head and trailers (the codec's), and its body on the way up.
struct RequestValues {
  MessageHead* head = nullptr;
  HeaderMap* trailers = nullptr;
  uint64_t bytes = 0;          // body bytes received
  bool held_complete = false;  // the request ended before the route was decided
  bool complete = false;       // the request's end has been forwarded
  bool chunked = false;
  bool upgrade = false;
};
struct RequestSide : RequestValues {
  EvbufferPtr held_body;  // raw body bytes that arrived before the route was decided
  EvbufferPtr buffer;     // raw request body held until an upstream is ready

  void reset() {
    static_cast<RequestValues&>(*this) = {};
    emptyKept(held_body);
    emptyKept(buffer);
  }
};

// The response sent downstream: the upstream's head and trailers, or a local reply's.
struct ResponseValues {
  MessageHead* head = nullptr;
  HeaderMap* trailers = nullptr;
  uint64_t bytes = 0;  // body bytes sent
  int status = 0;
  bool started = false;  // response bytes went to the downstream encoder
  bool tunnel = false;   // a 101 to an upgrade: raw bytes both ways
};
struct ResponseSide : ResponseValues {
  std::string flags;  // Envoy-style response flags ("UF,URX")

  void reset() {
    static_cast<ResponseValues&>(*this) = {};
    flags.clear();
  }
};

// The route's cluster and every attempt to reach one of its endpoints: pool, upstream request,
// retries and the bounds a filter set on them. Nothing kept: reset as `upstream_ = {}`.
struct UpstreamSide {
  std::shared_ptr<upstream::WorkerCluster> cluster;
  RouteDecision route;
  upstream::EndpointPool* pending_pool = nullptr;  // waiting in this pool's queue
  upstream::UpstreamRequest* request = nullptr;    // HTTP/1 connection or HTTP/2 stream
  const std::string* address = nullptr;            // the pool's name; the pool outlives the stream
  const char* last_failure = nullptr;  // why the previous attempt failed, for the final 503
  uint64_t tried = 0;  // endpoints this try has used, a bitmask (WorkerCluster::choose)
  uint32_t attempts = 0;
  uint32_t retries = 0;
  uint32_t max_pending = REMORA_NO_LIMIT;  // set_upstream_limits
  uint32_t max_retries = REMORA_NO_LIMIT;
  uint32_t limits_hit = 0;  // REMORA_LIMIT_HIT_* bits
  bool retry_slot = false;  // holds one of cluster's retries in flight (tryAddRetry)
};

// A gRPC call's state (proxy_stream_grpc.cc); `on` is false for every other request.
struct GrpcValues {
  bool on = false;           // request content-type application/grpc[+...]
  bool retain_body = false;  // keeping retry_body for a retry
  int status = -1;           // -1 until known
  char status_text[4] = {};
  uint64_t deadline_ms = 0;  // LazyTimer::nowMs() deadline from grpc-timeout; 0 = none
};
struct GrpcState : GrpcValues {
  EvbufferPtr retry_body;  // the request body kept for a retry

  void reset() {
    static_cast<GrpcValues&>(*this) = {};
    emptyKept(retry_body);
  }
};

static_assert(std::is_trivially_copyable_v<ProgressValues> &&
              std::is_trivially_copyable_v<RequestValues> &&
              std::is_trivially_copyable_v<ResponseValues> &&
              std::is_trivially_copyable_v<GrpcValues>);

}  // namespace remora::http
