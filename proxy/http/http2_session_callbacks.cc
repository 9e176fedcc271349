// nghttp2's callbacks for Http2ServerConnection: stream events handed to Http2Stream, the
// flood budgets counted as frame headers arrive, and the send callbacks that pull frames into
// the socket buffer only while it is below the watermark.

#include <spdlog/spdlog.h>

#include "http/http2_server_connection.h"
#include "http/http2_stream.h"

namespace remora::http {
namespace {

using stats::ProtocolError;

uint64_t nowMs(event_base* base) {
  timeval tv;
  event_base_gettimeofday_cached(base, &tv);
  return uint64_t(tv.tv_sec) * 1000 + uint64_t(tv.tv_usec) / 1000;
}

}  // namespace

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
  Http2Stream* stream = self->newStream(frame->hd.stream_id);
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

}  // namespace remora::http
