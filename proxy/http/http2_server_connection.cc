#include "http/http2_server_connection.h"

#include <netinet/tcp.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include "http/http2_stream.h"

namespace remora::http {
namespace {

using stats::ProtocolError;

// nghttp2's callbacks are the same for every connection: built once per process.
struct Callbacks {
  nghttp2_session_callbacks* cbs = nullptr;
  nghttp2_option* opts = nullptr;
};

}  // namespace

Http2ServerConnection::Http2ServerConnection(Dispatcher& dispatcher, ConnectionOwner& owner,
                                             std::shared_ptr<ListenerSlot> slot,
                                             std::unique_ptr<network::Transport> transport,
                                             std::string peer)
    : dispatcher_(dispatcher),
      owner_(owner),
      slot_(std::move(slot)),
      transport_(std::move(transport)),
      peer_(std::move(peer)),
      stats_(slot_->current->stats),
      idle_timer_(dispatcher.base(), onIdle, this),
      out_(evbuffer_new()),
      high_watermark_(slot_->current->config.limits.buffer_high_watermark) {
  static const Callbacks kCallbacks = [] {
    Callbacks c;
    nghttp2_session_callbacks_new(&c.cbs);
    nghttp2_session_callbacks_set_send_callback(c.cbs, onSend);
    nghttp2_session_callbacks_set_send_data_callback(c.cbs, onSendData);
    nghttp2_session_callbacks_set_on_begin_frame_callback(c.cbs, onBeginFrame);
    nghttp2_session_callbacks_set_on_begin_headers_callback(c.cbs, onBeginHeaders);
    nghttp2_session_callbacks_set_on_header_callback(c.cbs, onHeader);
    nghttp2_session_callbacks_set_on_frame_recv_callback(c.cbs, onFrameRecv);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(c.cbs, onDataChunk);
    nghttp2_session_callbacks_set_on_frame_send_callback(c.cbs, onFrameSend);
    nghttp2_session_callbacks_set_on_stream_close_callback(c.cbs, onStreamClose);
    nghttp2_option_new(&c.opts);
    // Request body windows open only as the upstream accepts the bytes (Http2Stream).
    nghttp2_option_set_no_auto_window_update(c.opts, 1);
    nghttp2_option_set_no_closed_streams(c.opts, 1);
    // Remora's own budgets (per listener, with metrics) come first; nghttp2's built-in rapid
    // reset and CONTINUATION limits stay as a backstop well above any sane configuration.
    nghttp2_option_set_stream_reset_rate_limit(c.opts, 1000000, 100000);
    nghttp2_option_set_max_continuations(c.opts, 1024);
    return c;
  }();
  nghttp2_session_server_new2(&session_, kCallbacks.cbs, this, kCallbacks.opts);
  int one = 1;
  ::setsockopt(transport_->fd(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  event_base* base = dispatcher.base();
  read_ev_.reset(event_new(base, transport_->fd(), EV_READ | EV_PERSIST, onEvent, this));
  write_ev_.reset(event_new(base, transport_->fd(), EV_WRITE | EV_PERSIST, onEvent, this));
  send_ev_.reset(event_new(base, -1, 0, onSendEvent, this));
  stats_->downstream_cx_active.add();
}

Http2ServerConnection::~Http2ServerConnection() {
  close();
  nghttp2_session_del(session_);
}

Http2Stream* Http2ServerConnection::newStream(int32_t id) {
  if (spare_.empty()) return new Http2Stream(*this, id);
  Http2Stream* s = spare_.back().release();
  spare_.pop_back();
  s->reopen(id);
  return s;
}

void Http2ServerConnection::recycleRetired() {
  for (std::unique_ptr<Http2Stream>& s : retired_)
    if (!closed_ && spare_.size() < kMaxSpareStreams) spare_.push_back(std::move(s));
  retired_.clear();
}

void Http2ServerConnection::start(std::string_view initial) {
  const config::Listener& cfg = slot_->current->config;
  nghttp2_settings_entry settings[] = {
      {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, cfg.http2.max_concurrent_streams},
      {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, cfg.http2.initial_stream_window},
      {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, cfg.limits.max_request_headers_bytes},
      {NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
  };
  nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, settings, std::size(settings));
  // The connection window is consumed as bytes arrive (only stream windows wait for the
  // upstream), so one slow stream never blocks the others; make it roomy.
  nghttp2_session_set_local_window_size(session_, NGHTTP2_FLAG_NONE, 0, 16 * 1024 * 1024);
  event_add(read_ev_.get(), nullptr);
  // After a TLS handshake the preface may already wait inside the transport.
  if (transport_->readPending()) event_active(read_ev_.get(), EV_READ, 0);
  updateIdle();
  receive(initial.data(), initial.size());
  // Handed over from HTTP/1 while the worker drains: serve what came, then go away.
  if (!closed_ && owner_.draining()) closeWhenIdle();
}

void Http2ServerConnection::onEvent(evutil_socket_t, short what, void* arg) {
  auto* self = static_cast<Http2ServerConnection*>(arg);
  if (what & EV_READ) {
    self->onReadable();
    // TLS: records read ahead wait inside the transport, unannounced by the socket.
    while (!self->closed_ && self->transport_->readPending()) self->onReadable();
  }
  if ((what & EV_WRITE) && !self->closed_) {
    self->writeSocket();
    if (!self->closed_ && self->send_blocked_) self->sendNow();
  }
  self->recycleRetired();
}

void Http2ServerConnection::onReadable() {
  char* buf = dispatcher_.scratch();
  ssize_t n = transport_->read(buf, Dispatcher::kScratchSize);
  if (n < 0) {
    if (errno == EAGAIN || errno == EINTR) return;
    return close();
  }
  if (n == 0) return close();
  if (lingering_) return;  // discarding what a terminated client still sends
  stats_->bytes_received.inc(uint64_t(n));
  receive(buf, size_t(n));
}

void Http2ServerConnection::receive(const char* data, size_t len) {
  if (closed_ || terminated_ || lingering_) return;
  in_session_ = true;
  ssize_t rv = nghttp2_session_mem_recv(session_, reinterpret_cast<const uint8_t*>(data), len);
  in_session_ = false;
  // Body bytes went into upstream buffers during the call: send them now, once per stream.
  // (Streams closed meanwhile are only deleted after this callback, and detached: a no-op.)
  for (Http2Stream* s : read_streams_) s->onReadComplete();
  read_streams_.clear();
  if (rv < 0 && !terminated_) {
    if (rv == NGHTTP2_ERR_FLOODED) {
      terminate(NGHTTP2_ENHANCE_YOUR_CALM, ProtocolError::kH2OutboundFlood);
    } else {
      terminate(NGHTTP2_PROTOCOL_ERROR, ProtocolError::kH2Protocol);
    }
  }
  sendNow();
}

void Http2ServerConnection::flush() {
  if (closed_) return;
  if (in_session_) {
    flush_pending_ = true;
    return;
  }
  // Responses of many streams often complete in one event-loop pass (one upstream read each):
  // sending once after all of them makes one write instead of one per response.
  if (!send_scheduled_) {
    send_scheduled_ = true;
    event_active(send_ev_.get(), 0, 0);
  }
}

void Http2ServerConnection::onSendEvent(evutil_socket_t, short, void* arg) {
  auto* self = static_cast<Http2ServerConnection*>(arg);
  self->send_scheduled_ = false;
  self->sendNow();
  self->recycleRetired();
}

void Http2ServerConnection::sendNow() {
  if (closed_) return;
  // Bounded: each round either writes the whole buffer or stops on a full socket.
  for (int round = 0; round < 64; ++round) {
    send_blocked_ = false;
    flush_pending_ = false;
    in_session_ = true;
    int rv = nghttp2_session_send(session_);
    in_session_ = false;
    if (rv != 0) {
      spdlog::debug("http2 connection from {}: send failed: {}", peer_, nghttp2_strerror(rv));
      return close();
    }
    writeSocket();
    if (closed_) return;
    bool drained = evbuffer_get_length(out_.get()) == 0;
    if (!(send_blocked_ && drained) && !flush_pending_) break;
  }
  if (evbuffer_get_length(out_.get()) > 0) return;
  if (terminated_ && goaway_sent_) return startLinger();
  if (!nghttp2_session_want_read(session_) && !nghttp2_session_want_write(session_)) close();
}

// After a GOAWAY with an error the client is likely still sending: half-close and discard its
// bytes until EOF (or 2 s), so our close does not become a reset that destroys the GOAWAY
// before the client has read it.
void Http2ServerConnection::startLinger() {
  if (lingering_) return;
  lingering_ = true;
  transport_->shutdownWrite();
  event_add(read_ev_.get(), nullptr);
  idle_timer_.set(2000);
}

void Http2ServerConnection::writeSocket() {
  if (!writeOut(out_.get(), *transport_, write_ev_.get(), write_pending_, *stats_)) close();
}

void Http2ServerConnection::onStreamStarted() {
  ++started_count_;
  updateIdle();
}

void Http2ServerConnection::releaseStream(Http2Stream& stream) {
  if (stream.prev) stream.prev->next = stream.next;
  if (stream.next) stream.next->prev = stream.prev;
  if (streams_ == &stream) streams_ = stream.next;
  stream.prev = stream.next = nullptr;
  --stream_count_;
  if (stream.started()) --started_count_;
  if (!closed_) nghttp2_session_set_stream_user_data(session_, stream.id(), nullptr);
  retired_.emplace_back(&stream);
  updateIdle();
}

void Http2ServerConnection::updateIdle() {
  if (closed_ || lingering_) return;
  if (started_count_ > 0) return idle_timer_.cancel();
  idle_timer_.set(uint64_t(slot_->current->config.timeouts.idle.count()));
}

void Http2ServerConnection::onIdle(void* arg) {
  auto* self = static_cast<Http2ServerConnection*>(arg);
  if (self->lingering_) return self->close();
  if (self->started_count_ > 0) return;
  self->closeWhenIdle();
  // Header blocks never finished do not hold the connection open past its idle time.
  if (!self->closed_) self->close();
}

void Http2ServerConnection::closeWhenIdle() {
  if (closed_ || goaway_sent_ || terminated_) return;
  // Streams the client opened up to now are served; later ones are refused by the GOAWAY's
  // last-stream-id, which tells the client it may retry them elsewhere.
  nghttp2_submit_goaway(session_, NGHTTP2_FLAG_NONE,
                        nghttp2_session_get_last_proc_stream_id(session_), NGHTTP2_NO_ERROR,
                        nullptr, 0);
  goaway_sent_ = true;
  sendNow();  // only ever called from the top of an event callback
  if (!closed_ && stream_count_ == 0 && evbuffer_get_length(out_.get()) == 0) close();
}

void Http2ServerConnection::close() {
  if (closed_) return;
  closed_ = true;
  while (streams_) {
    Http2Stream* s = streams_;
    s->detach();
    releaseStream(*s);
  }
  event_del(read_ev_.get());
  event_del(write_ev_.get());
  event_del(send_ev_.get());
  idle_timer_.cancel();
  transport_->close();
  stats_->downstream_cx_active.sub();
  owner_.onConnectionClosed(*this);
}

}  // namespace remora::http
