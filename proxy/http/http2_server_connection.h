#pragma once
// Http2ServerConnection: one downstream HTTP/2 connection (prior-knowledge h2c; the HTTP/1
// ServerConnection hands the socket over when it sees the client preface). nghttp2 does the
// framing, HPACK and the protocol's own checks; this class does the socket I/O, maps streams to
// Http2Stream/ProxyStream pairs, and enforces the listener's flood budgets (rapid reset,
// CONTINUATION, SETTINGS, PING and empty DATA floods) with GOAWAY ENHANCE_YOUR_CALM.
//
// Output is pulled from nghttp2 only while the socket buffer is below the high watermark, so a
// client that does not read leaves frames queued in nghttp2, whose own outbound-ACK limit then
// catches a flood of PINGs or SETTINGS it never reads the answers to.
//
// The nghttp2 callbacks and the flood budgets are in http2_session_callbacks.cc.
//
// Lives on one worker thread; owned by the worker and destroyed through deferDelete.

#include <event2/buffer.h>
#include <event2/event.h>
#include <nghttp2/nghttp2.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/c_handles.h"
#include "event/dispatcher.h"
#include "event/lazy_timer.h"
#include "http/downstream_connection.h"
#include "http/listener_runtime.h"
#include "stats/stats.h"

namespace remora::http {

class Http2Stream;

class Http2ServerConnection : public DownstreamConnection {
 public:
  Http2ServerConnection(Dispatcher& dispatcher, ConnectionOwner& owner,
                        std::shared_ptr<ListenerSlot> slot,
                        std::unique_ptr<network::Transport> transport, std::string peer);
  ~Http2ServerConnection() override;

  // Sends the server SETTINGS and processes `initial` (the preface and whatever followed it).
  void start(std::string_view initial);
  // Drain: GOAWAY (NO_ERROR), then close once the streams in flight are done.
  void closeWhenIdle() override;

  // --- For streams. ---
  Dispatcher& dispatcher() { return dispatcher_; }
  const std::string& peer() const { return peer_; }
  const network::PeerIdentity* peerIdentity() const { return transport_->peerIdentity(); }
  nghttp2_session* session() { return session_; }
  const std::shared_ptr<const ListenerRuntime>& runtime() const { return slot_->current; }
  stats::ListenerStats& stats() { return *stats_; }
  // Reused name/value array for submitting header blocks (no allocation per response).
  std::vector<nghttp2_nv>& fieldScratch() {
    fields_.clear();
    return fields_;
  }
  // Sends what nghttp2 has queued, once the current event-loop pass is over (inside an nghttp2
  // call: once that call returns).
  void flush();
  // The stream's request head is complete: the connection is no longer idle.
  void onStreamStarted();
  // The stream is done on both sides: unlink it and retire it. Retired streams are kept for
  // reuse (or deleted) once the connection's current event callback is over, when no stream
  // code can be on the stack.
  void releaseStream(Http2Stream& stream);

 private:
  struct FloodBudget {
    uint32_t resets = 0;
    uint32_t settings = 0;
    uint32_t pings = 0;
    uint32_t empty_data = 0;
    uint64_t window_start_ms = 0;
  };

  static ssize_t onSend(nghttp2_session*, const uint8_t* data, size_t len, int, void* arg);
  static int onSendData(nghttp2_session*, nghttp2_frame* frame, const uint8_t* framehd,
                        size_t length, nghttp2_data_source* source, void* arg);
  static int onBeginFrame(nghttp2_session*, const nghttp2_frame_hd* hd, void* arg);
  static int onBeginHeaders(nghttp2_session*, const nghttp2_frame* frame, void* arg);
  static int onHeader(nghttp2_session*, const nghttp2_frame* frame, const uint8_t* name,
                      size_t namelen, const uint8_t* value, size_t valuelen, uint8_t flags,
                      void* arg);
  static int onFrameRecv(nghttp2_session*, const nghttp2_frame* frame, void* arg);
  static int onDataChunk(nghttp2_session*, uint8_t flags, int32_t stream_id, const uint8_t* data,
                         size_t len, void* arg);
  static int onFrameSend(nghttp2_session*, const nghttp2_frame* frame, void* arg);
  static int onStreamClose(nghttp2_session*, int32_t stream_id, uint32_t error_code, void* arg);
  static void onEvent(evutil_socket_t fd, short what, void* arg);
  static void onIdle(void* arg);
  static void onSendEvent(evutil_socket_t, short, void* arg);
  void sendNow();

  void onReadable();
  void receive(const char* data, size_t len);
  // Counts one frame against a budget; over it, GOAWAY ENHANCE_YOUR_CALM. True if over.
  bool overBudget(uint32_t& count, uint32_t limit, stats::ProtocolError kind);
  void terminate(uint32_t error_code, stats::ProtocolError kind);
  void writeSocket();
  void startLinger();
  void updateIdle();
  void close();
  // A stream for a new request: a spare one reopened, or a new one.
  Http2Stream* newStream(int32_t id);
  // Moves retired streams to the spares (at most kMaxSpareStreams) and deletes the rest. Only
  // at the end of an event callback of this connection.
  void recycleRetired();

  // Spare streams kept per connection: enough for the concurrent requests of a busy client
  // (h2load -m 10, a gRPC channel) to cost no allocation, few enough to stay small (each keeps
  // its header and body buffers).
  static constexpr size_t kMaxSpareStreams = 16;

  Dispatcher& dispatcher_;
  ConnectionOwner& owner_;
  std::shared_ptr<ListenerSlot> slot_;
  std::unique_ptr<network::Transport> transport_;
  std::string peer_;
  stats::ListenerStats* stats_;
  nghttp2_session* session_ = nullptr;
  EventPtr read_ev_;
  EventPtr write_ev_;
  EventPtr send_ev_;  // activated by flush(): runs sendNow() after the current pass
  LazyTimer idle_timer_;
  EvbufferPtr out_;
  std::vector<nghttp2_nv> fields_;
  std::vector<Http2Stream*> read_streams_;             // got body bytes in the current receive()
  std::vector<std::unique_ptr<Http2Stream>> retired_;  // released in the current callback
  std::vector<std::unique_ptr<Http2Stream>> spare_;    // reset, ready for newStream()
  Http2Stream* streams_ = nullptr;  // live streams, linked through Http2Stream::prev/next
  size_t stream_count_ = 0;
  // Streams past their request head. A stream still inside its header block does not count:
  // a client that never finishes one cannot keep the connection from its idle timeout.
  size_t started_count_ = 0;
  size_t high_watermark_;
  FloodBudget budget_;
  uint32_t continuations_ = 0;  // CONTINUATION frames in the current header block
  bool in_session_ = false;     // inside nghttp2_session_mem_recv/send
  bool flush_pending_ = false;
  bool send_scheduled_ = false;
  bool send_blocked_ = false;  // nghttp2 was told WOULDBLOCK: the socket buffer is full
  bool write_pending_ = false;
  bool terminated_ = false;  // GOAWAY with an error queued: read nothing more
  bool goaway_sent_ = false;
  bool lingering_ = false;
  bool closed_ = false;
};

}  // namespace remora::http
