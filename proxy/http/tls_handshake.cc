#include "http/tls_handshake.h"

#include <netinet/tcp.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <time.h>

#include <atomic>

#include "common/monotonic.h"

namespace remora::http {
namespace {

// Plain HTTP to a TLS port is usually a misconfigured client that retries: one log line per
// minute, not one per connection (the metric counts each).
void logNotTls(const std::string& listener, const std::string& peer) {
  static std::atomic<int64_t> last_s{0};
  const int64_t now_s = int64_t(monotonicMicros() / 1000000);
  int64_t last = last_s.load(std::memory_order_relaxed);
  if (now_s - last < 60 || !last_s.compare_exchange_strong(last, now_s)) return;
  spdlog::warn(
      "listener {}: a client ({}) sent plain text to a TLS port; closed (counted in "
      "remora_downstream_tls_handshake_failures_total{{reason=\"not_tls\"}}, logged once "
      "a minute)",
      listener, peer);
}

}  // namespace

TlsHandshake::TlsHandshake(Dispatcher& dispatcher, ConnectionOwner& owner,
                           std::shared_ptr<ListenerSlot> slot,
                           std::unique_ptr<network::TlsTransport> transport, std::string peer,
                           size_t& in_progress)
    : owner_(owner),
      slot_(std::move(slot)),
      transport_(std::move(transport)),
      peer_(std::move(peer)),
      in_progress_(in_progress),
      stats_(slot_->current->stats->tls),
      timer_(dispatcher.base(), onTimeout, this),
      started_us_(monotonicMicros()) {
  const int fd = transport_->fd();
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  event_base* base = dispatcher.base();
  read_ev_.reset(event_new(base, fd, EV_READ | EV_PERSIST, onEvent, this));
  write_ev_.reset(event_new(base, fd, EV_WRITE | EV_PERSIST, onEvent, this));
  ++in_progress_;
  stats_.in_progress.add();
  timer_.set(uint64_t(slot_->current->config.tls->handshake_timeout.count()));
  event_add(read_ev_.get(), nullptr);  // the ClientHello
}

TlsHandshake::~TlsHandshake() {
  if (!ended_) {
    ended_ = true;
    --in_progress_;
    stats_.in_progress.sub();
  }
}

void TlsHandshake::onEvent(evutil_socket_t, short, void* arg) {
  static_cast<TlsHandshake*>(arg)->step();
}

void TlsHandshake::onTimeout(void* arg) {
  static_cast<TlsHandshake*>(arg)->refuse(network::TlsFailure::kTimeout);
}

void TlsHandshake::step() {
  if (ended_) return;
  switch (transport_->handshake()) {
    case network::HandshakeStatus::kWantRead:
      event_del(write_ev_.get());
      event_add(read_ev_.get(), nullptr);
      return;
    case network::HandshakeStatus::kWantWrite:
      event_del(read_ev_.get());
      event_add(write_ev_.get(), nullptr);
      return;
    case network::HandshakeStatus::kFailed:
      return refuse(transport_->failure());
    case network::HandshakeStatus::kDone:
      break;
  }
  stats_.handshakes[size_t(transport_->version())].inc();
  if (transport_->resumed()) stats_.resumed.inc();
  stats_.duration.observe(double(monotonicMicros() - started_us_) / 1e6);
  std::string_view alpn = transport_->alpn();
  const bool h2 = alpn == "h2";
  auto slot = slot_;
  std::unique_ptr<network::Transport> transport = std::move(transport_);
  std::string peer = std::move(peer_);
  end();
  owner_.startCodec(std::move(slot), std::move(transport), std::move(peer), h2);
}

void TlsHandshake::refuse(network::TlsFailure why) {
  if (ended_) return;
  stats_.failures[size_t(why)].inc();
  if (why == network::TlsFailure::kNotTls) {
    logNotTls(slot_->current->config.name, peer_);
  } else {
    spdlog::debug("listener {}: TLS handshake from {} refused: {} ({})",
                  slot_->current->config.name, peer_, network::tlsFailureName(why),
                  transport_->failureDetail());
  }
  transport_->close();
  end();
}

void TlsHandshake::end() {
  if (ended_) return;
  ended_ = true;
  --in_progress_;
  stats_.in_progress.sub();
  if (read_ev_) event_del(read_ev_.get());
  if (write_ev_) event_del(write_ev_.get());
  timer_.cancel();
  if (transport_) transport_->close();
  owner_.onConnectionClosed(*this);
}

}  // namespace remora::http
