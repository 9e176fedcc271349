#include "connection.h"

#include <event2/buffer.h>
#include <netinet/in.h>
#include <strings.h>
#include <sys/socket.h>

#include <algorithm>
#include <optional>
#include <utility>

#include "server.h"
#include "text.h"

namespace remora::demo {
namespace {

// Input buffered while a response is still being produced; a pipelining client cannot make
// us hold more than this of its next requests.
constexpr size_t kReadHigh = 64 * 1024;
// Echoed bytes queued for a peer that does not read: reading stops above kOutHigh and
// resumes once the socket has drained the output to kOutLow.
constexpr size_t kOutHigh = 512 * 1024;
constexpr size_t kOutLow = 64 * 1024;
// /bytes keeps at most this much queued; refilled from the write callback at kOutLow.
constexpr size_t kFill = 256 * 1024;
// After sending a final response and half-closing, wait this long for the peer's EOF before
// closing, so unread pipelined bytes do not turn our close into a reset that eats the reply.
constexpr timeval kLinger = {2, 0};

Connection* self(http_parser* p) {
  return static_cast<Connection*>(p->data);
}

}  // namespace

const http_parser_settings Connection::kSettings = [] {
  http_parser_settings s{};
  s.on_message_begin = &Connection::onMessageBegin;
  s.on_url = &Connection::onUrl;
  s.on_header_field = &Connection::onHeaderField;
  s.on_header_value = &Connection::onHeaderValue;
  s.on_headers_complete = &Connection::onHeadersComplete;
  s.on_body = &Connection::onBody;
  s.on_message_complete = &Connection::onMessageComplete;
  return s;
}();

Connection::Connection(Server& server, evutil_socket_t fd)
    : server_(server),
      bev_(bufferevent_socket_new(server.base(), fd, BEV_OPT_CLOSE_ON_FREE)),
      timer_(evtimer_new(server.base(), &Connection::onTimer, this)) {
  http_parser_init(&parser_, HTTP_REQUEST);
  parser_.data = this;
  bufferevent_setcb(bev_, &Connection::onRead, &Connection::onWrite, &Connection::onEvent, this);
  bufferevent_setwatermark(bev_, EV_READ, 0, kReadHigh);
  bufferevent_setwatermark(bev_, EV_WRITE, kOutLow, 0);
  bufferevent_enable(bev_, EV_READ | EV_WRITE);
}

Connection::~Connection() {
  event_free(timer_);
  bufferevent_free(bev_);
}

// ---- libevent callbacks ----

void Connection::onRead(bufferevent*, void* arg) {
  auto* c = static_cast<Connection*>(arg);
  evbuffer* in = bufferevent_get_input(c->bev_);
  switch (c->mode_) {
    case Mode::kHttp:
      c->parseInput();
      break;
    case Mode::kRaw:
      c->rawEcho();
      break;
    case Mode::kClosing:
      evbuffer_drain(in, evbuffer_get_length(in));
      break;
  }
  c->finishCallback();
}

void Connection::onWrite(bufferevent*, void* arg) {
  auto* c = static_cast<Connection*>(arg);
  if (c->mode_ == Mode::kClosing) {
    if (evbuffer_get_length(bufferevent_get_output(c->bev_)) == 0) c->flushedForClose();
  } else {
    if (c->read_paused_) {
      c->read_paused_ = false;
      bufferevent_enable(c->bev_, EV_READ);
    }
    if (c->busy_ && c->route_ == Route::kBytes) {
      c->pumpBody();
      if (c->mode_ == Mode::kHttp && !c->busy_) c->parseInput();
    }
  }
  c->finishCallback();
}

void Connection::onEvent(bufferevent*, short what, void* arg) {
  auto* c = static_cast<Connection*>(arg);
  if (what & BEV_EVENT_ERROR) {
    c->dead_ = true;
  } else if (what & BEV_EVENT_EOF) {
    c->peer_eof_ = true;
    if (c->mode_ == Mode::kClosing) {
      c->dead_ = true;
    } else if (c->mode_ == Mode::kRaw) {
      c->closeAfterFlush();
    } else if (!c->busy_) {
      c->parseInput();  // closes once every complete request in the buffer is answered
    }
  }
  c->finishCallback();
}

void Connection::onTimer(evutil_socket_t, short, void* arg) {
  auto* c = static_cast<Connection*>(arg);
  if (c->mode_ == Mode::kClosing) {
    c->dead_ = true;
  } else if (c->busy_ && c->route_ == Route::kSlow) {
    c->writeSimple(200, "hello from " + c->server_.name() + "\n");
    c->responseQueued();
    if (c->mode_ == Mode::kHttp) c->parseInput();
  }
  c->finishCallback();
}

void Connection::finishCallback() {
  if (dead_) server_.destroy(this);  // deletes this; nothing may follow
}

// ---- http_parser callbacks ----

int Connection::onMessageBegin(http_parser* p) {
  Connection* c = self(p);
  c->url_.clear();
  c->headers_.clear();
  c->last_was_value_ = false;
  c->body_bytes_ = 0;
  c->request_complete_ = false;
  c->echo_framing_ = Framing::kNone;
  return 0;
}

int Connection::onUrl(http_parser* p, const char* at, size_t len) {
  self(p)->url_.append(at, len);
  return 0;
}

int Connection::onHeaderField(http_parser* p, const char* at, size_t len) {
  Connection* c = self(p);
  if (c->headers_.empty() || c->last_was_value_) c->headers_.emplace_back();
  c->headers_.back().first.append(at, len);
  c->last_was_value_ = false;
  return 0;
}

int Connection::onHeaderValue(http_parser* p, const char* at, size_t len) {
  Connection* c = self(p);
  c->headers_.back().second.append(at, len);
  c->last_was_value_ = true;
  return 0;
}

int Connection::onHeadersComplete(http_parser* p) {
  self(p)->routeRequest();
  return 0;
}

int Connection::onBody(http_parser* p, const char* at, size_t len) {
  Connection* c = self(p);
  c->body_bytes_ += len;
  if (c->route_ == Route::kEcho) c->writeBodyChunk(at, len);
  return 0;
}

int Connection::onMessageComplete(http_parser* p) {
  // Stop here so the response goes out before the next pipelined request is even parsed.
  self(p)->request_complete_ = true;
  http_parser_pause(p, 1);
  return 0;
}

// ---- request handling ----

void Connection::parseInput() {
  evbuffer* in = bufferevent_get_input(bev_);
  while (mode_ == Mode::kHttp && !busy_ && !dead_) {
    evbuffer_iovec v;
    if (evbuffer_peek(in, -1, nullptr, &v, 1) < 1 || v.iov_len == 0) break;
    size_t n =
        http_parser_execute(&parser_, &kSettings, static_cast<const char*>(v.iov_base), v.iov_len);
    evbuffer_drain(in, n);
    if (reset_requested_) {
      resetNow();
      return;
    }
    http_errno err = HTTP_PARSER_ERRNO(&parser_);
    if (err == HPE_PAUSED) {
      http_parser_pause(&parser_, 0);
      if (request_complete_) {
        request_complete_ = false;
        respond();
      }
    } else if (err != HPE_OK) {
      failRequest();
      return;
    }
  }
  if (mode_ == Mode::kHttp && !busy_ && !dead_ && peer_eof_) {
    closeAfterFlush();
  } else {
    applyOutputBackpressure();
  }
}

// Runs at the end of the request headers: picks the behaviour and starts what must start
// before the body is read (100 Continue, the streamed /echo response, /reset).
void Connection::routeRequest() {
  server_.countRequest();
  close_after_ = !http_should_keep_alive(&parser_);
  std::string_view target = url_;
  size_t q = target.find('?');
  std::string_view path = target.substr(0, q);
  std::string_view query = q == std::string_view::npos ? "" : target.substr(q + 1);
  auto numberAfter = [&](std::string_view prefix) -> std::optional<uint64_t> {
    if (path.substr(0, prefix.size()) != prefix) return std::nullopt;
    return parseNumber(path.substr(prefix.size()));
  };
  auto numbered = [&](std::string_view prefix, Route r) {
    if (path.substr(0, prefix.size()) != prefix) return false;
    auto n = numberAfter(prefix);
    route_ = n ? r : Route::kBadRequest;
    route_arg_ = n.value_or(0);
    return true;
  };
  want_chunked_ = hasQueryParam(query, "chunked=1");
  route_ = Route::kHello;
  if (path == "/echo")
    route_ = Route::kEcho;
  else if (path == "/count")
    route_ = Route::kCount;
  else if (path == "/reset")
    route_ = Route::kReset;
  else if (path == "/close")
    route_ = Route::kClose;
  else if (path == "/headers")
    route_ = Route::kHeaders;
  else if (path == "/stats")
    route_ = Route::kStats;
  else if (path == "/ws")
    route_ = Route::kWebSocket;
  else if (numbered("/bytes/", Route::kBytes)) {
  } else if (numbered("/slow/", Route::kSlow)) {
  } else if (numbered("/status/", Route::kStatus)) {
    if (route_arg_ < 100 || route_arg_ > 599) route_ = Route::kBadRequest;
  }

  if (route_ == Route::kReset) {
    reset_requested_ = true;
    http_parser_pause(&parser_, 1);
    return;
  }
  bool chunked_body = parser_.flags & F_CHUNKED;
  bool has_length = (parser_.flags & F_CONTENTLENGTH) && !chunked_body;
  bool has_body = chunked_body || (has_length && parser_.content_length > 0);
  if (has_body && strcasecmp(header("expect").c_str(), "100-continue") == 0) {
    evbuffer_add_printf(bufferevent_get_output(bev_), "HTTP/1.1 100 Continue\r\n\r\n");
  }
  if (route_ == Route::kEcho) {
    bool http11 = parser_.http_major == 1 && parser_.http_minor >= 1;
    Framing f = !chunked_body ? Framing::kLength
                : http11      ? Framing::kChunked
                              : Framing::kUntilClose;
    writeHead(200, f, has_length ? parser_.content_length : 0);
    echo_framing_ = isHead() ? Framing::kNone : f;
  }
}

// Runs once the whole request has been read.
void Connection::respond() {
  const std::string hello = "hello from " + server_.name() + "\n";
  switch (route_) {
    case Route::kHello:
    case Route::kReset:
      writeSimple(200, hello);
      break;
    case Route::kEcho:
      if (echo_framing_ == Framing::kChunked) {
        evbuffer_add(bufferevent_get_output(bev_), "0\r\n\r\n", 5);
      }
      break;
    case Route::kCount:
      writeSimple(200, std::to_string(body_bytes_) + "\n");
      break;
    case Route::kBytes:
      respondBytes();
      return;
    case Route::kStatus:
      writeSimple(static_cast<int>(route_arg_), "status " + std::to_string(route_arg_) + "\n");
      break;
    case Route::kSlow: {
      busy_ = true;
      timeval tv{static_cast<time_t>(route_arg_ / 1000),
                 static_cast<suseconds_t>(route_arg_ % 1000 * 1000)};
      evtimer_add(timer_, &tv);
      return;
    }
    case Route::kClose:
      close_after_ = true;
      writeSimple(200, hello);
      break;
    case Route::kHeaders: {
      std::string text = std::string(http_method_str(static_cast<http_method>(parser_.method))) +
                         " " + url_ + " HTTP/" + std::to_string(parser_.http_major) + "." +
                         std::to_string(parser_.http_minor) + "\n";
      for (const auto& [name, value] : headers_) text += name + ": " + value + "\n";
      writeSimple(200, text);
      break;
    }
    case Route::kStats:
      writeSimple(200, "connections=" + std::to_string(server_.connectionsAccepted()) +
                           " requests=" + std::to_string(server_.requestsServed()) + "\n");
      break;
    case Route::kWebSocket:
      upgradeToRaw();
      return;
    case Route::kBadRequest:
      writeSimple(400, "bad request\n");
      break;
  }
  responseQueued();
}

void Connection::respondBytes() {
  bool chunked = want_chunked_ && parser_.http_major == 1 && parser_.http_minor >= 1;
  writeHead(200, chunked ? Framing::kChunked : Framing::kLength, route_arg_);
  if (isHead()) {
    responseQueued();
    return;
  }
  gen_remaining_ = route_arg_;
  gen_chunked_ = chunked;
  busy_ = true;
  pumpBody();
}

// Tops the output up to kFill; the write callback calls again as the socket drains.
void Connection::pumpBody() {
  evbuffer* out = bufferevent_get_output(bev_);
  while (gen_remaining_ > 0 && evbuffer_get_length(out) < kFill) {
    size_t n = static_cast<size_t>(std::min<uint64_t>(gen_remaining_, kPiece));
    if (gen_chunked_) evbuffer_add_printf(out, "%zx\r\n", n);
    evbuffer_add_reference(out, xBlock().data(), n, nullptr, nullptr);
    if (gen_chunked_) evbuffer_add(out, "\r\n", 2);
    gen_remaining_ -= n;
  }
  if (gen_remaining_ == 0) {
    if (gen_chunked_) evbuffer_add(out, "0\r\n\r\n", 5);
    responseQueued();
  }
}

// The current response is entirely in the output buffer.
void Connection::responseQueued() {
  busy_ = false;
  response_started_ = false;
  if (close_after_) closeAfterFlush();
}

void Connection::upgradeToRaw() {
  if (strcasecmp(header("upgrade").c_str(), "websocket") != 0) {
    writeSimple(426, "websocket upgrade required\n");
    responseQueued();
    return;
  }
  evbuffer_add_printf(bufferevent_get_output(bev_),
                      "HTTP/1.1 101 Switching Protocols\r\nx-upstream: %s\r\n"
                      "connection: Upgrade\r\nupgrade: websocket\r\n\r\n",
                      server_.name().c_str());
  mode_ = Mode::kRaw;
  rawEcho();
}

void Connection::rawEcho() {
  evbuffer_add_buffer(bufferevent_get_output(bev_), bufferevent_get_input(bev_));
  if (peer_eof_) {
    closeAfterFlush();
  } else {
    applyOutputBackpressure();
  }
}

void Connection::failRequest() {
  if (response_started_) {
    dead_ = true;  // half a response is on the wire; nothing coherent can follow it
    return;
  }
  close_after_ = true;
  writeSimple(400, "bad request\n");
  closeAfterFlush();
}

// ---- writing ----

void Connection::writeHead(int status, Framing framing, uint64_t length, std::string_view extra) {
  evbuffer* out = bufferevent_get_output(bev_);
  response_started_ = true;
  if (framing == Framing::kUntilClose) close_after_ = true;
  evbuffer_add_printf(out, "HTTP/1.1 %d %s\r\nx-upstream: %s\r\n", status, reasonPhrase(status),
                      server_.name().c_str());
  if (framing == Framing::kLength) {
    evbuffer_add_printf(out, "content-length: %llu\r\n", static_cast<unsigned long long>(length));
  } else if (framing == Framing::kChunked) {
    evbuffer_add_printf(out, "transfer-encoding: chunked\r\n");
  }
  if (close_after_) {
    evbuffer_add_printf(out, "connection: close\r\n");
  } else if (parser_.http_major == 1 && parser_.http_minor == 0) {
    evbuffer_add_printf(out, "connection: keep-alive\r\n");
  }
  evbuffer_add(out, extra.data(), extra.size());
  evbuffer_add(out, "\r\n", 2);
}

void Connection::writeSimple(int status, std::string_view body) {
  bool bodyless = status < 200 || status == 204 || status == 304;
  if (bodyless) {
    writeHead(status, Framing::kNone);
    return;
  }
  writeHead(status, Framing::kLength, body.size(), "content-type: text/plain\r\n");
  if (!isHead()) evbuffer_add(bufferevent_get_output(bev_), body.data(), body.size());
}

void Connection::writeBodyChunk(const char* data, size_t len) {
  evbuffer* out = bufferevent_get_output(bev_);
  if (echo_framing_ == Framing::kNone || len == 0) return;
  if (echo_framing_ == Framing::kChunked) evbuffer_add_printf(out, "%zx\r\n", len);
  evbuffer_add(out, data, len);
  if (echo_framing_ == Framing::kChunked) evbuffer_add(out, "\r\n", 2);
}

void Connection::applyOutputBackpressure() {
  if (!read_paused_ && evbuffer_get_length(bufferevent_get_output(bev_)) > kOutHigh) {
    read_paused_ = true;
    bufferevent_disable(bev_, EV_READ);
  }
}

// ---- closing ----

void Connection::resetNow() {
  linger lg{1, 0};
  setsockopt(bufferevent_getfd(bev_), SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
  dead_ = true;  // the close in bufferevent_free now sends RST
}

void Connection::closeAfterFlush() {
  mode_ = Mode::kClosing;
  busy_ = false;
  evtimer_del(timer_);
  evbuffer* in = bufferevent_get_input(bev_);
  evbuffer_drain(in, evbuffer_get_length(in));
  bufferevent_setwatermark(bev_, EV_WRITE, 0, 0);
  if (evbuffer_get_length(bufferevent_get_output(bev_)) == 0) flushedForClose();
}

void Connection::flushedForClose() {
  if (peer_eof_) {
    dead_ = true;
    return;
  }
  shutdown(bufferevent_getfd(bev_), SHUT_WR);
  read_paused_ = false;
  bufferevent_enable(bev_, EV_READ);
  evtimer_add(timer_, &kLinger);
}

std::string Connection::header(std::string_view name) const {
  for (const auto& [n, v] : headers_) {
    if (n.size() == name.size() && strncasecmp(n.data(), name.data(), n.size()) == 0) return v;
  }
  return {};
}

}  // namespace remora::demo
