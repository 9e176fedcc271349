#pragma once
// ProxyStream: one request/response exchange from routing to the last response byte. Runs the
// listener's filter chain (request hooks, the router's route decision, response hooks, on_log),
// acquires an upstream request from the cluster's pool (an HTTP/1.1 connection or an HTTP/2
// stream, behind upstream::UpstreamRequest), forwards the request, streams bodies both ways with
// backpressure, retries what is safe to retry, and answers failures with local replies.
//
// The downstream side is abstract (StreamEncoder) so an HTTP/2 codec can carry the same stream.
// The plugin host API reaches a stream through `remora_stream` (http/host_api.cc).

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
#include "http/stream_state.h"
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
  // What the client proved in its TLS handshake (a verified certificate), or nullptr.
  virtual const network::PeerIdentity* peerIdentity() const { return nullptr; }
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

  bool responseStarted() const { return response_.started; }
  int responseStatus() const { return response_.status; }
  bool active() const { return progress_.active; }

  // Answers the request locally (no upstream), unless a response has started. `flag` is the
  // Envoy-style response flag for the access log ("NR", "UF", ...).
  void sendLocalReply(int status, std::string_view body, bool close = false,
                      const char* flag = "LR", const remora_header_t* headers = nullptr,
                      size_t header_count = 0);

  // --- For the plugin host API (worker thread, during the stream's life). ---
  MessageHead* requestHead() { return request_.head; }
  MessageHead* responseHead() { return response_.head; }
  HeaderMap* requestTrailers() { return request_.trailers; }
  HeaderMap* responseTrailers() { return response_.trailers; }
  const ListenerRuntime* runtime() const { return runtime_.get(); }
  Dispatcher& dispatcher() { return encoder_.dispatcher(); }
  const std::string& peerAddress() const { return encoder_.peerAddress(); }
  const OriginalDst* originalDst() const { return encoder_.originalDst(); }
  const network::PeerIdentity* peerIdentity() const { return encoder_.peerIdentity(); }
  std::vector<std::pair<std::string, std::string>>& metadata() { return progress_.metadata; }
  // Applies a route decision; false with `err` set when the cluster is unknown.
  bool setRoute(const remora_route_t& route, std::string& err);
  // A filter's bounds on this stream's use of its cluster (set_upstream_limits): checked only
  // when the stream would wait for a connection or retry. REMORA_NO_LIMIT leaves one off.
  void setUpstreamLimits(uint32_t max_pending, uint32_t max_retries) {
    upstream_.max_pending = max_pending;
    upstream_.max_retries = max_retries;
  }
  // REMORA_LIMIT_HIT_* bits: which of those bounds acted on this stream.
  uint32_t upstreamLimitsHit() const { return upstream_.limits_hit; }
  // Continues the chain after a hook returned REMORA_STOP.
  void resumeFilters();
  uint64_t requestBytes() const { return request_.bytes; }
  uint64_t responseBytes() const { return response_.bytes; }
  std::string_view upstreamAddress() const {
    return upstream_.address ? std::string_view(*upstream_.address) : std::string_view();
  }
  const std::string& responseFlags() const { return response_.flags; }
  uint64_t startUnixMicros() const { return progress_.start_unix_us; }
  // The routed cluster's name, or nullptr before routing.
  const std::string* clusterName() const {
    return upstream_.cluster ? &upstream_.cluster->config().name : nullptr;
  }
  // Keeps a filter's callout until the stream ends (then cancelled, never calling back).
  void adoptCallout(std::unique_ptr<plugin::Callout> callout);
  // The stream's gRPC status as decimal text ("14"), once known: from the response's headers
  // (trailers-only) or trailers, inferred from a non-200 HTTP status, or sent in a local reply.
  // Empty for other requests and before then. Backs the `remora.grpc_status` metadata key.
  std::string_view grpcStatusText() const {
    return grpc_.status < 0 ? std::string_view() : std::string_view(grpc_.status_text);
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

  // For the stream's whole life, across the requests it carries.
  StreamEncoder& encoder_;
  remora_stream handle_{this};
  std::shared_ptr<const ListenerRuntime> runtime_;  // the current request's listener
  plugin::FilterManager filters_;
  MessageHead local_head_;                  // head of a local reply; cleared at each use
  std::unique_ptr<LazyTimer> route_timer_;  // made on first use
  // Filters' callouts: cancelled and emptied when a request finishes (capacity kept).
  std::vector<std::unique_ptr<plugin::Callout>> callouts_;

  // One request's state (stream_state.h): begin() resets each part as a whole.
  StreamProgress progress_;
  RequestSide request_;
  ResponseSide response_;
  UpstreamSide upstream_;
  GrpcState grpc_;
};

}  // namespace remora::http
