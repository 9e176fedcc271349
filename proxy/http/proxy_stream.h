#pragma once
// ProxyStream: one request/response exchange from routing to the last response byte. Runs the
// listener's filter chain (request hooks, the router's route decision, response hooks, on_log),
// acquires an upstream request from the cluster's pool (an HTTP/1.1 connection or an HTTP/2
// stream, behind upstream::UpstreamRequest), forwards the request, streams bodies both ways with
// backpressure, retries what is safe to retry, and answers failures with local replies.
//
// The downstream side is abstract (StreamEncoder) so an HTTP/2 codec can carry the same stream.
// The plugin host API reaches a stream through `remora_stream` (plugin/host_api.cc).

#include <event2/buffer.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "codec/http1_parser.h"
#include "common/c_handles.h"
#include "event/dispatcher.h"
#include "event/lazy_timer.h"
#include "http/callout.h"
#include "http/filter_manager.h"
#include "http/listener_runtime.h"
#include "http/original_dst.h"
#include "upstream/upstream_connection.h"

namespace remora::http {
class ProxyStream;
}

// The opaque stream handle plugins see (remora_filter.h).
struct remora_stream {
  remora::http::ProxyStream* stream;
};

namespace remora::http {

// The downstream codec's side of a stream. Called on the worker thread.
class StreamEncoder {
 public:
  virtual ~StreamEncoder() = default;
  virtual void encodeHeaders(const MessageHead& response, bool end_stream) = 0;
  virtual void encodeBody(const char* data, size_t len) = 0;
  virtual void encodeEnd(const HeaderMap* trailers) = 0;
  virtual void encodeRaw(const char* data, size_t len) = 0;  // tunnel bytes
  virtual void encode100Continue() = 0;
  virtual void flush() = 0;
  virtual bool aboveWriteWatermark() const = 0;
  // Pauses/resumes reading the request body (upstream backpressure).
  virtual void readDisable(bool disable) = 0;
  // The response is fully encoded (or the tunnel closed); the stream is finished.
  virtual void onStreamComplete() = 0;
  // The response cannot be completed (upstream failed mid-response): drop the connection.
  virtual void abort() = 0;
  virtual const std::string& peerAddress() const = 0;
  virtual Dispatcher& dispatcher() = 0;
  // The connection's original destination (listeners with `original_dst: true`), or nullptr.
  virtual const OriginalDst* originalDst() const { return nullptr; }
};

// What a routing filter decided (remora_route_t, validated and resolved).
struct RouteDecision {
  uint32_t timeout_ms = 0;
  uint32_t per_try_timeout_ms = 0;
  uint32_t retry_max = 0;
  uint32_t retry_on = 0;
  bool retry_non_idempotent = false;
};

class ProxyStream : public upstream::UpstreamCallbacks {
 public:
  explicit ProxyStream(StreamEncoder& encoder);
  ~ProxyStream() override;

  // Downstream events, in order: begin, body*, requestComplete; tunnel data after a 101.
  void begin(std::shared_ptr<const ListenerRuntime> runtime, MessageHead& request);
  void onRequestBody(const char* data, size_t len);
  void onRequestComplete(HeaderMap& trailers);
  void onDownstreamTunnelData(const char* data, size_t len);
  void onDownstreamReadComplete();
  void onDownstreamWritable();
  // The downstream connection went away; release everything.
  void reset();

  bool responseStarted() const { return response_started_; }
  int responseStatus() const { return response_status_; }
  bool active() const { return active_; }

  // Answers the request locally (no upstream), unless a response has started. `flag` is the
  // Envoy-style response flag for the access log ("NR", "UF", ...).
  void sendLocalReply(int status, std::string_view body, bool close = false,
                      const char* flag = "LR", const remora_header_t* headers = nullptr,
                      size_t header_count = 0);

