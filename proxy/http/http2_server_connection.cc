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

uint64_t nowMs(event_base* base) {
  timeval tv;
  event_base_gettimeofday_cached(base, &tv);
  return uint64_t(tv.tv_sec) * 1000 + uint64_t(tv.tv_usec) / 1000;
}

}  // namespace

Http2ServerConnection::Http2ServerConnection(Dispatcher& dispatcher, ConnectionOwner& owner,
                                             std::shared_ptr<ListenerSlot> slot, Fd fd,
                                             std::string peer)
    : dispatcher_(dispatcher),
      owner_(owner),
      slot_(std::move(slot)),
      fd_(std::move(fd)),
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
  ::setsockopt(fd_.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  event_base* base = dispatcher.base();
  read_ev_.reset(event_new(base, fd_.get(), EV_READ | EV_PERSIST, onEvent, this));
  write_ev_.reset(event_new(base, fd_.get(), EV_WRITE | EV_PERSIST, onEvent, this));
  stats_->downstream_cx_active.add();
}

Http2ServerConnection::~Http2ServerConnection() {
  close();
  nghttp2_session_del(session_);
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
  updateIdle();
  receive(initial.data(), initial.size());
  // Handed over from HTTP/1 while the worker drains: serve what came, then go away.
  if (!closed_ && owner_.draining()) closeWhenIdle();
}

void Http2ServerConnection::onEvent(evutil_socket_t, short what, void* arg) {
  auto* self = static_cast<Http2ServerConnection*>(arg);
  if (what & EV_READ) self->onReadable();
  if ((what & EV_WRITE) && !self->closed_) {
    self->writeSocket();
    if (!self->closed_ && self->send_blocked_) self->flush();
  }
}

void Http2ServerConnection::onReadable() {
  char* buf = dispatcher_.scratch();
  ssize_t n = ::read(fd_.get(), buf, Dispatcher::kScratchSize);
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
  flush();
}

bool Http2ServerConnection::overBudget(uint32_t& count, uint32_t limit, ProtocolError kind) {
  const config::ListenerHttp2& cfg = slot_->current->config.http2;
  uint64_t now = nowMs(dispatcher_.base());
  if (now - budget_.window_start_ms >= uint64_t(cfg.flood_window.count())) {
    budget_ = FloodBudget{};
    budget_.window_start_ms = now;
  }
  if (++count <= limit) return false;
  terminate(NGHTTP2_ENHANCE_YOUR_CALM, kind);
  return true;
}

void Http2ServerConnection::terminate(uint32_t error_code, ProtocolError kind) {
  if (terminated_) return;
  terminated_ = true;
  stats_->protocol_errors[size_t(kind)].inc();
  spdlog::debug("http2 connection from {}: GOAWAY {} ({})", peer_,
                nghttp2_http2_strerror(error_code), stats::kProtocolErrorNames[size_t(kind)]);
  nghttp2_session_terminate_session(session_, error_code);
  event_del(read_ev_.get());
}

int Http2ServerConnection::onBeginFrame(nghttp2_session*, const nghttp2_frame_hd* hd, void* arg) {
  auto* self = static_cast<Http2ServerConnection*>(arg);
  const config::ListenerHttp2& cfg = self->slot_->current->config.http2;
  FloodBudget& b = self->budget_;
  bool over = false;
  switch (hd->type) {
    case NGHTTP2_HEADERS:
      self->continuations_ = 0;
      break;
    case NGHTTP2_CONTINUATION:
      if (++self->continuations_ > cfg.max_continuation_frames) {
        self->terminate(NGHTTP2_ENHANCE_YOUR_CALM, ProtocolError::kH2ContinuationFlood);
        over = true;
      }
      break;
    case NGHTTP2_RST_STREAM:
      over = self->overBudget(b.resets, cfg.max_resets, ProtocolError::kH2RapidReset);
      break;
    case NGHTTP2_SETTINGS:
      if ((hd->flags & NGHTTP2_FLAG_ACK) == 0)
        over =
            self->overBudget(b.settings, cfg.max_settings_frames, ProtocolError::kH2SettingsFlood);
      break;
    case NGHTTP2_PING:
      if ((hd->flags & NGHTTP2_FLAG_ACK) == 0)
        over = self->overBudget(b.pings, cfg.max_ping_frames, ProtocolError::kH2PingFlood);
      break;
    case NGHTTP2_DATA:
      if (hd->length == 0 && (hd->flags & NGHTTP2_FLAG_END_STREAM) == 0)
        over = self->overBudget(b.empty_data, cfg.max_empty_data_frames,
                                ProtocolError::kH2EmptyDataFlood);
      break;
    default:
      break;
  }
  // Stops nghttp2 reading the rest of the input; the GOAWAY is already queued.
  return over ? NGHTTP2_ERR_CALLBACK_FAILURE : 0;
}

int Http2ServerConnection::onBeginHeaders(nghttp2_session* session, const nghttp2_frame* frame,
                                          void* arg) {
  auto* self = static_cast<Http2ServerConnection*>(arg);
  if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST) return 0;
  auto* stream = new Http2Stream(*self, frame->hd.stream_id);
  stream->next = self->streams_;
  if (self->streams_) self->streams_->prev = stream;
  self->streams_ = stream;
  ++self->stream_count_;
  nghttp2_session_set_stream_user_data(session, frame->hd.stream_id, stream);
  return 0;
}

