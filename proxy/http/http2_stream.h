#pragma once
// Http2Stream: one HTTP/2 stream of a downstream Http2ServerConnection. It turns the stream's
// HEADERS/DATA/trailers into the MessageHead and body events a ProxyStream takes (the same
// filter chain, routing and HTTP/1.1 upstream as an HTTP/1 request), and is that ProxyStream's
// StreamEncoder: response heads become HEADERS, body bytes wait in a per-stream buffer that
// nghttp2's deferred data provider drains, trailers become a trailing HEADERS frame.
//
// Flow control: request body bytes are consumed (WINDOW_UPDATE) only while the upstream accepts
// them; the response buffer pauses the upstream read above the listener's high watermark.
//
// Lives on one worker thread. Once both nghttp2 and the ProxyStream are done with it the
// connection retires it, and reuses it for a later stream (reopen) so that its header maps and
// buffers keep their capacity: a stream then costs no allocation of Remora's own.

#include <event2/buffer.h>
#include <nghttp2/nghttp2.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/c_handles.h"
#include "event/dispatcher.h"
#include "event/lazy_timer.h"
#include "http/proxy_stream.h"

namespace remora::http {

class Http2ServerConnection;

class Http2Stream : public StreamEncoder {
 public:
  Http2Stream(Http2ServerConnection& conn, int32_t id);
  ~Http2Stream() override;

  // Makes a retired stream (see Http2ServerConnection::releaseStream) new again for stream
  // `id`: every per-stream field is reset, every buffer keeps its capacity.
  void reopen(int32_t id);

  int32_t id() const { return id_; }
  bool started() const { return head_complete_; }

  // --- Codec events (from the connection's nghttp2 callbacks). ---
  void onHeader(std::string_view name, std::string_view value);
  // False when the trailers go over the header limits: the stream is then reset.
  bool onTrailer(std::string_view name, std::string_view value);
  void onHeadersComplete(bool end_stream);
  void onTrailersComplete();
  // True the first time in a read that body bytes went to the ProxyStream (see onReadComplete).
  bool onData(const char* data, size_t len);
  // The connection's read is over: flush what the upstream was given.
  void onReadComplete();
  void onEndStream();
  // nghttp2 closed the stream (both ends done, or reset by either side).
  void onClosed();
  // The connection is closing: release the ProxyStream now.
  void detach();

  // Data provider: bytes ready for one DATA frame of at most `length`, or
  // NGHTTP2_ERR_DEFERRED when none is ready yet.
  ssize_t readResponse(size_t length, uint32_t* flags);
  // Moves `length` buffered response bytes to `out` (the DATA frame's payload).
  void moveResponse(evbuffer* out, size_t length);

  // StreamEncoder.
  void encodeHeaders(const MessageHead& response, bool end_stream) override;
  void encodeBody(const char* data, size_t len) override;
  void encodeEnd(const HeaderMap* trailers) override;
  void encodeRaw(const char*, size_t) override {}  // no tunnels on HTTP/2 streams
  void encode100Continue() override;
  void flush() override;
  bool aboveWriteWatermark() const override;
  void readDisable(bool disable) override;
  void onStreamComplete() override;
  void abort() override;
  const std::string& peerAddress() const override;
  const network::PeerIdentity* peerIdentity() const override;
  Dispatcher& dispatcher() override;

  // The connection's list of live streams.
  Http2Stream* prev = nullptr;
  Http2Stream* next = nullptr;

 private:
  // Answers without the filter chain (malformed or oversized request heads).
  void replyDirect(int status, std::string_view body);
  void resumeData();
  static void onRequestTimeout(void* arg);
  void countRequest(int status);

  Http2ServerConnection& conn_;
  int32_t id_;
  MessageHead request_;
  HeaderMap request_trailers_;
  HeaderMap response_trailers_;
  MessageHead direct_head_;
  std::string authority_;
  std::string cookie_;  // HTTP/2 splits cookies into crumbs; HTTP/1 wants one header
  ProxyStream proxy_;
  EvbufferPtr body_;  // response bytes the data provider has not taken yet
  std::shared_ptr<const ListenerRuntime> runtime_;
  std::unique_ptr<LazyTimer> request_timer_;  // timeouts.request, made only when set
  uint64_t start_us_ = 0;
  uint32_t header_bytes_ = 0;
  uint32_t high_watermark_ = 0;
  size_t unconsumed_ = 0;  // request bytes received while the upstream was full
  int status_ = 0;
  bool method_seen_ = false;
  bool bad_request_ = false;
  bool too_large_ = false;
  bool head_complete_ = false;   // the request head (HEADERS + CONTINUATIONs) has arrived
  bool started_ = false;         // the ProxyStream has begun
  bool request_ended_ = false;   // END_STREAM received
  bool response_open_ = false;   // HEADERS submitted with a data provider
  bool response_ended_ = false;  // encodeEnd: nothing more goes into body_
  bool deferred_ = false;        // the data provider returned DEFERRED
  bool read_disabled_ = false;
  bool read_dirty_ = false;  // listed for onReadComplete
  bool proxy_done_ = false;  // the ProxyStream finished (complete, aborted, or never started)
  bool closed_ = false;      // nghttp2 closed the stream
};

}  // namespace remora::http
