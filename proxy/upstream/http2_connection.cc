#include "upstream/http2_connection.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "network/client_socket.h"
#include "upstream/endpoint_pool.h"
#include "upstream/worker_cluster.h"

namespace remora::upstream {
namespace {

// The connection-level receive window. Each stream's window (http2.initial_window_size) already
// bounds what a paused stream can make us hold, so the connection's only has to be large enough
// that one slow stream never stalls its neighbours.
constexpr int32_t kConnectionWindow = 1 << 30;

struct NgCallbacksDeleter {
  void operator()(nghttp2_session_callbacks* c) const { nghttp2_session_callbacks_del(c); }
};
struct NgOptionDeleter {
  void operator()(nghttp2_option* o) const { nghttp2_option_del(o); }
};

}  // namespace

Http2Connection::Http2Connection(EndpointPool& pool, Dispatcher& dispatcher)
    : pool_(pool),
      dispatcher_(dispatcher),
      timer_(dispatcher.base(), onTimer, this),
      keepalive_timer_(dispatcher.base(), onKeepaliveTimer, this),
      out_(evbuffer_new()),
      capacity_(pool.cluster().config().http2.max_concurrent_streams) {
  send_ev_.reset(event_new(dispatcher.base(), -1, 0, onSendEvent, this));
  setUpSession();
}

Http2Connection::~Http2Connection() {
  // Only when the pool goes (cluster removed): its streams' users are gone, but a stream whose
  // RST was still in flight has not heard its close and would never be freed.
  for (Http2UpstreamStream* s : streams_)
    if (s->cb_ == nullptr) delete s;
}

void Http2Connection::setUpSession() {
  nghttp2_session_callbacks* raw_cbs = nullptr;
  nghttp2_session_callbacks_new(&raw_cbs);
  std::unique_ptr<nghttp2_session_callbacks, NgCallbacksDeleter> cbs(raw_cbs);
  nghttp2_session_callbacks_set_on_begin_headers_callback(raw_cbs, onBeginHeadersCb);
  nghttp2_session_callbacks_set_on_header_callback(raw_cbs, onHeaderCb);
  nghttp2_session_callbacks_set_on_frame_recv_callback(raw_cbs, onFrameRecvCb);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(raw_cbs, onDataChunkCb);
  nghttp2_session_callbacks_set_on_stream_close_callback(raw_cbs, onStreamCloseCb);
  nghttp2_option* raw_opt = nullptr;
  nghttp2_option_new(&raw_opt);
  std::unique_ptr<nghttp2_option, NgOptionDeleter> opt(raw_opt);
  // Response bytes are acknowledged when the downstream took them, not when they arrived:
  // that is what carries the client's backpressure to the upstream (readDisable).
  nghttp2_option_set_no_auto_window_update(raw_opt, 1);
  nghttp2_session* session = nullptr;
  nghttp2_session_client_new2(&session, raw_cbs, this, raw_opt);
  session_.reset(session);
  const config::Http2Settings& h2 = pool_.cluster().config().http2;
  nghttp2_settings_entry settings[] = {
      {NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
      {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, h2.initial_window_size},
  };
  nghttp2_submit_settings(session, NGHTTP2_FLAG_NONE, settings, 2);
  nghttp2_session_set_local_window_size(session, NGHTTP2_FLAG_NONE, 0, kConnectionWindow);
}

void Http2Connection::connect() {
  if (!pool_.startConnect(transport_, read_ev_, write_ev_, onEvent, this)) {
    connect_error_ = true;  // reported from the loop, never inside the caller's acquire()
    timer_.fireSoon();
    return;
  }
  write_pending_ = true;
  timer_.set(uint64_t(pool_.cluster().config().connect_timeout.count()));
}

void Http2Connection::onConnected() {
  switch (connect_step_.advance(*transport_, read_ev_.get(), write_ev_.get(), write_pending_,
                                pool_.cluster().stats().tls)) {
    case ConnectStep::Result::kWaiting:
      return;
    case ConnectStep::Result::kConnectFailed:
      pool_.cluster().stats().connect_failures.inc();
      return fail(UpstreamFailure::kConnectFailed);
    case ConnectStep::Result::kTlsFailed:
      return fail(UpstreamFailure::kTlsFailed);
    case ConnectStep::Result::kOpen:
      break;
  }
  state_ = State::kOpen;
  event_del(write_ev_.get());
  write_pending_ = false;
  event_add(read_ev_.get(), nullptr);
  // The connect timeout keeps running until the peer's SETTINGS: a peer that accepts TCP but
  // does not speak HTTP/2 must not hold the waiting requests forever.
  flush();  // the connection preface and our SETTINGS
}

void Http2Connection::onEvent(evutil_socket_t, short what, void* arg) {
  auto* self = static_cast<Http2Connection*>(arg);
  EndpointPool::StreamRecycleScope scope(self->pool_);
  if (self->state_ == State::kConnecting) return self->onConnected();
  if (what & EV_READ) {
    self->onReadable();
    // TLS: records read ahead wait inside the transport, unannounced by the socket.
    while (self->state_ != State::kClosed && self->transport_->readPending()) self->onReadable();
  }
  if ((what & EV_WRITE) && self->state_ == State::kOpen) self->flush();
}

void Http2Connection::onTimer(void* arg) {
  auto* self = static_cast<Http2Connection*>(arg);
  EndpointPool::StreamRecycleScope scope(self->pool_);
  if (self->state_ == State::kClosed) return;
  if (self->connect_error_) {
    self->pool_.cluster().stats().connect_failures.inc();
    return self->fail(UpstreamFailure::kConnectFailed);
  }
  if (!self->settings_received_) {
    self->pool_.cluster().stats().connect_timeouts.inc();
    self->connect_step_.timedOut(self->pool_.cluster().stats().tls);
    return self->fail(UpstreamFailure::kConnectTimeout);
  }
  if (self->streams_.empty()) {
    // Idle too long: say goodbye properly, then close.
    nghttp2_submit_goaway(self->session(), NGHTTP2_FLAG_NONE,
                          nghttp2_session_get_last_proc_stream_id(self->session()),
                          NGHTTP2_NO_ERROR, nullptr, 0);
    self->flush();
    self->close(UpstreamFailure::kReset);
  }
}

void Http2Connection::onKeepaliveTimer(void* arg) {
  auto* self = static_cast<Http2Connection*>(arg);
  EndpointPool::StreamRecycleScope scope(self->pool_);
  if (self->state_ != State::kOpen) return;
  const config::Http2Settings& h2 = self->pool_.cluster().config().http2;
  if (self->ping_outstanding_) {
    // No ACK in time: the peer or the path is gone. Its streams fail as on any reset.
    return self->fail(UpstreamFailure::kReset);
  }
  self->ping_outstanding_ = true;
  nghttp2_submit_ping(self->session(), NGHTTP2_FLAG_NONE, nullptr);
  self->keepalive_timer_.set(uint64_t(h2.keepalive_timeout.count()));
  self->flush();
}

void Http2Connection::onReadable() {
  char* buf = dispatcher_.scratch();
  ssize_t n = transport_->read(buf, Dispatcher::kScratchSize);
  if (n < 0) {
    if (errno == EAGAIN || errno == EINTR) return;
    return fail(UpstreamFailure::kReset);
  }
  if (n == 0) return fail(UpstreamFailure::kReset);
  in_session_ = true;
  ssize_t rc =
      nghttp2_session_mem_recv(session(), reinterpret_cast<const uint8_t*>(buf), size_t(n));
  in_session_ = false;
  if (rc < 0) return fail(UpstreamFailure::kBadResponse);
  // What one read carried goes downstream in one write per stream.
  std::vector<Http2UpstreamStream*> touched;
  touched.swap(touched_);
  for (Http2UpstreamStream* s : touched) {
    s->touched_ = false;
    if (s->cb_ != nullptr) s->cb_->onUpstreamReadComplete();
  }
  if (touched_.empty()) touched_.swap(touched);  // keep the capacity
  touched_.clear();
  if (state_ == State::kClosed) return;
  flush();
  // nghttp2 gave up on the session (a protocol error it answered with GOAWAY, or both sides
  // said goodbye): nothing more can travel on it.
  if (state_ != State::kClosed && !nghttp2_session_want_read(session()) &&
      !nghttp2_session_want_write(session()))
    close(UpstreamFailure::kReset);
}

void Http2Connection::touch(Http2UpstreamStream& s) {
  if (s.touched_) return;
  s.touched_ = true;
  touched_.push_back(&s);
}

void Http2Connection::scheduleFlush() {
  if (send_scheduled_ || state_ != State::kOpen) return;
  send_scheduled_ = true;
  event_active(send_ev_.get(), 0, 0);
}

void Http2Connection::onSendEvent(evutil_socket_t, short, void* arg) {
  auto* self = static_cast<Http2Connection*>(arg);
  EndpointPool::StreamRecycleScope scope(self->pool_);
  self->send_scheduled_ = false;
  self->flush();
}

void Http2Connection::flush() {
  if (state_ != State::kOpen) return;
  if (in_session_) {
    send_wanted_ = true;  // nghttp2 forbids re-entering the session from its callbacks
    return;
  }
  send_wanted_ = false;
  evbuffer* out = out_.get();
  for (;;) {
    // Stop pulling frames while the socket is full: nghttp2 keeps them (and its DATA read
    // callbacks stop draining the streams' buffers), so memory stays bounded.
    while (evbuffer_get_length(out) < kHighWatermark) {
      const uint8_t* data = nullptr;
      in_session_ = true;
      ssize_t n = nghttp2_session_mem_send(session(), &data);
      in_session_ = false;
      if (n < 0) return fail(UpstreamFailure::kReset);
      if (n == 0) break;
      evbuffer_add(out, data, size_t(n));
    }
    size_t len = evbuffer_get_length(out);
    if (network::writeAvailable(*transport_, out, len) < 0) return fail(UpstreamFailure::kReset);
    if (len > 0 || !nghttp2_session_want_write(session())) break;
  }
  bool pending = evbuffer_get_length(out) > 0 || nghttp2_session_want_write(session()) ||
                 transport_->wantsWrite();
  if (pending != write_pending_) {
    pending ? event_add(write_ev_.get(), nullptr) : event_del(write_ev_.get());
    write_pending_ = pending;
  }
  afterActivity();
}

void Http2Connection::newStream(UpstreamCallbacks& cb) {
  if (!settings_received_) {
    waiting_.push_back(&cb);
    afterActivity();
    return;
  }
  startStream(cb);
}

void Http2Connection::startStream(UpstreamCallbacks& cb) {
  Http2UpstreamStream* s = pool_.newStream(*this, cb);
  streams_.push_back(s);
  pool_.onStreamCountChanged(+1);
  afterActivity();
  cb.onUpstreamReady(*s);
}

bool Http2Connection::cancelWaiting(UpstreamCallbacks& cb) {
  auto it = std::find(waiting_.begin(), waiting_.end(), &cb);
  if (it == waiting_.end()) return false;
  waiting_.erase(it);
  afterActivity();
  return true;
}

bool Http2Connection::hasRoom() const {
  return state_ != State::kClosed && !draining_ && load() < capacity_;
}

void Http2Connection::onSettings() {
  uint32_t peer =
      nghttp2_session_get_remote_settings(session(), NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS);
  capacity_ = std::min(pool_.cluster().config().http2.max_concurrent_streams, peer);
  if (!settings_received_) {
    settings_received_ = true;
    timer_.cancel();  // the connect timeout
    keepalive_timer_.set(uint64_t(pool_.cluster().config().http2.keepalive_interval.count()));
    // Requests that waited here start now, up to the peer's limit; the rest go back to the pool,
    // which finds them room on another connection or queues them.
    std::deque<UpstreamCallbacks*> waiting;
    waiting.swap(waiting_);
    while (!waiting.empty() && streams_.size() < capacity_ && !draining_) {
      UpstreamCallbacks* cb = waiting.front();
      waiting.pop_front();
      startStream(*cb);
    }
    if (capacity_ == 0) {
      // A peer that takes no streams at all: handing its waiters to a new connection would
      // only meet the same answer, so they fail as refused (retried within their attempt
      // bound, then 503) and the connection takes nothing more.
      draining_ = true;
      for (UpstreamCallbacks* cb : waiting) cb->onUpstreamFailure(UpstreamFailure::kRefused, false);
      afterActivity();
      return;
    }
    for (UpstreamCallbacks* cb : waiting) pool_.requeue(*cb);
  }
  pool_.onCapacity(*this);
}

void Http2Connection::streamClosed(Http2UpstreamStream& s) {
  auto it = std::find(streams_.begin(), streams_.end(), &s);
  if (it == streams_.end()) return;
  *it = streams_.back();
  streams_.pop_back();
  pool_.onStreamCountChanged(-1);
  if (state_ == State::kClosed) return;
  pool_.onCapacity(*this);
  afterActivity();
}

void Http2Connection::afterActivity() {
  if (state_ == State::kClosed) return;
  bool busy = load() > 0;
  if (busy != busy_) {
    busy_ = busy;
    pool_.onConnectionBusy(busy);
  }
  if (busy || !settings_received_) return;
  if (draining_) {
    // GOAWAY and nothing left in flight: done. Deferred: we may be inside a stream's callback.
    if (!in_session_) close(UpstreamFailure::kReset);
    return;
  }
  timer_.set(uint64_t(pool_.cluster().config().idle_timeout.count()));
}

void Http2Connection::closeIfIdle() {
  if (load() == 0) close(UpstreamFailure::kReset);
}

const std::string& Http2Connection::endpointName() const {
  return pool_.name();
}

void Http2Connection::fail(UpstreamFailure f) {
  close(f);
}

void Http2Connection::close(UpstreamFailure f) {
  if (state_ == State::kClosed) return;
  if (state_ == State::kConnecting) connect_step_.abandoned(pool_.cluster().stats().tls);
  state_ = State::kClosed;
  if (read_ev_) event_del(read_ev_.get());
  if (write_ev_) event_del(write_ev_.get());
  timer_.cancel();
  keepalive_timer_.cancel();
  if (transport_) transport_->close();
  if (busy_) {
    busy_ = false;
    pool_.onConnectionBusy(false);
  }
  std::vector<Http2UpstreamStream*> streams;
  streams.swap(streams_);
  std::deque<UpstreamCallbacks*> waiting;
  waiting.swap(waiting_);
  // The pool forgets us first, so nothing the failures below start can land here.
  pool_.onClosed(*this);
  for (Http2UpstreamStream* s : streams) {
    pool_.onStreamCountChanged(-1);
    s->onClosed(f);
  }
  UpstreamFailure waiting_failure = f == UpstreamFailure::kReset ? UpstreamFailure::kRefused : f;
  for (UpstreamCallbacks* cb : waiting) cb->onUpstreamFailure(waiting_failure, false);
}

// --- nghttp2 callbacks ---

int Http2Connection::onBeginHeadersCb(nghttp2_session* session, const nghttp2_frame* frame, void*) {
  auto* s = static_cast<Http2UpstreamStream*>(
      nghttp2_session_get_stream_user_data(session, frame->hd.stream_id));
  if (s != nullptr) s->onBeginHeaders();
  return 0;
}

int Http2Connection::onHeaderCb(nghttp2_session* session, const nghttp2_frame* frame,
                                const uint8_t* name, size_t namelen, const uint8_t* value,
                                size_t valuelen, uint8_t, void*) {
  auto* s = static_cast<Http2UpstreamStream*>(
      nghttp2_session_get_stream_user_data(session, frame->hd.stream_id));
  if (s != nullptr)
    s->onHeader({reinterpret_cast<const char*>(name), namelen},
                {reinterpret_cast<const char*>(value), valuelen});
  return 0;
}

int Http2Connection::onFrameRecvCb(nghttp2_session* session, const nghttp2_frame* frame,
                                   void* user) {
  auto* self = static_cast<Http2Connection*>(user);
  switch (frame->hd.type) {
    case NGHTTP2_SETTINGS:
      if ((frame->hd.flags & NGHTTP2_FLAG_ACK) == 0) self->onSettings();
      return 0;
    case NGHTTP2_PING:
      if ((frame->hd.flags & NGHTTP2_FLAG_ACK) != 0 && self->ping_outstanding_) {
        self->ping_outstanding_ = false;
        self->keepalive_timer_.set(
            uint64_t(self->pool_.cluster().config().http2.keepalive_interval.count()));
      }
      return 0;
    case NGHTTP2_GOAWAY:
      // Streams above last_stream_id were never processed: nghttp2 closes them with
      // REFUSED_STREAM (retried by their proxy streams); the rest finish here.
      self->draining_ = true;
      self->pool_.onCapacity(*self);
      return 0;
    default:
      break;
  }
  auto* s = static_cast<Http2UpstreamStream*>(
      nghttp2_session_get_stream_user_data(session, frame->hd.stream_id));
  if (s == nullptr) return 0;
  bool end = (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0;
  if (frame->hd.type == NGHTTP2_HEADERS) {
    s->onHeadersEnd(end);
  } else if (frame->hd.type == NGHTTP2_DATA && end) {
    s->onDataEnd();
  }
  return 0;
}

int Http2Connection::onDataChunkCb(nghttp2_session* session, uint8_t, int32_t stream_id,
                                   const uint8_t* data, size_t len, void*) {
  auto* s =
      static_cast<Http2UpstreamStream*>(nghttp2_session_get_stream_user_data(session, stream_id));
  if (s == nullptr) {
    nghttp2_session_consume(session, stream_id, len);  // nobody wants it; keep the window open
    return 0;
  }
  s->onData(reinterpret_cast<const char*>(data), len);
  return 0;
}

int Http2Connection::onStreamCloseCb(nghttp2_session* session, int32_t stream_id,
                                     uint32_t error_code, void*) {
  auto* s =
      static_cast<Http2UpstreamStream*>(nghttp2_session_get_stream_user_data(session, stream_id));
  if (s == nullptr) return 0;
  nghttp2_session_set_stream_user_data(session, stream_id, nullptr);
  s->onClosed(error_code == NGHTTP2_REFUSED_STREAM ? UpstreamFailure::kRefused
                                                   : UpstreamFailure::kReset);
  return 0;
}

}  // namespace remora::upstream
