#include "http/http2_stream.h"

#include <time.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <vector>

#include "codec/http1_format.h"
#include "codec/request_head.h"
#include "codec/request_writer.h"
#include "common/monotonic.h"
#include "http/http2_server_connection.h"

namespace remora::http {
namespace {

// Builds the nghttp2 name/value array for a header block: names lowercased into `buf` (HTTP/2
// requires it; HTTP/1 upstreams send any case), fields named by a Connection header dropped.
// `buf` is sized before any pointer into it is taken.
void buildFields(const HeaderMap& h, bool response, std::string& buf,
                 std::vector<nghttp2_nv>& nva) {
  // Usually "keep-alive" or "close", listed on every response from an HTTP/1.1 upstream: kept
  // on the stack, a vector only past a handful.
  std::array<std::string_view, 8> few;
  size_t n_few = 0;
  std::vector<std::string_view> more;
  if (response && h.count(HeaderToken::kConnection) > 0) {
    for (const HeaderMap::Entry& e : h.entries()) {
      if (e.removed || e.token != HeaderToken::kConnection) continue;
      std::string_view v = h.value(e);
      size_t pos = 0;
      while (pos <= v.size()) {
        size_t comma = std::min(v.find(',', pos), v.size());
        std::string_view item = v.substr(pos, comma - pos);
        while (!item.empty() && (item.front() == ' ' || item.front() == '\t'))
          item.remove_prefix(1);
        while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
        if (item.empty()) {
        } else if (n_few < few.size()) {
          few[n_few++] = item;
        } else {
          more.push_back(item);
        }
        pos = comma + 1;
      }
    }
  }
  size_t start = buf.size();
  size_t need = 0;
  for (const HeaderMap::Entry& e : h.entries()) need += e.name_len;
  buf.resize(start + need);
  char* out = buf.data() + start;
  for (const HeaderMap::Entry& e : h.entries()) {
    // Connection-specific fields (RFC 9113 §8.2.2) are the hop-by-hop ones: never on h2.
    if (e.removed || isHopByHop(e.token)) continue;
    std::string_view name = h.name(e);
    bool drop = false;
    for (size_t i = 0; i < n_few; ++i) drop |= equalsIgnoreCase(few[i], name);
    for (std::string_view l : more) drop |= equalsIgnoreCase(l, name);
    if (drop) continue;
    char* lower = out;
    for (char c : name) *out++ = c >= 'A' && c <= 'Z' ? char(c + 32) : c;
    std::string_view value = h.value(e);
    nva.push_back({reinterpret_cast<uint8_t*>(lower),
                   reinterpret_cast<uint8_t*>(const_cast<char*>(value.data())), name.size(),
                   value.size(), NGHTTP2_NV_FLAG_NONE});
  }
  buf.resize(size_t(out - buf.data()));
}

ssize_t readCallback(nghttp2_session*, int32_t, uint8_t*, size_t length, uint32_t* flags,
                     nghttp2_data_source* source, void*) {
  return static_cast<Http2Stream*>(source->ptr)->readResponse(length, flags);
}

}  // namespace

Http2Stream::Http2Stream(Http2ServerConnection& conn, int32_t id)
    : conn_(conn), id_(id), proxy_(*this), body_(evbuffer_new()) {
  const ListenerRuntime& rt = *conn.runtime();
  high_watermark_ = rt.config.limits.buffer_high_watermark;
  start_us_ = monotonicMicros();
}

Http2Stream::~Http2Stream() = default;

void Http2Stream::reopen(int32_t id) {
  id_ = id;
  request_.clear();
  request_trailers_.clear();
  response_trailers_.clear();
  authority_.clear();
  cookie_.clear();
  evbuffer_drain(body_.get(), evbuffer_get_length(body_.get()));
  runtime_.reset();
  if (request_timer_) request_timer_->cancel();
  high_watermark_ = conn_.runtime()->config.limits.buffer_high_watermark;
  start_us_ = monotonicMicros();
  header_bytes_ = 0;
  unconsumed_ = 0;
  status_ = 0;
  method_seen_ = bad_request_ = too_large_ = head_complete_ = started_ = request_ended_ = false;
  response_open_ = response_ended_ = deferred_ = read_disabled_ = read_dirty_ = false;
  proxy_done_ = closed_ = false;
  prev = next = nullptr;
}

void Http2Stream::onHeader(std::string_view name, std::string_view value) {
  if (too_large_) return;
  const config::ListenerLimits& limits = conn_.runtime()->config.limits;
  // Counted as the HTTP/1 codec counts "name: value\r\n", so one limit means the same on both.
  header_bytes_ += uint32_t(name.size() + value.size() + 4);
  if (header_bytes_ > limits.max_request_headers_bytes ||
      request_.headers.size() >= limits.max_request_headers) {
    too_large_ = true;
    return;
  }
  if (!name.empty() && name[0] == ':') {
    if (name == ":method") {
      method_seen_ = true;
      if (!parseMethodName(value, request_.method)) bad_request_ = true;
    } else if (name == ":path") {
      request_.url.assign(value);
    } else if (name == ":authority") {
      authority_.assign(value);
    }
    return;  // :scheme, :protocol: nothing an HTTP/1.1 upstream takes
  }
  if (name == "cookie") {
    if (!cookie_.empty()) cookie_.append("; ");
    cookie_.append(value);
    return;
  }
  request_.headers.add(name, value);
}

bool Http2Stream::onTrailer(std::string_view name, std::string_view value) {
  const config::ListenerLimits& limits = conn_.runtime()->config.limits;
  header_bytes_ += uint32_t(name.size() + value.size() + 4);
  if (header_bytes_ > limits.max_request_headers_bytes ||
      request_trailers_.size() >= limits.max_request_headers)
    return false;
  request_trailers_.add(name, value);
  return true;
}

void Http2Stream::onHeadersComplete(bool end_stream) {
  head_complete_ = true;
  conn_.onStreamStarted();
  request_ended_ = end_stream;
  runtime_ = conn_.runtime();
  request_.http_major = 2;
  request_.http_minor = 0;
  if (too_large_) return replyDirect(431, "request headers too large\n");
  if (bad_request_ || !method_seen_) return replyDirect(501, "method not implemented\n");
  if (HeadRefusal r = checkRequestHead(request_, runtime_->config, authority_)) {
    runtime_->stats->protocol_errors[size_t(r.kind)].inc();
    std::string body(r.detail);
    body.push_back('\n');
    return replyDirect(r.status, body);
  }
  if (request_.headers.count(HeaderToken::kHost) == 0 && !authority_.empty())
    request_.headers.add(HeaderToken::kHost, "host", authority_);
  if (!cookie_.empty()) request_.headers.add("cookie", cookie_);
  if (auto cl = request_.headers.get(HeaderToken::kContentLength)) {
    // nghttp2 has checked it is a number and will check the DATA against it.
    uint64_t n = 0;
    std::from_chars(cl->data(), cl->data() + cl->size(), n);
    request_.has_content_length = true;
    request_.content_length = n;
  }
  // A body of unknown length goes to the HTTP/1.1 upstream chunked, and so does one whose
  // request announces trailers (Trailer field): HTTP/1.1 carries trailers only after chunks.
  if (!end_stream && request_.headers.count(HeaderToken::kTrailer) > 0 &&
      request_.has_content_length) {
    request_.headers.removeToken(HeaderToken::kContentLength);
    request_.has_content_length = false;
  }
  if (!end_stream && !request_.has_content_length) request_.chunked = true;
  started_ = true;
  if (uint64_t ms = uint64_t(runtime_->config.timeouts.request.count())) {
    request_timer_ = std::make_unique<LazyTimer>(conn_.dispatcher().base(), onRequestTimeout, this);
    request_timer_->set(ms);
  }
  proxy_.begin(runtime_, request_);
  if (end_stream && !proxy_done_) proxy_.onRequestComplete(request_trailers_);
}

void Http2Stream::onTrailersComplete() {
  request_ended_ = true;
  if (started_ && !proxy_done_) proxy_.onRequestComplete(request_trailers_);
}

bool Http2Stream::onData(const char* data, size_t len) {
  if (!started_ || proxy_done_) {
    nghttp2_session_consume_stream(conn_.session(), id_, len);  // nobody wants it
    return false;
  }
  proxy_.onRequestBody(data, len);
  // Accepted by the upstream side unless it just pushed back: then the window stays shut for
  // these bytes until readDisable(false).
  if (read_disabled_ && !proxy_done_) {
    unconsumed_ += len;
  } else {
    nghttp2_session_consume_stream(conn_.session(), id_, len);
  }
  if (read_dirty_) return false;
  read_dirty_ = true;
  return true;
}

void Http2Stream::onReadComplete() {
  read_dirty_ = false;
  if (!proxy_done_) proxy_.onDownstreamReadComplete();
}

void Http2Stream::onEndStream() {
  request_ended_ = true;
  if (started_ && !proxy_done_) proxy_.onRequestComplete(request_trailers_);
}

void Http2Stream::onClosed() {
  closed_ = true;
  if (!proxy_done_) detach();
  conn_.releaseStream(*this);
}

// timeouts.request, as for HTTP/1: 408 while the request is still arriving, 504 while waiting
// for the response; a response already under way is cut (RST_STREAM CANCEL).
void Http2Stream::onRequestTimeout(void* arg) {
  auto* self = static_cast<Http2Stream*>(arg);
  if (self->proxy_done_ || self->closed_) return;
  if (!self->proxy_.responseStarted()) {
    self->proxy_.sendLocalReply(self->request_ended_ ? 504 : 408, "request timeout\n");
    return;
  }
  self->detach();
  nghttp2_submit_rst_stream(self->conn_.session(), NGHTTP2_FLAG_NONE, self->id_, NGHTTP2_CANCEL);
  self->conn_.flush();
}

void Http2Stream::detach() {
  if (request_timer_) request_timer_->cancel();
  if (!proxy_done_ && started_) countRequest(status_ ? status_ : 499);
  proxy_done_ = true;
  proxy_.reset();
}

void Http2Stream::replyDirect(int status, std::string_view body) {
  MessageHead& h = direct_head_;
  h.clear();
  h.status = status;
  h.has_content_length = true;
  h.content_length = body.size();
  h.headers.add("content-type", "text/plain");
  std::string len;
  appendDecimal(len, body.size());
  h.headers.add("content-length", len);
  encodeHeaders(h, false);
  encodeBody(body.data(), body.size());
  encodeEnd(nullptr);
  conn_.stats()
      .protocol_errors[size_t(status == 431 ? stats::ProtocolError::kHeadersTooLarge
                                            : stats::ProtocolError::kBadRequest)]
      .inc();
  countRequest(status);
  proxy_done_ = true;
}

void Http2Stream::encodeHeaders(const MessageHead& response, bool end_stream) {
  status_ = response.status;
  std::string& buf = conn_.dispatcher().headerScratch();
  buf.clear();
  char status[4];
  std::to_chars(status, status + 3, response.status);
  status[3] = 0;
  std::vector<nghttp2_nv>& nva = conn_.fieldScratch();
  nva.push_back({const_cast<uint8_t*>(reinterpret_cast<const uint8_t*>(":status")),
                 reinterpret_cast<uint8_t*>(status), 7, 3, NGHTTP2_NV_FLAG_NONE});
  buildFields(response.headers, true, buf, nva);
  // A response known to be empty ends with its HEADERS frame: a gRPC trailers-only answer must,
  // since a client reads the status from the frame that ends the stream.
  if (response.has_content_length && response.content_length == 0 && response.status >= 200)
    end_stream = true;
  if (end_stream) {
    response_ended_ = true;
    nghttp2_submit_response(conn_.session(), id_, nva.data(), nva.size(), nullptr);
    return;
  }
  nghttp2_data_provider provider;
  provider.source.ptr = this;
  provider.read_callback = readCallback;
  response_open_ = true;
  nghttp2_submit_response(conn_.session(), id_, nva.data(), nva.size(), &provider);
}

void Http2Stream::encodeBody(const char* data, size_t len) {
  if (!response_open_ || len == 0) return;
  evbuffer_add(body_.get(), data, len);
  resumeData();
}

void Http2Stream::encodeEnd(const HeaderMap* trailers) {
  if (response_ended_) return;
  response_ended_ = true;
  if (trailers && trailers->size() > 0) response_trailers_ = *trailers;
  resumeData();
}

void Http2Stream::resumeData() {
  if (!deferred_ || closed_) return;
  deferred_ = false;
  nghttp2_session_resume_data(conn_.session(), id_);
}

ssize_t Http2Stream::readResponse(size_t length, uint32_t* flags) {
  size_t avail = evbuffer_get_length(body_.get());
  size_t n = std::min(length, avail);
  *flags |= NGHTTP2_DATA_FLAG_NO_COPY;
  if (n == avail && response_ended_) {
    *flags |= NGHTTP2_DATA_FLAG_EOF;
    if (response_trailers_.size() > 0) {
      std::string& buf = conn_.dispatcher().headerScratch();
      buf.clear();
      std::vector<nghttp2_nv>& nva = conn_.fieldScratch();
      buildFields(response_trailers_, false, buf, nva);
      if (!nva.empty()) {
        *flags |= NGHTTP2_DATA_FLAG_NO_END_STREAM;
        nghttp2_submit_trailer(conn_.session(), id_, nva.data(), nva.size());
      }
    }
    return ssize_t(n);
  }
  if (n == 0) {
    deferred_ = true;
    return NGHTTP2_ERR_DEFERRED;
  }
  return ssize_t(n);
}

void Http2Stream::moveResponse(evbuffer* out, size_t length) {
  bool was_high = evbuffer_get_length(body_.get()) > high_watermark_;
  evbuffer_remove_buffer(body_.get(), out, length);
  if (was_high && evbuffer_get_length(body_.get()) <= high_watermark_ && !proxy_done_)
    proxy_.onDownstreamWritable();
}

void Http2Stream::encode100Continue() {
  static const nghttp2_nv k100[] = {
      {const_cast<uint8_t*>(reinterpret_cast<const uint8_t*>(":status")),
       const_cast<uint8_t*>(reinterpret_cast<const uint8_t*>("100")), 7, 3, NGHTTP2_NV_FLAG_NONE}};
  nghttp2_submit_headers(conn_.session(), NGHTTP2_FLAG_NONE, id_, nullptr, k100, 1, nullptr);
  conn_.flush();
}

void Http2Stream::flush() {
  conn_.flush();
}

bool Http2Stream::aboveWriteWatermark() const {
  // This stream's own backlog only: a stream whose client window is shut must not pause the
  // upstreams of the others.
  return evbuffer_get_length(body_.get()) > high_watermark_;
}

void Http2Stream::readDisable(bool disable) {
  read_disabled_ = disable;
  if (disable || unconsumed_ == 0 || closed_) return;
  nghttp2_session_consume_stream(conn_.session(), id_, unconsumed_);
  unconsumed_ = 0;
  conn_.flush();
}

void Http2Stream::countRequest(int status) {
  stats::ListenerStats& st = conn_.stats();
  st.requests[stats::codeClassIndex(status)].inc();
  st.request_duration.observe(double(monotonicMicros() - start_us_) / 1e6);
}

void Http2Stream::onStreamComplete() {
  if (request_timer_) request_timer_->cancel();
  countRequest(status_);
  proxy_done_ = true;
  runtime_.reset();
  conn_.flush();
}

void Http2Stream::abort() {
  if (request_timer_) request_timer_->cancel();
  countRequest(status_);
  proxy_done_ = true;
  runtime_.reset();
  if (!closed_)
    nghttp2_submit_rst_stream(conn_.session(), NGHTTP2_FLAG_NONE, id_, NGHTTP2_INTERNAL_ERROR);
  conn_.flush();
}

const std::string& Http2Stream::peerAddress() const {
  return conn_.peer();
}

const network::PeerIdentity* Http2Stream::peerIdentity() const {
  return conn_.peerIdentity();
}

Dispatcher& Http2Stream::dispatcher() {
  return conn_.dispatcher();
}

}  // namespace remora::http
