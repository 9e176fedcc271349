#pragma once
// UpstreamConnection: one pooled HTTP/1.1 connection to an endpoint, owned by its EndpointPool.
// Carries one request at a time; keep-alive reuse happens through the pool.

#include <event2/buffer.h>
#include <event2/event.h>

#include <cstdint>

#include "codec/http1_parser.h"
#include "common/c_handles.h"
#include "config/config.h"
#include "event/dispatcher.h"
#include "event/lazy_timer.h"
#include "network/transport.h"
#include "upstream/connect_step.h"
#include "upstream/upstream_request.h"

namespace remora::upstream {

class EndpointPool;

enum class UpstreamFailure : uint8_t {
  kConnectFailed,  // refused, unreachable, or reset during connect
  kConnectTimeout,
  kReset,            // closed or reset before the response was complete
  kResponseTimeout,  // no response byte for response_timeout
  kBadResponse,      // unparsable response
  kOverflow,         // pool full and pending queue full
  // HTTP/2: the upstream never processed the stream (GOAWAY above its last_stream_id, or
  // RST_STREAM REFUSED_STREAM), so it is safe to send again.
  kRefused,
  // The TLS handshake with the upstream failed (counted by reason in the cluster's TLS stats);
  // retried on the next endpoint like a failed connect.
  kTlsFailed,
};
const char* failureName(UpstreamFailure f);

// What a connection reports to the stream it carries. All calls on the worker thread; the
// connection may be destroyed (deferred) right after onUpstreamFailure.
class UpstreamCallbacks {
 public:
  virtual ~UpstreamCallbacks() = default;
  virtual void onUpstreamReady(UpstreamRequest& request) = 0;
  // `reused`: the connection had served a request before (a safe-retry hint).
  virtual void onUpstreamFailure(UpstreamFailure failure, bool reused) = 0;
  virtual int onResponseHeaders(http::MessageHead& head) = 0;
  virtual void onResponseBody(const char* data, size_t len) = 0;
  virtual void onResponseComplete(http::HeaderMap& trailers) = 0;
  // Upgraded (101) tunnel bytes from upstream.
  virtual void onTunnelData(const char* data, size_t len) = 0;
  // Everything one read from the upstream carried has been delivered (head and body pieces):
  // the moment to write it downstream in one go. A user that buffers the response ignores it.
  virtual void onUpstreamReadComplete() {}
  // Write buffer towards upstream drained below the low watermark.
  virtual void onUpstreamWritable() = 0;
};

class UpstreamConnection final : public UpstreamRequest,
                                 public http::Http1Parser::Sink,
                                 public Deferrable {
 public:
  // Request bytes queued towards the upstream before the downstream stops being read.
  static constexpr size_t kHighWatermark = 1024 * 1024;

  UpstreamConnection(EndpointPool& pool, Dispatcher& dispatcher);
  ~UpstreamConnection() override;

  // Starts a non-blocking connect; the callbacks hear onUpstreamReady or a failure.
  void connect(UpstreamCallbacks& cb);
  // Binds an idle connection to a new request.
  void attach(UpstreamCallbacks& cb);
  // The stream is done with this connection (response complete or stream gone).
  void detach();

  // UpstreamRequest: the request written as HTTP/1.1 into the output buffer.
  void sendHeaders(const http::MessageHead& request, const http::RequestRewrite& rw,
                   bool end_stream) override;
  void sendBody(const char* data, size_t len) override;
  void sendHeldBody(evbuffer* held) override;
  void sendEnd(const http::HeaderMap* trailers) override;
  void sendRaw(const char* data, size_t len) override;
  void flush() override;
  bool aboveHighWatermark() const override;
  // Pauses reading the response (downstream backpressure).
  void readDisable(bool disable) override;
  void release() override { detach(); }
  const std::string& endpointName() const override;
  void setResponseTimeoutOverride(uint32_t ms) override { response_timeout_ms_ = ms; }
  void setResponseExpectsNoBody(bool v) override { head_request_ = v; }

  bool reused() const { return requests_served_ > 0; }
  bool idle() const { return cb_ == nullptr; }
  // True while the connection is being opened for `cb`'s request.
  bool connectingFor(const UpstreamCallbacks& cb) const {
    return state_ == State::kConnecting && cb_ == &cb;
  }

 private:
  enum class State : uint8_t { kConnecting, kOpen, kClosed };

  int onHeaders(http::MessageHead& head) override;
  int onBody(const char* data, size_t len) override;
  int onMessageComplete(http::HeaderMap& trailers) override;

  static void onEvent(evutil_socket_t fd, short what, void* arg);
  static void onTimer(void* arg);
  void onConnected();
  void onReadable();
  void onWritable();
  void fail(UpstreamFailure f);
  void close();
  void armTimer(config::Duration d) { timer_.set(uint64_t(d.count())); }
  void armResponseTimer();
  // The request has been written fully (sendEnd); arms the response timeout.
  void requestComplete();
  void updateEvents();

  EndpointPool& pool_;
  Dispatcher& dispatcher_;
  UpstreamCallbacks* cb_ = nullptr;
  std::unique_ptr<network::Transport> transport_;
  EventPtr read_ev_;
  EventPtr write_ev_;
  LazyTimer timer_;
  EvbufferPtr out_;
  http::Http1Parser parser_;
  State state_ = State::kConnecting;
  uint64_t requests_served_ = 0;
  bool head_request_ = false;
  bool response_done_ = false;
  bool request_done_ = false;
  bool keep_alive_ = true;
  bool read_disabled_ = false;
  bool write_pending_ = false;
  bool tunnel_ = false;
  bool response_started_ = false;
  bool connect_error_ = false;
  ConnectStep connect_step_;
  bool request_chunked_ = false;  // the current request's body goes out chunked
  uint32_t response_timeout_ms_ = 0;
};

}  // namespace remora::upstream
