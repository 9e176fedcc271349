#pragma once
// One accepted connection of the demo upstream: parses requests with http_parser and answers
// them one at a time, in order, so pipelined requests get their responses in sequence.
//
// The parser is paused at the end of every request. A response is either written at once, or
// produced later (a timer for /slow, a generator for /bytes fed as the socket drains); the
// parser resumes on the buffered input only when that response is fully queued. While it
// waits, a read high watermark bounds what a pipelining client can make us buffer.

#include <event2/bufferevent.h>
#include <event2/event.h>
#include <http_parser.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace remora::demo {

class Server;

class Connection {
 public:
  Connection(Server& server, evutil_socket_t fd);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

 private:
  enum class Mode { kHttp, kRaw, kClosing };
  enum class Route {
    kHello,
    kEcho,
    kCount,
    kBytes,
    kStatus,
    kSlow,
    kReset,
    kClose,
    kHeaders,
    kStats,
    kWebSocket,
    kBadRequest
  };
  enum class Framing { kNone, kLength, kChunked, kUntilClose };

  // libevent entry points; each ends with a check of dead_ and frees the connection if set.
  static void onRead(bufferevent* bev, void* arg);
  static void onWrite(bufferevent* bev, void* arg);
  static void onEvent(bufferevent* bev, short what, void* arg);
  static void onTimer(evutil_socket_t fd, short what, void* arg);
  void finishCallback();

  // http_parser callbacks.
  static int onMessageBegin(http_parser* p);
  static int onUrl(http_parser* p, const char* at, size_t len);
  static int onHeaderField(http_parser* p, const char* at, size_t len);
  static int onHeaderValue(http_parser* p, const char* at, size_t len);
  static int onHeadersComplete(http_parser* p);
  static int onBody(http_parser* p, const char* at, size_t len);
  static int onMessageComplete(http_parser* p);
  static const http_parser_settings kSettings;

  void parseInput();
  void routeRequest();
  void respond();
  void respondBytes();
  void pumpBody();
  void responseQueued();
  void upgradeToRaw();
  void rawEcho();
  void failRequest();

  void writeHead(int status, Framing framing, uint64_t length = 0, std::string_view extra = {});
  void writeSimple(int status, std::string_view body);
  void writeBodyChunk(const char* data, size_t len);
  void applyOutputBackpressure();

  void resetNow();
  void closeAfterFlush();
  void flushedForClose();

  std::string header(std::string_view name) const;
  bool isHead() const { return parser_.method == HTTP_HEAD; }

  Server& server_;
  bufferevent* bev_;
  event* timer_;
  http_parser parser_;
  Mode mode_ = Mode::kHttp;
  bool dead_ = false;
  bool peer_eof_ = false;
  bool read_paused_ = false;  // reading stopped because the peer is not draining our output

  // The request being parsed or answered.
  std::string url_;
  std::vector<std::pair<std::string, std::string>> headers_;
  bool last_was_value_ = false;
  Route route_ = Route::kHello;
  uint64_t route_arg_ = 0;
  bool want_chunked_ = false;  // ?chunked=1 on /bytes
  uint64_t body_bytes_ = 0;
  bool request_complete_ = false;
  bool reset_requested_ = false;
  bool busy_ = false;              // a response is still being produced asynchronously
  bool response_started_ = false;  // its status line is already on the wire
  bool close_after_ = false;       // close once this response is flushed
  Framing echo_framing_ = Framing::kNone;

  // /bytes generator state.
  uint64_t gen_remaining_ = 0;
  bool gen_chunked_ = false;
};

}  // namespace remora::demo