  // --- For the plugin host API (worker thread, during the stream's life). ---
  MessageHead* requestHead() { return request_; }
  MessageHead* responseHead() { return response_; }
  HeaderMap* requestTrailers() { return request_trailers_; }
  HeaderMap* responseTrailers() { return response_trailers_; }
  const ListenerRuntime* runtime() const { return runtime_.get(); }
  Dispatcher& dispatcher() { return encoder_.dispatcher(); }
  const std::string& peerAddress() const { return encoder_.peerAddress(); }
  const OriginalDst* originalDst() const { return encoder_.originalDst(); }
  std::vector<std::pair<std::string, std::string>>& metadata() { return metadata_; }
  // Applies a route decision; false with `err` set when the cluster is unknown.
  bool setRoute(const remora_route_t& route, std::string& err);
  // A filter's bounds on this stream's use of its cluster (set_upstream_limits): checked only
  // when the stream would wait for a connection or retry. REMORA_NO_LIMIT leaves one off.
  void setUpstreamLimits(uint32_t max_pending, uint32_t max_retries) {
    max_pending_ = max_pending;
    max_retries_ = max_retries;
  }
  // REMORA_LIMIT_HIT_* bits: which of those bounds acted on this stream.
  uint32_t upstreamLimitsHit() const { return limits_hit_; }
  // Continues the chain after a hook returned REMORA_STOP.
  void resumeFilters();
  uint64_t requestBytes() const { return request_bytes_; }
  uint64_t responseBytes() const { return response_bytes_; }
  std::string_view upstreamAddress() const {
    return upstream_address_ ? std::string_view(*upstream_address_) : std::string_view();
  }
  const std::string& responseFlags() const { return flags_; }
  uint64_t startUnixMicros() const { return start_unix_us_; }
  // The routed cluster's name, or nullptr before routing.
  const std::string* clusterName() const { return cluster_ ? &cluster_->config().name : nullptr; }
  // Keeps a filter's callout until the stream ends (then cancelled, never calling back).
  void adoptCallout(std::unique_ptr<plugin::Callout> callout);
  // The stream's gRPC status as decimal text ("14"), once known: from the response's headers
  // (trailers-only) or trailers, inferred from a non-200 HTTP status, or sent in a local reply.
  // Empty for other requests and before then. Backs the `remora.grpc_status` metadata key.
  std::string_view grpcStatusText() const {
    return grpc_status_ < 0 ? std::string_view() : std::string_view(grpc_status_text_);
  }

 private:
  // UpstreamCallbacks.
  void onUpstreamReady(upstream::UpstreamRequest& req) override;
  void onUpstreamFailure(upstream::UpstreamFailure failure, bool reused) override;
  int onResponseHeaders(MessageHead& head) override;
  void onResponseBody(const char* data, size_t len) override;
  void onResponseComplete(HeaderMap& trailers) override;
  void onTunnelData(const char* data, size_t len) override;
  void onUpstreamWritable() override;
  void onUpstreamReadComplete() override;

  void runRequestHeaderFilters();
  void onRouted();
  void forwardRequestBody(const char* data, size_t len);
  void forwardRequestEnd(HeaderMap* trailers);
  // Whether a failure meeting `condition` is retried: the route allows it, the request can be
  // sent again, and a retry slot is free (set_upstream_limits' max_retries; taken here).
  bool retryable(uint32_t condition);
  void retry();
  void filterFailed();
  // After a hook returns: completes a finish() that happened inside it. True if it did.
  bool afterHook();
  void tryUpstream();
  // original_dst clusters: the pool for the connection's original destination, or nullptr after
  // answering why there is none.
  upstream::EndpointPool* chooseOriginalDst();
  // An Upgrade request routed to an HTTP/2 cluster: answered 501, the connection closed.
  void refuseUpgrade();
  void finish();
  void completeFinish();
  // The response started and cannot be completed: on_log, then the encoder drops the connection.
  void abortStream();
  // The route's timeout: from the request's end to the response's, retries included.
  void armRouteTimeout();
  static void onRouteTimeout(void* arg);
  void releaseUpstream();
  void addFlag(const char* flag);

