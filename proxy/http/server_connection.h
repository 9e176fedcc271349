#pragma once
// ServerConnection: one downstream HTTP/1.1 connection — socket I/O, the request parser,
// keep-alive, pipelining (requests answered strictly in order, one stream at a time), timeouts
// (idle, request headers, whole request) and write-side backpressure.
//
// Lives on one worker thread; owned by the worker and destroyed through deferDelete.

#include <event2/buffer.h>
#include <event2/event.h>
#include <netinet/in.h>

#include <memory>
#include <string>

#include "codec/http1_parser.h"
#include "common/c_handles.h"
#include "event/dispatcher.h"
#include "event/lazy_timer.h"
#include "http/downstream_connection.h"
#include "http/listener_runtime.h"
#include "http/proxy_stream.h"

namespace remora::http {

class ServerConnection : public Http1Parser::Sink,
                         public StreamEncoder,
                         public DownstreamConnection {
 public:
  ServerConnection(Dispatcher& dispatcher, ConnectionOwner& owner,
                   std::shared_ptr<ListenerSlot> slot,
                   std::unique_ptr<network::Transport> transport, std::string peer);
  ~ServerConnection() override;

  // Closes the connection now if no request is in progress (drain), else after its response.
  void closeWhenIdle() override;

  // StreamEncoder.
  void encodeHeaders(const MessageHead& response, bool end_stream) override;
  void encodeBody(const char* data, size_t len) override;
  void encodeEnd(const HeaderMap* trailers) override;
  void encodeRaw(const char* data, size_t len) override;
  void encode100Continue() override;
  void flush() override;
  bool aboveWriteWatermark() const override;
  void readDisable(bool disable) override;
  void onStreamComplete() override;
  void abort() override;
  const std::string& peerAddress() const override { return peer_; }
  Dispatcher& dispatcher() override { return dispatcher_; }
  const OriginalDst* originalDst() const override { return original_dst_.get(); }
  const network::PeerIdentity* peerIdentity() const override {
    return transport_ ? transport_->peerIdentity() : nullptr;
  }

 private:
  enum class TimerMode : uint8_t { kNone, kIdle, kHeaders, kRequest, kLinger };

  int onHeaders(MessageHead& head) override;
  int onBody(const char* data, size_t len) override;
  int onMessageComplete(HeaderMap& trailers) override;

  static void onEvent(evutil_socket_t fd, short what, void* arg);
  static void onTimer(void* arg);
  void onReadable();
  // First bytes of the connection: true when they were the HTTP/2 preface (or a prefix of it,
  // held until more arrive) and the connection is handed over or waiting.
  bool sniffHttp2(const char* data, size_t len);
  void parse(const char* data, size_t len);
  void onParseError();
  void arm(TimerMode mode);
  void close();
  void closeAfterFlush();
  void startLinger();
  void disarm();
  void localErrorAndClose(int status, std::string_view body);

  Dispatcher& dispatcher_;
  ConnectionOwner& owner_;
  std::shared_ptr<ListenerSlot> slot_;
  std::shared_ptr<const ListenerRuntime> runtime_;  // the one the current stream started on
  std::unique_ptr<network::Transport> transport_;
  std::string peer_;
  std::unique_ptr<OriginalDst> original_dst_;  // listeners with original_dst only
  EventPtr read_ev_;
  EventPtr write_ev_;
  LazyTimer timer_;
  EvbufferPtr out_;
  std::string pending_in_;  // bytes read but not parsed (pipelined requests)
  std::string valid_host_;  // the last Host that passed checkRequestHead on this connection
  Http1Parser parser_;
  ProxyStream stream_;
  TimerMode timer_mode_ = TimerMode::kNone;
  bool closed_ = false;
  bool stream_active_ = false;     // a stream is between headers and its response's end
  bool request_done_ = false;      // the current request's message is complete
  bool request_bodyless_ = false;  // its head announced no body (and no upgrade)
  bool close_after_ = false;       // close once the current response is written
  bool read_disabled_ = false;     // backpressure from upstream
  bool write_pending_ = false;
  bool tunnel_ = false;
  bool response_chunked_ = false;
  bool response_close_delimited_ = false;
  bool request_is_head_ = false;
  bool request_http10_ = false;
  bool request_te_trailers_ = false;  // the client said "TE: trailers": it takes trailers
  bool response_no_body_ = false;
  bool closing_ = false;    // flushing the last bytes before a close
  bool lingering_ = false;  // write side shut, draining the client's leftovers
  bool in_parse_ = false;
  bool resume_pending_ = false;
  bool sniffing_ = false;  // no byte parsed yet and HTTP/2 is enabled on the listener
  stats::ListenerStats* stats_ = nullptr;
  uint64_t stream_start_us_ = 0;
  int response_status_ = 0;
};

}  // namespace remora::http
