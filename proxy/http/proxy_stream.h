#pragma once
// ProxyStream: one request/response exchange from routing to the last response byte — picks the
// route, acquires a pooled upstream connection, forwards the request (head rewritten: hop-by-hop
// headers stripped, X-Forwarded-*, x-request-id), streams bodies both ways with backpressure,
// retries what is safe to retry, and answers failures with local replies.
//
// The downstream side is abstract (StreamEncoder) so an HTTP/2 codec can carry the same stream.

#include <event2/buffer.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/c_handles.h"
#include "http/codec/http1_parser.h"
#include "http/listener_runtime.h"
#include "kernel/dispatcher.h"
#include "upstream/upstream_connection.h"

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

  // Answers the request locally (no upstream), unless a response has started.
  void sendLocalReply(int status, std::string_view body, bool close = false);

 private:
  // UpstreamCallbacks.
  void onUpstreamReady(upstream::UpstreamConnection& conn) override;
  void onUpstreamFailure(upstream::UpstreamFailure failure, bool reused) override;
  int onResponseHeaders(MessageHead& head) override;
  void onResponseBody(const char* data, size_t len) override;
  void onResponseComplete(HeaderMap& trailers) override;
  void onTunnelData(const char* data, size_t len) override;
  void onUpstreamWritable() override;
  void onUpstreamReadComplete() override;

  void tryUpstream();
  void writeRequestHead(evbuffer* out);
  void encodeRequestBody(evbuffer* out, const char* data, size_t len);
  void encodeRequestEnd(evbuffer* out, const HeaderMap* trailers);
  void finish();
  void releaseUpstream();

  StreamEncoder& encoder_;
  std::shared_ptr<const ListenerRuntime> runtime_;
  std::shared_ptr<upstream::WorkerCluster> cluster_;
  MessageHead* request_ = nullptr;
  upstream::EndpointPool* pending_pool_ = nullptr;  // waiting in this pool's queue
  upstream::UpstreamConnection* upstream_ = nullptr;
  EvbufferPtr request_buffer_;  // encoded request bytes held until an upstream is ready
  MessageHead local_head_;      // head of a local reply
  uint64_t tried_ = 0;
  const char* last_failure_ = nullptr;  // why the previous attempt failed, for the final 503
  uint32_t attempts_ = 0;
  int response_status_ = 0;
  bool active_ = false;
  bool request_complete_ = false;
  bool request_chunked_ = false;
  bool request_sent_any_ = false;  // some request bytes reached an upstream connection
  bool response_started_ = false;
  bool upgrade_ = false;
  bool tunnel_ = false;
};

}  // namespace remora::http