  // --- gRPC (proxy_stream_grpc.cc). Nothing here runs for a request that is not gRPC. ---
  // A POST's request head: is this gRPC (content-type), and its grpc-timeout.
  void detectGrpc();
  // Routed: starts the grpc-timeout deadline and keeps the body when gRPC retries may need it.
  void startGrpc();
  // The route timeout for the timer, capped by the grpc-timeout deadline's remainder.
  uint64_t grpcCappedTimeoutMs(uint64_t route_ms) const;
  // A local reply to a gRPC request: HTTP 200, trailers-only, grpc-status/grpc-message.
  void sendGrpcLocalReply(int status, std::string_view body, bool close, const char* flag,
                          const remora_header_t* headers, size_t header_count);
  // Response headers: records grpc-status (trailers-only) and says whether to retry on it.
  bool grpcResponseHeaders(const MessageHead& head);
  void grpcResponseTrailers(const HeaderMap& trailers);
  void setGrpcStatus(int status);
  // A copy of the request body for a gRPC retry, bounded by the listener's watermark.
  void retainBody(const char* data, size_t len);
  void restoreRetainedBody();
  // At the stream's end: remora_grpc_requests_total.
  void recordGrpc();

  StreamEncoder& encoder_;
  remora_stream handle_{this};
  std::shared_ptr<const ListenerRuntime> runtime_;
  std::shared_ptr<upstream::WorkerCluster> cluster_;
  plugin::FilterManager filters_;
  MessageHead* request_ = nullptr;
  MessageHead* response_ = nullptr;
  HeaderMap* request_trailers_ = nullptr;
  HeaderMap* response_trailers_ = nullptr;
  upstream::EndpointPool* pending_pool_ = nullptr;  // waiting in this pool's queue
  upstream::UpstreamRequest* upstream_ = nullptr;   // HTTP/1 connection or HTTP/2 stream
  EvbufferPtr request_buffer_;  // raw request body held until an upstream is ready
  EvbufferPtr held_body_;       // raw body bytes that arrived before the route was decided
  MessageHead local_head_;      // head of a local reply
  RouteDecision route_;
  std::unique_ptr<LazyTimer> route_timer_;  // made on first use; lives as long as the stream
  std::vector<std::pair<std::string, std::string>> metadata_;
  std::vector<std::unique_ptr<plugin::Callout>> callouts_;
  const std::string* upstream_address_ = nullptr;  // the pool's name; the pool outlives the stream
  std::string flags_;
  uint64_t tried_ = 0;
  const char* last_failure_ = nullptr;  // why the previous attempt failed, for the final 503
  uint64_t request_bytes_ = 0;
  uint64_t response_bytes_ = 0;
  uint64_t start_unix_us_ = 0;
  uint32_t attempts_ = 0;
  uint32_t retries_ = 0;
  uint32_t max_pending_ = REMORA_NO_LIMIT;  // set_upstream_limits
  uint32_t max_retries_ = REMORA_NO_LIMIT;
  uint32_t limits_hit_ = 0;  // REMORA_LIMIT_HIT_* bits
  bool retry_slot_ =
      false;  // holds one of cluster_'s retries in flight (WorkerCluster::tryAddRetry)
  int response_status_ = 0;
  bool active_ = false;
  bool routed_ = false;            // the chain (or the built-in table) has decided
  bool held_complete_ = false;     // the request ended before the route was decided
  bool request_complete_ = false;  // the request's end has been forwarded
  bool request_chunked_ = false;
  bool response_started_ = false;  // response bytes went to the downstream encoder
  bool upgrade_ = false;
  bool tunnel_ = false;
  bool finish_pending_ = false;  // finish() ran inside a hook
  bool notify_pending_ = false;  // ... and the encoder must hear onStreamComplete
  bool grpc_ = false;            // request content-type application/grpc[+...]
  bool retain_body_ = false;     // keeping retry_body_ for a gRPC retry
  int grpc_status_ = -1;         // -1 until known
  char grpc_status_text_[4] = {};
  uint64_t grpc_deadline_ms_ = 0;  // LazyTimer::nowMs() deadline from grpc-timeout; 0 = none
  EvbufferPtr retry_body_;         // encoded request body kept for a gRPC retry
};

}  // namespace remora::http
