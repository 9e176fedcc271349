#pragma once
// Http2Connection: one pooled HTTP/2 (h2c, prior knowledge) connection to an endpoint, owned by
// its EndpointPool, carrying up to capacity() concurrent streams. Http2UpstreamStream is one
// request on it, seen by the proxy stream as an UpstreamRequest.
//
// nghttp2 does the framing, HPACK and flow control; this class does the socket I/O (same raw
// event + evbuffer scheme as UpstreamConnection) and maps nghttp2's callbacks onto the streams.
//
// Stream objects are reused: the EndpointPool keeps spare Http2UpstreamStreams and reopens one
// for each new stream (see EndpointPool::newStream and docs/architecture.md).

#include <event2/buffer.h>
#include <nghttp2/nghttp2.h>

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "codec/http1_parser.h"
#include "common/c_handles.h"
#include "event/dispatcher.h"
#include "event/lazy_timer.h"
#include "network/transport.h"
#include "upstream/connect_step.h"
#include "upstream/upstream_connection.h"
#include "upstream/upstream_request.h"

namespace remora::upstream {

class EndpointPool;
class Http2Connection;

struct NgHttp2SessionDeleter {
  void operator()(nghttp2_session* s) const { nghttp2_session_del(s); }
};

class Http2UpstreamStream final : public UpstreamRequest, public Deferrable {
 public:
  Http2UpstreamStream(EndpointPool& pool, Http2Connection& conn, UpstreamCallbacks& cb);
  ~Http2UpstreamStream() override;

  // A spare stream taken for a new request on `conn`: every per-request field is reset; the
  // buffers keep their capacity. Only for a stream its pool recycled (no code of it running).
  void reopen(Http2Connection& conn, UpstreamCallbacks& cb);

  // UpstreamRequest.
  void sendHeaders(const http::MessageHead& request, const http::RequestRewrite& rw,
                   bool end_stream) override;
  void sendBody(const char* data, size_t len) override;
  void sendHeldBody(evbuffer* held) override;
  void sendEnd(const http::HeaderMap* trailers) override;
  void sendRaw(const char*, size_t) override {}  // no upgrades over HTTP/2
  void flush() override;
  bool aboveHighWatermark() const override;
  void readDisable(bool disable) override;
  void release() override;
  const std::string& endpointName() const override;
  void setResponseTimeoutOverride(uint32_t ms) override { response_timeout_ms_ = ms; }
  void setResponseExpectsNoBody(bool) override {}  // HTTP/2 framing says so itself

  // nghttp2's DATA source for this stream: takes body bytes as the peer's window allows.
  ssize_t readRequestBody(uint8_t* buf, size_t length, uint32_t* flags);

 private:
  friend class Http2Connection;

  // nghttp2 events, routed here by the connection.
  void onBeginHeaders();
  void onHeader(std::string_view name, std::string_view value);
  void onHeadersEnd(bool end_stream);
  void onData(const char* data, size_t len);
  void onDataEnd();
  // The stream is gone from the session: closed normally, reset, refused, or the connection died.
  void onClosed(UpstreamFailure failure);
  void complete();
  void fail(UpstreamFailure failure);
  void armResponseTimer();
  static void onTimer(void* arg);
  // Closed on the session and released by its user: back to the pool, which recycles it once
  // no code of it can be on the stack.
  void maybeRetire();

  EndpointPool& pool_;     // outlives its streams (it counts them: EndpointPool::busy)
  Http2Connection* conn_;  // valid while !closed_ (the connection may be gone after)
  Dispatcher& dispatcher_;
  const std::string& endpoint_;  // the pool's name
  UpstreamCallbacks* cb_;
  int32_t id_ = 0;
  EvbufferPtr body_;  // request body not yet taken by nghttp2 (flow control)
  std::vector<std::pair<std::string, std::string>> request_trailers_;
  http::MessageHead response_;
  http::HeaderMap trailers_;
  LazyTimer timer_;
  uint64_t unconsumed_ = 0;  // response bytes delivered while read-disabled, not yet acked
  uint32_t response_timeout_ms_ = 0;
  bool end_ = false;            // the request's end was given (sendEnd)
  bool data_deferred_ = false;  // nghttp2 waits for body bytes (resume on sendBody/sendEnd)
  bool headers_done_ = false;   // the final response head was delivered
  bool in_trailers_ = false;    // the current HEADERS frame is the trailer block
  bool response_done_ = false;
  bool read_disabled_ = false;
  bool closed_ = false;  // gone from the session (or never opened)
  bool was_above_high_ = false;
  bool touched_ = false;         // in the connection's list of streams read this round
  bool retired_ = false;         // handed back to the pool (until reopen)
  bool on_reused_conn_ = false;  // the connection had completed a stream when this one started
};

class Http2Connection : public Deferrable {
 public:
  // Request-body bytes a stream buffers (peer's window exhausted) before the downstream pauses;
  // the same figure as UpstreamConnection's.
  static constexpr size_t kHighWatermark = UpstreamConnection::kHighWatermark;

