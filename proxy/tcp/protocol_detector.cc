#include "tcp/protocol_detector.h"

#include <sys/socket.h>

#include <algorithm>
#include <cerrno>

namespace remora::tcp {

ProtocolDetector::ProtocolDetector(Dispatcher& dispatcher, DetectionOwner& owner,
                                   std::shared_ptr<http::ListenerSlot> slot, Fd fd,
                                   std::string peer)
    : dispatcher_(dispatcher),
      owner_(owner),
      slot_(std::move(slot)),
      fd_(std::move(fd)),
      peer_(std::move(peer)),
      timer_(dispatcher.base(), onTimeout, this) {
  read_ev_.reset(
      event_new(dispatcher.base(), fd_.get(), EV_READ | EV_PERSIST | EV_ET, onReadable, this));
  event_add(read_ev_.get(), nullptr);
  timer_.set(uint64_t(slot_->current->config.detection_timeout.count()));
}

ProtocolDetector::~ProtocolDetector() = default;

void ProtocolDetector::onReadable(evutil_socket_t, short, void* arg) {
  static_cast<ProtocolDetector*>(arg)->peek();
}

void ProtocolDetector::onTimeout(void* arg) {
  auto* self = static_cast<ProtocolDetector*>(arg);
  Detection d;
  d.timed_out = true;
  self->finish(true, std::move(d));
}

void ProtocolDetector::peek() {
  if (done_) return;
  char* buf = dispatcher_.scratch();
  const size_t cap = std::min(kMaxSniffBytes, Dispatcher::kScratchSize);
  const ssize_t n = ::recv(fd_.get(), buf, cap, MSG_PEEK);
  if (n == 0) return finish(false);  // closed before saying anything
  if (n < 0) {
    if (errno == EAGAIN || errno == EINTR) return;
    return finish(false);
  }
  SniffResult r = sniff(std::string_view(buf, size_t(n)));
  if (r.kind == Sniffed::kNeedMore && size_t(n) < cap) return;  // the next edge brings more
  Detection d;
  d.kind = r.kind == Sniffed::kNeedMore ? Sniffed::kOther : r.kind;
  d.sni = std::move(r.sni);
  finish(true, std::move(d));
}

void ProtocolDetector::finish(bool handoff, Detection detection) {
  if (done_) return;
  done_ = true;
  read_ev_.reset();
  timer_.cancel();
  if (handoff) owner_.startDetected(slot_, std::move(fd_), std::move(peer_), std::move(detection));
  fd_.reset();
  owner_.onConnectionClosed(*this);
}

}  // namespace remora::tcp