int Http2ServerConnection::onHeader(nghttp2_session* session, const nghttp2_frame* frame,
                                    const uint8_t* name, size_t namelen, const uint8_t* value,
                                    size_t valuelen, uint8_t, void*) {
  if (frame->hd.type != NGHTTP2_HEADERS) return 0;
  auto* stream =
      static_cast<Http2Stream*>(nghttp2_session_get_stream_user_data(session, frame->hd.stream_id));
  if (stream == nullptr) return 0;
  std::string_view n(reinterpret_cast<const char*>(name), namelen);
  std::string_view v(reinterpret_cast<const char*>(value), valuelen);
  if (frame->headers.cat == NGHTTP2_HCAT_REQUEST) {
    stream->onHeader(n, v);
  } else if (!stream->onTrailer(n, v)) {
    return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;  // RST_STREAM for this stream only
  }
  return 0;
}

int Http2ServerConnection::onFrameRecv(nghttp2_session* session, const nghttp2_frame* frame,
                                       void*) {
  int32_t id = frame->hd.stream_id;
  if (id == 0) return 0;
  auto* stream = static_cast<Http2Stream*>(nghttp2_session_get_stream_user_data(session, id));
  if (stream == nullptr) return 0;
  bool end_stream = (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0;
  switch (frame->hd.type) {
    case NGHTTP2_HEADERS:
      if (frame->headers.cat == NGHTTP2_HCAT_REQUEST) {
        stream->onHeadersComplete(end_stream);
      } else if (end_stream) {
        stream->onTrailersComplete();
      }
      break;
    case NGHTTP2_DATA:
      if (end_stream) stream->onEndStream();
      break;
    default:
      break;
  }
  return 0;
}

int Http2ServerConnection::onDataChunk(nghttp2_session* session, uint8_t, int32_t stream_id,
                                       const uint8_t* data, size_t len, void* arg) {
  // The connection window reopens at once; the stream's waits for the upstream.
  nghttp2_session_consume_connection(session, len);
  auto* stream =
      static_cast<Http2Stream*>(nghttp2_session_get_stream_user_data(session, stream_id));
  if (stream == nullptr) {
    nghttp2_session_consume_stream(session, stream_id, len);
    return 0;
  }
  if (stream->onData(reinterpret_cast<const char*>(data), len))
    static_cast<Http2ServerConnection*>(arg)->read_streams_.push_back(stream);
  return 0;
}

int Http2ServerConnection::onFrameSend(nghttp2_session*, const nghttp2_frame* frame, void* arg) {
  auto* self = static_cast<Http2ServerConnection*>(arg);
  switch (frame->hd.type) {
    case NGHTTP2_GOAWAY:
      self->goaway_sent_ = true;
      // Errors nghttp2 detected on its own (Remora's budgets counted theirs in terminate()).
      if (frame->goaway.error_code != NGHTTP2_NO_ERROR && !self->terminated_) {
        self->terminated_ = true;
        event_del(self->read_ev_.get());
        self->stats_
            ->protocol_errors[size_t(frame->goaway.error_code == NGHTTP2_FLOW_CONTROL_ERROR
                                         ? ProtocolError::kH2FlowControl
                                         : ProtocolError::kH2Protocol)]
            .inc();
      }
      break;
    default:
      break;
  }
  return 0;
}

int Http2ServerConnection::onStreamClose(nghttp2_session* session, int32_t stream_id, uint32_t,
                                         void*) {
  auto* stream =
      static_cast<Http2Stream*>(nghttp2_session_get_stream_user_data(session, stream_id));
  if (stream) stream->onClosed();
  return 0;
}

ssize_t Http2ServerConnection::onSend(nghttp2_session*, const uint8_t* data, size_t len, int,
                                      void* arg) {
  auto* self = static_cast<Http2ServerConnection*>(arg);
  if (evbuffer_get_length(self->out_.get()) >= self->high_watermark_) {
    self->send_blocked_ = true;
    return NGHTTP2_ERR_WOULDBLOCK;
  }
  evbuffer_add(self->out_.get(), data, len);
  return ssize_t(len);
}

int Http2ServerConnection::onSendData(nghttp2_session*, nghttp2_frame* frame,
                                      const uint8_t* framehd, size_t length,
                                      nghttp2_data_source* source, void* arg) {
  auto* self = static_cast<Http2ServerConnection*>(arg);
  if (evbuffer_get_length(self->out_.get()) >= self->high_watermark_) {
    self->send_blocked_ = true;
    return NGHTTP2_ERR_WOULDBLOCK;
  }
  evbuffer_add(self->out_.get(), framehd, 9);
  static_cast<Http2Stream*>(source->ptr)->moveResponse(self->out_.get(), length);
  (void)frame;  // no padding is ever selected
  return 0;
}

void Http2ServerConnection::flush() {
  if (closed_) return;
  if (in_session_) {
    flush_pending_ = true;
    return;
  }
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
  ::shutdown(fd_.get(), SHUT_WR);
  event_add(read_ev_.get(), nullptr);
  idle_timer_.set(2000);
}

void Http2ServerConnection::writeSocket() {
  evbuffer* out = out_.get();
  size_t len = evbuffer_get_length(out);
  while (len > 0) {
    int n = evbuffer_write(out, fd_.get());
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) break;
      return close();
    }
    stats_->bytes_sent.inc(uint64_t(n));
    len -= size_t(n);
  }
  bool pending = len > 0;
  if (pending != write_pending_) {
    pending ? event_add(write_ev_.get(), nullptr) : event_del(write_ev_.get());
    write_pending_ = pending;
  }
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
  dispatcher_.deferDelete(std::unique_ptr<Deferrable>(&stream));
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
  flush();
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
  idle_timer_.cancel();
  fd_.reset();
  stats_->downstream_cx_active.sub();
  owner_.onConnectionClosed(*this);
}

}  // namespace remora::http
