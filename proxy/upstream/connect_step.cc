#include "upstream/connect_step.h"

#include <time.h>

#include "common/monotonic.h"
#include "network/client_socket.h"
#include "network/tls_transport.h"

namespace remora::upstream {
ConnectStep::Result ConnectStep::advance(network::Transport& transport, event* read_ev,
                                         event* write_ev, bool& write_pending,
                                         stats::TlsStats& tls) {
  if (!connected_) {
    if (network::connectError(transport.fd()) != 0) return Result::kConnectFailed;
    connected_ = true;
    handshaking_ = transport.handshakePending();
    if (handshaking_) {
      started_us_ = monotonicMicros();
      tls.in_progress.add();
    }
  }
  if (!handshaking_) return Result::kOpen;
  switch (transport.handshake()) {
    case network::HandshakeStatus::kWantRead:
      if (write_pending) event_del(write_ev);
      write_pending = false;
      event_add(read_ev, nullptr);
      return Result::kWaiting;
    case network::HandshakeStatus::kWantWrite:
      if (!write_pending) event_add(write_ev, nullptr);
      write_pending = true;
      return Result::kWaiting;
    case network::HandshakeStatus::kFailed: {
      handshaking_ = false;
      tls.in_progress.sub();
      auto* t = dynamic_cast<network::TlsTransport*>(&transport);
      tls.failures[size_t(t ? t->failure() : network::TlsFailure::kOther)].inc();
      return Result::kTlsFailed;
    }
    case network::HandshakeStatus::kDone:
      break;
  }
  handshaking_ = false;
  tls.in_progress.sub();
  tls.duration.observe(double(monotonicMicros() - started_us_) / 1e6);
  if (auto* t = dynamic_cast<network::TlsTransport*>(&transport)) {
    tls.handshakes[size_t(t->version())].inc();
    if (t->resumed()) tls.resumed.inc();
  }
  return Result::kOpen;
}

void ConnectStep::timedOut(stats::TlsStats& tls) {
  if (!handshaking_) return;
  handshaking_ = false;
  tls.in_progress.sub();
  tls.failures[size_t(network::TlsFailure::kTimeout)].inc();
}

void ConnectStep::abandoned(stats::TlsStats& tls) {
  if (!handshaking_) return;
  handshaking_ = false;
  tls.in_progress.sub();
}

}  // namespace remora::upstream
