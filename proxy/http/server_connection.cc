#include "http/server_connection.h"

#include <arpa/inet.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <time.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>

#include "codec/http1_format.h"
#include "codec/request_head.h"
#include "codec/request_writer.h"
#include "common/monotonic.h"

namespace remora::http {
namespace {

// A 101 answer keeps its Upgrade header; otherwise the request's hop-by-hop set.
bool responseHopByHop(HeaderToken t, bool upgrade) {
  return t == HeaderToken::kUpgrade ? !upgrade : isHopByHop(t);
}

constexpr uint64_t kLingerMs = 2000;

}  // namespace

ServerConnection::ServerConnection(Dispatcher& dispatcher, ConnectionOwner& owner,
                                   std::shared_ptr<ListenerSlot> slot,
                                   std::unique_ptr<network::Transport> transport, std::string peer)
    : dispatcher_(dispatcher),
      owner_(owner),
      slot_(std::move(slot)),
      runtime_(slot_->current),
      transport_(std::move(transport)),
      peer_(std::move(peer)),
      timer_(dispatcher.base(), onTimer, this),
      out_(evbuffer_new()),
      parser_(Http1Parser::Kind::kRequest, *this),
      stream_(*this) {
  const int fd = transport_->fd();
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  event_base* base = dispatcher.base();
  read_ev_.reset(event_new(base, fd, EV_READ | EV_PERSIST, onEvent, this));
  write_ev_.reset(event_new(base, fd, EV_WRITE | EV_PERSIST, onEvent, this));
  const config::ListenerLimits& limits = runtime_->config.limits;
  parser_.setLimits({limits.max_request_headers_bytes, limits.max_request_headers});
  if (runtime_->config.original_dst) {
    if (auto dst = recoverOriginalDst(fd, runtime_->own_addresses))
      original_dst_ = std::make_unique<OriginalDst>(std::move(*dst));
  }
  stats_ = runtime_->stats;
  sniffing_ = runtime_->config.http2.enabled;
  stats_->downstream_cx_active.add();
  stats_->downstream_cx_total.inc();
  event_add(read_ev_.get(), nullptr);
  // After a TLS handshake the first request may already wait inside the transport.
  if (transport_->readPending()) event_active(read_ev_.get(), EV_READ, 0);
  arm(TimerMode::kIdle);
  runtime_.reset();
}

ServerConnection::~ServerConnection() {
  close();
}

void ServerConnection::arm(TimerMode mode) {
  timer_mode_ = mode;
  const config::ListenerTimeouts& t = (runtime_ ? *runtime_ : *slot_->current).config.timeouts;
  switch (mode) {
    case TimerMode::kIdle:
      return timer_.set(uint64_t(t.idle.count()));
    case TimerMode::kHeaders:
      return timer_.set(uint64_t(t.request_headers.count()));
    case TimerMode::kRequest:
      return timer_.set(uint64_t(t.request.count()));
    case TimerMode::kLinger:
      return timer_.set(kLingerMs);
    case TimerMode::kNone:
      return timer_.cancel();
  }
}

void ServerConnection::onEvent(evutil_socket_t, short what, void* arg) {
  auto* self = static_cast<ServerConnection*>(arg);
  if (what & EV_READ) {
    self->onReadable();
    // TLS: records read ahead wait inside the transport, unannounced by the socket.
    while (!self->closed_ && !self->read_disabled_ && self->transport_ &&
           self->transport_->readPending())
      self->onReadable();
  }
  if ((what & EV_WRITE) && !self->closed_) self->flush();
}

void ServerConnection::onReadable() {
  char* buf = dispatcher_.scratch();
  ssize_t n = transport_->read(buf, Dispatcher::kScratchSize);
  if (n < 0) {
    if (errno == EAGAIN || errno == EINTR) return;
    return close();
  }
  if (n == 0) return close();  // EOF: a half-closed client is treated as gone, as Envoy does
  if (lingering_ || closing_) return;  // discarding what a closing client still sends
  stats_->bytes_received.inc(uint64_t(n));
  if (sniffing_ && sniffHttp2(buf, size_t(n))) return;
  if (tunnel_) {
    stream_.onDownstreamTunnelData(buf, size_t(n));
    stream_.onDownstreamReadComplete();
    return;
  }
  if (parser_.paused() || !pending_in_.empty()) {
    // A response is still in flight: hold pipelined bytes, bounded by the head limit.
    pending_in_.append(buf, size_t(n));
    if (pending_in_.size() > slot_->current->config.limits.max_request_headers_bytes)
      readDisable(true);
    return;
  }
  parse(buf, size_t(n));
}

bool ServerConnection::sniffHttp2(const char* data, size_t len) {
  static constexpr std::string_view kPreface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
  size_t have = pending_in_.size();  // a prefix of the preface from earlier reads
  size_t cmp = std::min(kPreface.size() - have, len);
  if (std::string_view(data, cmp) != kPreface.substr(have, cmp)) {
    sniffing_ = false;
    if (have == 0) return false;
    std::string all;
    all.swap(pending_in_);
    all.append(data, len);
    parse(all.data(), all.size());
    return true;
  }
  if (have + len < kPreface.size()) {
    pending_in_.append(data, len);
    return true;
  }
  // Prior-knowledge HTTP/2: the socket moves to an HTTP/2 connection; this one goes away
  // without closing it. The connection stays counted once (the HTTP/2 side adds itself to the
  // active gauge only).
  sniffing_ = false;
  std::string initial;
  initial.swap(pending_in_);
  initial.append(data, len);
  closed_ = true;
  event_del(read_ev_.get());
  event_del(write_ev_.get());
  timer_.cancel();
  stats_->downstream_cx_active.sub();
  owner_.startHttp2(slot_, std::move(transport_), std::move(peer_), initial);
  owner_.onConnectionClosed(*this);
  return true;
}

void ServerConnection::parse(const char* data, size_t len) {
  std::string carry;
  for (;;) {
    in_parse_ = true;
    size_t used = parser_.execute(data, len);
    in_parse_ = false;
    if (closed_ || closing_) return;
    if (parser_.failed()) return onParseError();
    if (parser_.stopped()) return;
    bool again = resume_pending_;
    resume_pending_ = false;
    if (used < len) {
      if (tunnel_) {
        stream_.onDownstreamTunnelData(data + used, len - used);
        break;
      }
      if (again) {
        // The stream finished inside execute(): parse the next pipelined request now.
        if (data == carry.data()) {
          carry.erase(0, used);
        } else {
          carry.assign(data + used, len - used);
        }
        data = carry.data();
        len = carry.size();
        continue;
      }
      pending_in_.insert(0, data + used, len - used);
    }
    break;
  }
  if (parser_.inHead() && timer_mode_ != TimerMode::kHeaders) arm(TimerMode::kHeaders);
  if (stream_active_) stream_.onDownstreamReadComplete();
}

int ServerConnection::onHeaders(MessageHead& head) {
  runtime_ = slot_->current;
  if (HeadRefusal r = checkRequestHead(head, runtime_->config, {}, &valid_host_)) {
    // Refused before any filter: the connection closes, as after a parse error, since what
    // follows (a body, CONNECT's tunnel bytes) cannot be told from the next request.
    stats_->protocol_errors[size_t(r.kind)].inc();
    runtime_.reset();
    std::string body(r.detail);
    body.push_back('\n');
    localErrorAndClose(r.status, body);
    return -1;
  }
  stream_active_ = true;
  request_done_ = false;
  request_bodyless_ = !head.hasBody() && !head.upgrade;
  response_chunked_ = response_close_delimited_ = false;
  response_status_ = 0;
  request_is_head_ = head.method == HTTP_HEAD;
  request_http10_ = head.http_minor == 0;
  request_te_trailers_ = false;
  if (head.headers.count(HeaderToken::kTe) > 0) {  // O(1): most requests have none
    auto te = head.headers.get(HeaderToken::kTe);
    request_te_trailers_ = te && headerListContains(*te, "trailers");
  }
  stream_start_us_ = monotonicMicros();
  if (!head.keep_alive || owner_.draining()) close_after_ = true;
  arm(TimerMode::kRequest);
  stream_.begin(runtime_, head);
  return closed_ || closing_ ? -1 : 0;
}

int ServerConnection::onBody(const char* data, size_t len) {
  stream_.onRequestBody(data, len);
  return closed_ || closing_ ? -1 : 0;
}

int ServerConnection::onMessageComplete(HeaderMap& trailers) {
  request_done_ = true;
  // Already answered (a local reply made at request headers, see onStreamComplete): nothing to
  // wait for, so the parser goes straight on to the next request.
  if (!stream_active_) return closed_ || closing_ ? -1 : 0;
  parser_.pause();  // answer in order: the next pipelined request waits for this response
  if (stream_.active()) stream_.onRequestComplete(trailers);
  return closed_ || closing_ ? -1 : 0;
}

void ServerConnection::onParseError() {
  stats_->protocol_errors[size_t(parser_.error())].inc();
  std::string body = parser_.errorDetail();
  body.push_back('\n');
  if (stream_active_ && stream_.active()) {
    // The body's framing broke mid-request: nothing more can be trusted on this connection.
    close_after_ = true;
    stream_.sendLocalReply(400, body, true);
    if (!closed_ && !closing_) closeAfterFlush();
    return;
  }
  localErrorAndClose(parser_.errorStatus(), body);
}

void ServerConnection::localErrorAndClose(int status, std::string_view body) {
  char head[256];
  int n = std::snprintf(head, sizeof(head),
                        "HTTP/1.1 %d %s\r\ncontent-type: text/plain\r\ncontent-length: %zu\r\n"
                        "connection: close\r\n\r\n",
                        status, http_status_str(static_cast<http_status>(status)), body.size());
  evbuffer_add(out_.get(), head, size_t(n));
  evbuffer_add(out_.get(), body.data(), body.size());
  stats_->requests[stats::codeClassIndex(status)].inc();
  closeAfterFlush();
}

void ServerConnection::encodeHeaders(const MessageHead& resp, bool) {
  response_status_ = resp.status;
  bool upgrade = resp.status == 101;
  bool no_body = request_is_head_ || (resp.status >= 100 && resp.status < 200) ||
                 resp.status == 204 || resp.status == 304;
  if (!resp.keep_alive && !upgrade) close_after_ = true;
  if (owner_.draining()) close_after_ = true;
  std::string& s = dispatcher_.headerScratch();
  s.clear();
  s.append("HTTP/1.1 ", 9);
  appendDecimal(s, uint64_t(resp.status));
  s.push_back(' ');
  if (resp.reason.empty()) {
    s.append(http_status_str(static_cast<http_status>(resp.status)));
  } else {
    s.append(resp.reason);
  }
  s.append("\r\n", 2);
  const HeaderMap& h = resp.headers;
  for (const HeaderMap::Entry& e : h.entries()) {
    if (e.removed || responseHopByHop(e.token, upgrade)) continue;
    s.append(h.name(e)).append(": ").append(h.value(e)).append("\r\n");
  }
  if (upgrade) {
    s.append("connection: upgrade\r\n");
  } else {
    if (!no_body && !resp.has_content_length) {
      // Chunked or close-delimited upstream body: re-chunk for HTTP/1.1 clients; an HTTP/1.0
      // client can only learn the end from the close.
      if (request_http10_) {
        response_close_delimited_ = true;
        close_after_ = true;
      } else {
        response_chunked_ = true;
        s.append("transfer-encoding: chunked\r\n");
      }
    }
    if (close_after_) {
      s.append("connection: close\r\n");
    } else if (request_http10_) {
      s.append("connection: keep-alive\r\n");
    }
  }
  s.append("\r\n");
  response_no_body_ = no_body;
  evbuffer_add(out_.get(), s.data(), s.size());
}

void ServerConnection::encodeBody(const char* data, size_t len) {
  if (response_no_body_ || len == 0) return;
  if (response_chunked_) {
    char size[24];
    evbuffer_add(out_.get(), size, formatChunkSize(size, len));
    evbuffer_add(out_.get(), data, len);
    evbuffer_add(out_.get(), "\r\n", 2);
  } else {
    evbuffer_add(out_.get(), data, len);
  }
}

void ServerConnection::encodeEnd(const HeaderMap* trailers) {
  if (response_status_ == 101) {
    // The upstream switched protocols: from now on both sides are raw bytes.
    tunnel_ = true;
    disarm();
    if (!pending_in_.empty()) {
      std::string early;
      early.swap(pending_in_);
      stream_.onDownstreamTunnelData(early.data(), early.size());
      stream_.onDownstreamReadComplete();
    }
    readDisable(false);
    flush();
    return;
  }
  if (response_chunked_) {
    std::string& s = dispatcher_.headerScratch();
    s.assign("0\r\n");
    // RFC 9110 §6.5.1: trailers only to a client that said it accepts them; the others may
    // not expect fields after the body at all.
    if (trailers && request_te_trailers_) trailers->serialize(s);
    s.append("\r\n");
    evbuffer_add(out_.get(), s.data(), s.size());
  }
}

void ServerConnection::encodeRaw(const char* data, size_t len) {
  evbuffer_add(out_.get(), data, len);
  flush();
}

void ServerConnection::encode100Continue() {
  static constexpr char k100[] = "HTTP/1.1 100 Continue\r\n\r\n";
  evbuffer_add(out_.get(), k100, sizeof(k100) - 1);
  flush();
}

bool ServerConnection::aboveWriteWatermark() const {
  return evbuffer_get_length(out_.get()) > slot_->current->config.limits.buffer_high_watermark;
}

void ServerConnection::flush() {
  if (closed_) return;
  const size_t high = slot_->current->config.limits.buffer_high_watermark;
  bool was_high = evbuffer_get_length(out_.get()) > high;
  if (!writeOut(out_.get(), *transport_, write_ev_.get(), write_pending_, *stats_)) return close();
  if (!write_pending_ && closing_ && !lingering_) return startLinger();
  if (was_high && evbuffer_get_length(out_.get()) <= high && stream_.active())
    stream_.onDownstreamWritable();
}

void ServerConnection::readDisable(bool disable) {
  if (closed_ || disable == read_disabled_) return;
  read_disabled_ = disable;
  disable ? event_del(read_ev_.get()) : event_add(read_ev_.get(), nullptr);
  if (!disable && transport_->readPending()) event_active(read_ev_.get(), EV_READ, 0);
}

void ServerConnection::onStreamComplete() {
  stats::ListenerStats& st = *stats_;
  st.requests[stats::codeClassIndex(response_status_)].inc();
  st.request_duration.observe(double(monotonicMicros() - stream_start_us_) / 1e6);
  stream_active_ = false;
  runtime_.reset();
  // A reply made while the request head is handled (a filter's 401/429, the router's 404)
  // completes before the parser reports the end of the message. For a request without a body
  // that end is only a formality, so the connection stays open; with a body still unread it must
  // close, since those bytes cannot be told from the next request.
  bool request_over = request_done_ || request_bodyless_;
  if (tunnel_ || !request_over || close_after_ || owner_.draining()) return closeAfterFlush();
  flush();
  if (closed_) return;
  // Ready for the next request on this keep-alive connection.
  parser_.setLimits({slot_->current->config.limits.max_request_headers_bytes,
                     slot_->current->config.limits.max_request_headers});
  parser_.resume();
  readDisable(false);
  arm(TimerMode::kIdle);
  if (in_parse_) {
    resume_pending_ = true;  // parse() continues with the bytes after this request
    return;
  }
  if (!pending_in_.empty()) {
    std::string next;
    next.swap(pending_in_);
    parse(next.data(), next.size());
  }
}

void ServerConnection::abort() {
  stats_->requests[stats::codeClassIndex(response_status_)].inc();
  stream_active_ = false;
  runtime_.reset();
  closeAfterFlush();
}

void ServerConnection::closeWhenIdle() {
  if (closed_ || closing_) return;
  if (!stream_active_ && pending_in_.empty() && !parser_.inMessage()) return close();
  close_after_ = true;
}

void ServerConnection::closeAfterFlush() {
  if (closed_ || closing_) return;
  closing_ = true;
  if (stream_.active()) stream_.reset();
  stream_active_ = false;
  flush();
}

// Half-closes and reads until the client's EOF (or 2 s), so unread client bytes cannot turn our
// close into a reset that destroys the response in flight (nginx's lingering close).
void ServerConnection::startLinger() {
  lingering_ = true;
  transport_->shutdownWrite();
  readDisable(false);
  arm(TimerMode::kLinger);
}

void ServerConnection::disarm() {
  timer_mode_ = TimerMode::kNone;
  timer_.cancel();
}

void ServerConnection::onTimer(void* arg) {
  auto* self = static_cast<ServerConnection*>(arg);
  switch (self->timer_mode_) {
    case TimerMode::kIdle:
    case TimerMode::kLinger:
    case TimerMode::kNone:
      return self->close();
    case TimerMode::kHeaders:
      self->stats_->protocol_errors[size_t(stats::ProtocolError::kHeadersTimeout)].inc();
      return self->localErrorAndClose(408, "request headers timeout\n");
    case TimerMode::kRequest:
      self->timer_mode_ = TimerMode::kNone;
      if (self->stream_.active() && !self->stream_.responseStarted()) {
        self->close_after_ = true;
        self->stream_.sendLocalReply(self->request_done_ ? 504 : 408, "request timeout\n", true);
        return;
      }
      return self->close();
  }
}

void ServerConnection::close() {
  if (closed_) return;
  closed_ = true;
  if (stream_.active()) stream_.reset();
  stream_active_ = false;
  event_del(read_ev_.get());
  event_del(write_ev_.get());
  timer_.cancel();
  if (transport_) transport_->close();
  stats_->downstream_cx_active.sub();
  owner_.onConnectionClosed(*this);
}

}  // namespace remora::http
