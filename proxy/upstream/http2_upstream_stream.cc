// Http2UpstreamStream: one proxied request as an HTTP/2 stream (see http2_connection.h).
// HTTP/1 request heads become HEADERS (Host → :authority, hop-by-hop fields dropped, names
// lower-cased), bodies go out as DATA as the peer's window allows, and the response comes back
// as the MessageHead/body/trailers the filters and the downstream codec already understand.

#include <algorithm>
#include <cctype>

#include "upstream/endpoint_pool.h"
#include "upstream/http2_connection.h"
#include "upstream/worker_cluster.h"

namespace remora::upstream {
namespace {

ssize_t readBodyCb(nghttp2_session*, int32_t, uint8_t* buf, size_t length, uint32_t* flags,
                   nghttp2_data_source* source, void*);

// Request fields are gathered in two passes: lower-cased names and composed values go into one
// scratch string first (it may grow), then nghttp2_nv entries point into it. nghttp2 copies
// them on submit, so the scratch is free again right after.
struct FieldRef {
  uint32_t name_off, name_len;
  const char* value;  // into the request's HeaderMap, or null: value_off into the scratch
  uint32_t value_off, value_len;
};

void addName(std::string& buf, FieldRef& f, std::string_view name) {
  f.name_off = uint32_t(buf.size());
  f.name_len = uint32_t(name.size());
  buf.append(name);
  // HTTP/2 field names are lower-case (RFC 9113 §8.2.1); the parser admitted tokens only.
  char* p = buf.data() + f.name_off;
  for (size_t i = 0; i < name.size(); ++i)
    if (p[i] >= 'A' && p[i] <= 'Z') p[i] = char(p[i] + ('a' - 'A'));
}

nghttp2_nv makeNv(const std::string& buf, const FieldRef& f) {
  const char* value = f.value ? f.value : buf.data() + f.value_off;
  return {reinterpret_cast<uint8_t*>(const_cast<char*>(buf.data() + f.name_off)),
          reinterpret_cast<uint8_t*>(const_cast<char*>(value)), f.name_len, f.value_len,
          NGHTTP2_NV_FLAG_NONE};
}

}  // namespace

Http2UpstreamStream::Http2UpstreamStream(EndpointPool& pool, Http2Connection& conn,
                                         UpstreamCallbacks& cb)
    : pool_(pool),
      conn_(&conn),
      dispatcher_(conn.dispatcher()),
      endpoint_(pool.name()),
      cb_(&cb),
      body_(evbuffer_new()),
      timer_(conn.dispatcher().base(), onTimer, this),
      on_reused_conn_(conn.reused()) {}

Http2UpstreamStream::~Http2UpstreamStream() = default;

void Http2UpstreamStream::reopen(Http2Connection& conn, UpstreamCallbacks& cb) {
  conn_ = &conn;
  cb_ = &cb;
  id_ = 0;
  evbuffer_drain(body_.get(), evbuffer_get_length(body_.get()));
  request_trailers_.clear();
  response_.clear();
  trailers_.clear();
  timer_.cancel();
  unconsumed_ = 0;
  response_timeout_ms_ = 0;
  end_ = data_deferred_ = headers_done_ = in_trailers_ = response_done_ = false;
  read_disabled_ = closed_ = was_above_high_ = touched_ = retired_ = false;
  on_reused_conn_ = conn.reused();
}

void Http2UpstreamStream::sendHeaders(const http::MessageHead& req, const http::RequestRewrite& rw,
                                      bool end_stream) {
  using http::HeaderToken;
  const http::HeaderMap& h = req.headers;
  std::string& buf = dispatcher_.headerScratch();
  buf.clear();
  // Per worker thread and reused, so a request head allocates nothing here after warm-up.
  static thread_local std::vector<FieldRef> fields;
  static thread_local std::vector<nghttp2_nv> nva;
  fields.clear();
  nva.clear();
  auto literal = [&](std::string_view name, std::string_view value) {
    FieldRef f{};
    addName(buf, f, name);
    f.value_off = uint32_t(buf.size());
    f.value_len = uint32_t(value.size());
    buf.append(value);
    fields.push_back(f);
  };
  auto host = h.get(HeaderToken::kHost);
  literal(":method", http_method_str(req.method));
  literal(":scheme", "http");
  literal(":authority", host ? *host : rw.default_host);
  literal(":path", req.url);
  http::ForwardedFields fwd = http::forEachForwardedHeader<http::HeadTarget::kHttp2>(
      h, rw, [&](const http::HeaderMap::Entry& e) {
        FieldRef f{};
        addName(buf, f, h.name(e));
        f.value = h.value(e).data();
        f.value_len = uint32_t(e.value_len);
        fields.push_back(f);
      });
  // RFC 9113 §8.2.2: "te: trailers" is the one TE an HTTP/2 request may carry.
  if (fwd.te_trailers) literal("te", "trailers");
  if (rw.forwarded) {
    FieldRef f{};
    addName(buf, f, "x-forwarded-for");
    f.value_off = uint32_t(buf.size());
    if (fwd.has_xff) buf.append(fwd.xff).append(", ");
    buf.append(rw.peer);
    f.value_len = uint32_t(buf.size() - f.value_off);
    fields.push_back(f);
  }
  if (rw.forwarded && !fwd.has_proto) literal("x-forwarded-proto", "http");
  for (const FieldRef& f : fields) nva.push_back(makeNv(buf, f));

  nghttp2_data_provider provider{};
  provider.source.ptr = this;
  provider.read_callback = readBodyCb;
  end_ = end_stream;
  int32_t id = nghttp2_submit_request(conn_->session(), nullptr, nva.data(), nva.size(),
                                      end_stream ? nullptr : &provider, this);
  if (id < 0) {
    // Stream ids exhausted or the session is going away: nothing was sent, so the request may
    // go elsewhere. Reported from the loop, never inside the caller's onUpstreamReady.
    closed_ = true;
    conn_->streamClosed(*this);
    response_done_ = false;
    id_ = -1;
    timer_.fireSoon();
    return;
  }
  id_ = id;
}

void Http2UpstreamStream::sendBody(const char* data, size_t len) {
  if (closed_) return;
  evbuffer_add(body_.get(), data, len);
  if (evbuffer_get_length(body_.get()) > Http2Connection::kHighWatermark) was_above_high_ = true;
  if (data_deferred_) {
    data_deferred_ = false;
    nghttp2_session_resume_data(conn_->session(), id_);
  }
}

void Http2UpstreamStream::sendHeldBody(evbuffer* held) {
  if (closed_) return;
  evbuffer_add_buffer(body_.get(), held);
  if (evbuffer_get_length(body_.get()) > Http2Connection::kHighWatermark) was_above_high_ = true;
  if (data_deferred_) {
    data_deferred_ = false;
    nghttp2_session_resume_data(conn_->session(), id_);
  }
}

void Http2UpstreamStream::sendEnd(const http::HeaderMap* trailers) {
  if (closed_) return;
  if (trailers && !end_) {
    for (const http::HeaderMap::Entry& e : trailers->entries()) {
      if (e.removed) continue;
      std::string name(trailers->name(e));
      std::transform(name.begin(), name.end(), name.begin(),
                     [](unsigned char c) { return char(std::tolower(c)); });
      request_trailers_.emplace_back(std::move(name), std::string(trailers->value(e)));
    }
  }
  end_ = true;
  if (data_deferred_) {
    data_deferred_ = false;
    nghttp2_session_resume_data(conn_->session(), id_);
  }
  armResponseTimer();
}

ssize_t Http2UpstreamStream::readRequestBody(uint8_t* buf, size_t length, uint32_t* flags) {
  size_t have = evbuffer_get_length(body_.get());
  if (have == 0 && !end_) {
    data_deferred_ = true;
    return NGHTTP2_ERR_DEFERRED;
  }
  int n = evbuffer_remove(body_.get(), buf, std::min(length, have));
  if (n < 0) return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
  size_t left = have - size_t(n);
  if (was_above_high_ && left <= Http2Connection::kHighWatermark) {
    was_above_high_ = false;
    if (cb_ != nullptr) cb_->onUpstreamWritable();
  }
  if (end_ && left == 0) {
    *flags |= NGHTTP2_DATA_FLAG_EOF;
    if (!request_trailers_.empty()) {
      std::vector<nghttp2_nv> nva;
      for (auto& [name, value] : request_trailers_)
        nva.push_back({reinterpret_cast<uint8_t*>(name.data()),
                       reinterpret_cast<uint8_t*>(value.data()), name.size(), value.size(),
                       NGHTTP2_NV_FLAG_NONE});
      if (nghttp2_submit_trailer(conn_->session(), id_, nva.data(), nva.size()) == 0)
        *flags |= NGHTTP2_DATA_FLAG_NO_END_STREAM;
    }
  }
  return n;
}

void Http2UpstreamStream::flush() {
  if (!closed_) conn_->scheduleFlush();
}

bool Http2UpstreamStream::aboveHighWatermark() const {
  return evbuffer_get_length(body_.get()) > Http2Connection::kHighWatermark;
}

void Http2UpstreamStream::readDisable(bool disable) {
  read_disabled_ = disable;
  if (disable || unconsumed_ == 0 || closed_) return;
  // The downstream drained: acknowledge what it took, reopening the window.
  nghttp2_session_consume(conn_->session(), id_, unconsumed_);
  unconsumed_ = 0;
  conn_->scheduleFlush();
}

void Http2UpstreamStream::release() {
  cb_ = nullptr;
  timer_.cancel();
  if (!closed_) {
    if (id_ <= 0) {
      closed_ = true;  // never submitted
      conn_->streamClosed(*this);
    } else if (!response_done_ || !nghttp2_session_get_stream_local_close(conn_->session(), id_)) {
      // The proxy stream gave up (client gone, local reply, retry): tell the upstream to stop.
      if (unconsumed_ > 0) nghttp2_session_consume(conn_->session(), id_, unconsumed_);
      unconsumed_ = 0;
      nghttp2_submit_rst_stream(conn_->session(), NGHTTP2_FLAG_NONE, id_, NGHTTP2_CANCEL);
      conn_->scheduleFlush();
    }
  }
  maybeRetire();
}

const std::string& Http2UpstreamStream::endpointName() const {
  return endpoint_;
}

void Http2UpstreamStream::onBeginHeaders() {
  if (headers_done_) {
    in_trailers_ = true;
    trailers_.clear();
    return;
  }
  response_.clear();  // also drops an interim (1xx) head
}

void Http2UpstreamStream::onHeader(std::string_view name, std::string_view value) {
  if (in_trailers_) {
    if (!name.empty() && name[0] != ':') trailers_.add(name, value);
    return;
  }
  if (name == ":status") {
    int status = 0;
    for (char c : value) status = status * 10 + (c - '0');
    response_.status = status;
    return;
  }
  if (name.empty() || name[0] == ':') return;
  response_.headers.add(name, value);
  if (name == "content-length") {
    uint64_t n = 0;
    for (char c : value) n = n * 10 + uint64_t(c - '0');  // nghttp2 validated the digits
    response_.has_content_length = true;
    response_.content_length = n;
  }
}

void Http2UpstreamStream::onHeadersEnd(bool end_stream) {
  if (cb_ == nullptr) return;
  if (end_ || headers_done_) armResponseTimer();
  if (in_trailers_) {
    if (end_stream) complete();
    return;
  }
  if (response_.status >= 100 && response_.status < 200) return;  // interim
  headers_done_ = true;
  response_.http_major = 2;
  response_.http_minor = 0;
  response_.keep_alive = true;
  if (end_stream && !response_.has_content_length) {
    // No body follows (a gRPC trailers-only answer, an empty response): say so, so the
    // downstream codec ends the response with its head (HTTP/2: HEADERS with END_STREAM, which
    // gRPC clients need to read the status) instead of sending an empty body after it.
    response_.headers.add(http::HeaderToken::kContentLength, "content-length", "0");
    response_.has_content_length = true;
    response_.content_length = 0;
  }
  conn_->touch(*this);
  if (cb_->onResponseHeaders(response_) < 0 || cb_ == nullptr) return;
  if (end_stream) complete();
}

void Http2UpstreamStream::onData(const char* data, size_t len) {
  if (cb_ == nullptr || !headers_done_) {
    nghttp2_session_consume(conn_->session(), id_, len);
    return;
  }
  armResponseTimer();
  conn_->touch(*this);
  cb_->onResponseBody(data, len);
  if (cb_ != nullptr && read_disabled_) {
    unconsumed_ += len;  // acknowledged when the downstream drains (readDisable(false))
    return;
  }
  nghttp2_session_consume(conn_->session(), id_, len);
}

void Http2UpstreamStream::onDataEnd() {
  if (cb_ != nullptr && headers_done_) complete();
}

void Http2UpstreamStream::complete() {
  response_done_ = true;
  ++conn_->completed_streams_;
  timer_.cancel();
  if (!in_trailers_) trailers_.clear();
  cb_->onResponseComplete(trailers_);
}

void Http2UpstreamStream::onClosed(UpstreamFailure failure) {
  if (closed_) return;
  closed_ = true;
  timer_.cancel();
  conn_->streamClosed(*this);
  if (cb_ != nullptr && !response_done_) {
    // Closed before the response completed: refused (never processed), reset, or torn down
    // with its connection.
    fail(headers_done_ && failure == UpstreamFailure::kRefused ? UpstreamFailure::kReset : failure);
  }
  maybeRetire();
}

void Http2UpstreamStream::fail(UpstreamFailure failure) {
  UpstreamCallbacks* cb = cb_;
  cb_ = nullptr;
  timer_.cancel();
  // The whole connection went (no GOAWAY) before any of the response, on a connection that had
  // sat between streams: the peer likely closed it as this stream went out, as an HTTP/1.1
  // keep-alive connection can be, and ProxyStream may send a bodyless request again. A reset
  // of this stream alone is the peer's answer and is not.
  bool stale =
      failure == UpstreamFailure::kReset && on_reused_conn_ && !headers_done_ && !conn_->open();
  if (cb != nullptr) cb->onUpstreamFailure(failure, stale);
}

void Http2UpstreamStream::armResponseTimer() {
  if (response_timeout_ms_ != 0) return timer_.set(response_timeout_ms_);
  timer_.set(uint64_t(pool_.cluster().config().response_timeout.count()));
}

void Http2UpstreamStream::onTimer(void* arg) {
  auto* self = static_cast<Http2UpstreamStream*>(arg);
  if (self->cb_ == nullptr) return;
  if (self->id_ < 0) {  // submit failed (sendHeaders)
    self->fail(UpstreamFailure::kRefused);
    return self->maybeRetire();
  }
  if (self->response_done_ || self->closed_) return;
  self->pool_.cluster().stats().response_timeouts.inc();
  // The RST first, while the connection is certainly alive; the failure is reported before the
  // RST is written, since writing it closes the stream (onClosed must find no user).
  nghttp2_submit_rst_stream(self->conn_->session(), NGHTTP2_FLAG_NONE, self->id_, NGHTTP2_CANCEL);
  Http2Connection& conn = *self->conn_;
  self->fail(UpstreamFailure::kResponseTimeout);
  conn.flush();
}

void Http2UpstreamStream::maybeRetire() {
  if (!closed_ || cb_ != nullptr || retired_) return;
  retired_ = true;
  pool_.retireStream(*this);
}

namespace {

ssize_t readBodyCb(nghttp2_session*, int32_t, uint8_t* buf, size_t length, uint32_t* flags,
                   nghttp2_data_source* source, void*) {
  return static_cast<Http2UpstreamStream*>(source->ptr)->readRequestBody(buf, length, flags);
}

}  // namespace

}  // namespace remora::upstream