  Http2Connection(EndpointPool& pool, Dispatcher& dispatcher);
  ~Http2Connection() override;

  void connect();
  // Binds `cb` to a new stream now when the peer's SETTINGS are known, else when they arrive.
  void newStream(UpstreamCallbacks& cb);
  // Forgets a request still waiting for the peer's SETTINGS; false when `cb` is not waiting here.
  bool cancelWaiting(UpstreamCallbacks& cb);
  // Streams open or waiting, against the lower of our cap and the peer's limit.
  bool hasRoom() const;
  uint32_t load() const { return uint32_t(streams_.size() + waiting_.size()); }
  bool open() const { return state_ != State::kClosed; }
  // At least one stream got its whole response here: the connection has been idle and reused,
  // so the peer may close it just as a new stream goes out (see Http2UpstreamStream::fail).
  bool reused() const { return completed_streams_ > 0; }
  bool draining() const { return draining_; }
  // Closes now if no stream uses the connection (drain, cluster removal).
  void closeIfIdle();

  const std::string& endpointName() const;
  Dispatcher& dispatcher() { return dispatcher_; }
  EndpointPool& pool() { return pool_; }
  nghttp2_session* session() { return session_.get(); }
  // Writes what nghttp2 has queued, unless nghttp2 is on the stack (then after it returns).
  void flush();
  // For streams: flush once the current event-loop pass is over, so that the requests many
  // downstream streams forward in one pass leave in one write.
  void scheduleFlush();

 private:
  friend class Http2UpstreamStream;
  enum class State : uint8_t { kConnecting, kOpen, kClosed };

  void setUpSession();
  static void onEvent(evutil_socket_t fd, short what, void* arg);
  static void onTimer(void* arg);
  static void onKeepaliveTimer(void* arg);
  static void onSendEvent(evutil_socket_t, short, void* arg);
  void onConnected();
  void onReadable();
  void onSettings();
  void startStream(UpstreamCallbacks& cb);
  void streamClosed(Http2UpstreamStream& s);
  void touch(Http2UpstreamStream& s);
  void afterActivity();
  void fail(UpstreamFailure f);
  void close(UpstreamFailure f);

  // nghttp2 callbacks.
  static int onBeginHeadersCb(nghttp2_session*, const nghttp2_frame* frame, void* user);
  static int onHeaderCb(nghttp2_session*, const nghttp2_frame* frame, const uint8_t* name,
                        size_t namelen, const uint8_t* value, size_t valuelen, uint8_t flags,
                        void* user);
  static int onFrameRecvCb(nghttp2_session*, const nghttp2_frame* frame, void* user);
  static int onDataChunkCb(nghttp2_session*, uint8_t flags, int32_t stream_id, const uint8_t* data,
                           size_t len, void* user);
  static int onStreamCloseCb(nghttp2_session*, int32_t stream_id, uint32_t error_code, void* user);

  EndpointPool& pool_;
  Dispatcher& dispatcher_;
  std::unique_ptr<nghttp2_session, NgHttp2SessionDeleter> session_;
  std::unique_ptr<network::Transport> transport_;
  EventPtr read_ev_;
  EventPtr write_ev_;
  EventPtr send_ev_;  // activated by scheduleFlush()
  LazyTimer timer_;
  LazyTimer keepalive_timer_;  // next PING, or the wait for its ACK
  EvbufferPtr out_;
  std::vector<Http2UpstreamStream*> streams_;  // open on the session (or about to be)
  std::deque<UpstreamCallbacks*> waiting_;     // bound here before the peer's SETTINGS
  std::vector<Http2UpstreamStream*> touched_;  // streams that received bytes this read
  uint32_t capacity_;                          // our cap until the peer's SETTINGS lower it
  uint64_t completed_streams_ = 0;
  State state_ = State::kConnecting;
  bool settings_received_ = false;
  bool draining_ = false;  // GOAWAY received or sent: no new streams
  bool in_session_ = false;
  bool send_wanted_ = false;
  bool send_scheduled_ = false;
  bool write_pending_ = false;
  bool connect_error_ = false;
  ConnectStep connect_step_;
  bool busy_ = false;
  bool ping_outstanding_ = false;  // counted as active (carrying streams) in the endpoint's gauges
};

}  // namespace remora::upstream
