#include "upstream/upstream_connection.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <cerrno>

#include "codec/http1_format.h"
#include "network/client_socket.h"
#include "upstream/endpoint_pool.h"
#include "upstream/worker_cluster.h"

namespace remora::upstream {

const char* failureName(UpstreamFailure f) {
  switch (f) {
    case UpstreamFailure::kConnectFailed:
      return "upstream connect error";
    case UpstreamFailure::kConnectTimeout:
      return "upstream connect timeout";
    case UpstreamFailure::kReset:
      return "upstream reset before response complete";
    case UpstreamFailure::kResponseTimeout:
      return "upstream response timeout";
    case UpstreamFailure::kBadResponse:
      return "upstream sent an invalid response";
    case UpstreamFailure::kOverflow:
      return "upstream overloaded: too many pending requests";
    case UpstreamFailure::kTlsFailed:
      return "upstream TLS handshake failed";
    case UpstreamFailure::kRefused:
      return "upstream refused the stream";
  }
  return "upstream error";
}

UpstreamConnection::UpstreamConnection(EndpointPool& pool, Dispatcher& dispatcher)
    : pool_(pool),
      dispatcher_(dispatcher),
      timer_(dispatcher.base(), onTimer, this),
      out_(evbuffer_new()),
      parser_(http::Http1Parser::Kind::kResponse, *this) {
  // Upstream heads are trusted more than client input but still bounded.
  parser_.setLimits({256 * 1024, 500});
}

UpstreamConnection::~UpstreamConnection() = default;

void UpstreamConnection::connect(UpstreamCallbacks& cb) {
  cb_ = &cb;
  state_ = State::kConnecting;
  if (!pool_.startConnect(transport_, read_ev_, write_ev_, onEvent, this)) {
    // Report from the loop, never from inside the caller's acquire().
    connect_error_ = true;
    timer_.fireSoon();
    return;
  }
  write_pending_ = true;
  armTimer(pool_.cluster().config().connect_timeout);
}

void UpstreamConnection::attach(UpstreamCallbacks& cb) {
  cb_ = &cb;
  head_request_ = response_done_ = request_done_ = response_started_ = request_chunked_ = false;
  response_timeout_ms_ = 0;
  keep_alive_ = true;
  timer_.cancel();
  parser_.resume();
  cb.onUpstreamReady(*this);
}

void UpstreamConnection::detach() {
  cb_ = nullptr;
  bool reusable = state_ == State::kOpen && response_done_ && request_done_ && keep_alive_ &&
                  !tunnel_ && evbuffer_get_length(out_.get()) == 0;
  if (!reusable) {
    pool_.release(*this, false);
    close();
    return;
  }
  if (read_disabled_) readDisable(false);
  armTimer(pool_.cluster().config().idle_timeout);
  pool_.release(*this, true);
}

void UpstreamConnection::onConnected() {
  switch (connect_step_.advance(*transport_, read_ev_.get(), write_ev_.get(), write_pending_,
                                pool_.cluster().stats().tls)) {
    case ConnectStep::Result::kWaiting:
      return;
    case ConnectStep::Result::kConnectFailed:
      return fail(UpstreamFailure::kConnectFailed);
    case ConnectStep::Result::kTlsFailed:
      return fail(UpstreamFailure::kTlsFailed);
    case ConnectStep::Result::kOpen:
      break;
  }
  state_ = State::kOpen;
  event_del(write_ev_.get());
  write_pending_ = false;
  timer_.cancel();
  event_add(read_ev_.get(), nullptr);
  if (cb_) cb_->onUpstreamReady(*this);
}

void UpstreamConnection::onEvent(evutil_socket_t, short what, void* arg) {
  auto* self = static_cast<UpstreamConnection*>(arg);
  if (self->state_ == State::kConnecting) {
    self->onConnected();
    return;
  }
  if (what & EV_READ) {
    self->onReadable();
    // TLS: records read ahead wait inside the transport, unannounced by the socket.
    while (self->state_ == State::kOpen && !self->read_disabled_ && self->transport_->readPending())
      self->onReadable();
  }
  if ((what & EV_WRITE) && self->state_ == State::kOpen) self->onWritable();
}

void UpstreamConnection::onTimer(void* arg) {
  auto* self = static_cast<UpstreamConnection*>(arg);
  if (self->state_ == State::kConnecting) {
    if (self->connect_error_) return self->fail(UpstreamFailure::kConnectFailed);
    self->pool_.cluster().stats().connect_timeouts.inc();
    self->connect_step_.timedOut(self->pool_.cluster().stats().tls);
    return self->fail(UpstreamFailure::kConnectTimeout);
  }
  if (self->cb_ == nullptr) return self->close();  // idle too long
  if (self->tunnel_) return;
  self->pool_.cluster().stats().response_timeouts.inc();
  self->fail(UpstreamFailure::kResponseTimeout);
}

void UpstreamConnection::onReadable() {
  char* buf = dispatcher_.scratch();
  ssize_t n = transport_->read(buf, Dispatcher::kScratchSize);
  if (n < 0) {
    if (errno == EAGAIN || errno == EINTR) return;
    return fail(UpstreamFailure::kReset);
  }
  if (cb_ == nullptr) return close();  // idle: EOF or unexpected bytes end it
  if (n == 0) {
    if (tunnel_) return fail(UpstreamFailure::kReset);
    // EOF completes a close-delimited response.
    keep_alive_ = false;
    if (parser_.inMessage() && response_started_) parser_.execute(nullptr, 0);
    if (!response_done_ && state_ != State::kClosed) fail(UpstreamFailure::kReset);
    return;
  }
  if (tunnel_) return cb_->onTunnelData(buf, size_t(n));
  if (request_done_) armResponseTimer();
  size_t used = parser_.execute(buf, size_t(n));
  if (state_ == State::kClosed || cb_ == nullptr) return;
  if (parser_.failed()) {
    keep_alive_ = false;
    return fail(UpstreamFailure::kBadResponse);
  }
  if (tunnel_ && used < size_t(n)) return cb_->onTunnelData(buf + used, size_t(n) - used);
  if (response_done_ && used < size_t(n)) keep_alive_ = false;  // bytes after the response
  if (cb_ != nullptr && !response_done_) cb_->onUpstreamReadComplete();
}

int UpstreamConnection::onHeaders(http::MessageHead& head) {
  if (head.status >= 100 && head.status < 200 && head.status != 101) return 0;  // interim
  response_started_ = true;
  int rc = cb_->onResponseHeaders(head);
  if (rc < 0) return -1;
  return head_request_ ? 1 : rc;
}

int UpstreamConnection::onBody(const char* data, size_t len) {
  cb_->onResponseBody(data, len);
  return cb_ ? 0 : -1;
}

int UpstreamConnection::onMessageComplete(http::HeaderMap& trailers) {
  http::MessageHead& head = parser_.head();
  if (head.status >= 100 && head.status < 200 && head.status != 101) return 0;
  response_done_ = true;
  ++requests_served_;
  keep_alive_ = keep_alive_ && head.keep_alive;
  timer_.cancel();
  parser_.pause();
  if (head.status == 101) {
    tunnel_ = true;
    keep_alive_ = false;
  }
  cb_->onResponseComplete(trailers);
  return 0;
}

void UpstreamConnection::flush() {
  if (state_ != State::kOpen) return;
  evbuffer* out = out_.get();
  size_t len = evbuffer_get_length(out);
  bool was_high = len > kHighWatermark;
  if (network::writeAvailable(*transport_, out, len) < 0) return fail(UpstreamFailure::kReset);
  bool pending = len > 0 || transport_->wantsWrite();
  if (pending != write_pending_) {
    pending ? event_add(write_ev_.get(), nullptr) : event_del(write_ev_.get());
    write_pending_ = pending;
  }
  if (was_high && len <= kHighWatermark && cb_) cb_->onUpstreamWritable();
}

void UpstreamConnection::onWritable() {
  flush();
}

bool UpstreamConnection::aboveHighWatermark() const {
  return evbuffer_get_length(out_.get()) > kHighWatermark;
}

void UpstreamConnection::readDisable(bool disable) {
  if (disable == read_disabled_ || state_ != State::kOpen) return;
  read_disabled_ = disable;
  disable ? event_del(read_ev_.get()) : event_add(read_ev_.get(), nullptr);
  if (!disable && transport_->readPending()) event_active(read_ev_.get(), EV_READ, 0);
}

void UpstreamConnection::requestComplete() {
  request_done_ = true;
  if (!response_done_ && !tunnel_) armResponseTimer();
}

void UpstreamConnection::sendHeaders(const http::MessageHead& request,
                                     const http::RequestRewrite& rw, bool) {
  request_chunked_ = rw.chunked;
  http::writeRequestHead(out_.get(), request, rw, dispatcher_);
}

void UpstreamConnection::sendBody(const char* data, size_t len) {
  http::writeBodyChunk(out_.get(), request_chunked_, data, len);
}

void UpstreamConnection::sendHeldBody(evbuffer* held) {
  size_t len = evbuffer_get_length(held);
  if (len == 0) return;
  if (!request_chunked_) {
    evbuffer_add_buffer(out_.get(), held);
    return;
  }
  char size[24];
  evbuffer_add(out_.get(), size, http::formatChunkSize(size, len));
  evbuffer_add_buffer(out_.get(), held);
  evbuffer_add(out_.get(), "\r\n", 2);
}

void UpstreamConnection::sendEnd(const http::HeaderMap* trailers) {
  http::writeBodyEnd(out_.get(), request_chunked_, trailers, dispatcher_.headerScratch());
  requestComplete();
}

void UpstreamConnection::sendRaw(const char* data, size_t len) {
  evbuffer_add(out_.get(), data, len);
}

const std::string& UpstreamConnection::endpointName() const {
  return pool_.name();
}

void UpstreamConnection::armResponseTimer() {
  if (response_timeout_ms_ != 0) return timer_.set(response_timeout_ms_);
  armTimer(pool_.cluster().config().response_timeout);
}

void UpstreamConnection::fail(UpstreamFailure f) {
  UpstreamCallbacks* cb = cb_;
  bool was_reused = reused();
  if (f == UpstreamFailure::kConnectFailed) pool_.cluster().stats().connect_failures.inc();
  if (cb_) {
    cb_ = nullptr;
    pool_.release(*this, false);
  }
  close();
  if (cb) cb->onUpstreamFailure(f, was_reused);
}

void UpstreamConnection::close() {
  if (state_ == State::kClosed) return;
  if (state_ == State::kConnecting) connect_step_.abandoned(pool_.cluster().stats().tls);
  state_ = State::kClosed;
  if (read_ev_) event_del(read_ev_.get());
  if (write_ev_) event_del(write_ev_.get());
  timer_.cancel();
  if (transport_) transport_->close();
  pool_.onClosed(*this);
}

}  // namespace remora::upstream
