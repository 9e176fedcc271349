#include "upstream/health_probe.h"

#include <event2/buffer.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "network/client_socket.h"
#include "network/plain_transport.h"

namespace remora::upstream {
namespace {

// A status line longer than this is not an HTTP response worth reading further.
constexpr size_t kMaxStatusLine = 1024;

std::string connectFailure(int err) {
  if (err == ECONNREFUSED) return "connect refused";
  return std::string("connect failed: ") + std::strerror(err);
}

std::string resetDetail(int err) {
  return std::string("reset: ") + std::strerror(err);
}

}  // namespace

const char* probeResultLabel(ProbeResult::Kind kind) {
  switch (kind) {
    case ProbeResult::Kind::kPass:
      return "success";
    case ProbeResult::Kind::kBadStatus:
      return "bad_status";
    case ProbeResult::Kind::kTimeout:
      return "timeout";
    case ProbeResult::Kind::kConnectFailed:
      return "connect_failed";
    case ProbeResult::Kind::kError:
      return "error";
  }
  return "error";
}

std::unique_ptr<HealthProbe> HealthProbe::start(
    event_base* base, const config::SocketAddress& address, const config::HealthCheck& check,
    std::shared_ptr<const network::TlsClientContext> tls, Done done) {
  std::unique_ptr<HealthProbe> probe(new HealthProbe());
  HealthProbe* p = probe.get();
  p->check_ = &check;
  p->done_ = std::move(done);
  p->timer_.reset(evtimer_new(base, onTimeout, p));
  const auto ms = check.timeout.count();
  timeval tv{static_cast<time_t>(ms / 1000), static_cast<suseconds_t>(ms % 1000 * 1000)};
  event_add(p->timer_.get(), &tv);

  p->out_.reset(evbuffer_new());
  std::string request = "GET " + check.path + " HTTP/1.1\r\nHost: " + address.str() +
                        "\r\nUser-Agent: remora-health-check\r\nConnection: close\r\n\r\n";
  evbuffer_add(p->out_.get(), request.data(), request.size());

  sockaddr_storage ss{};
  socklen_t len = 0;
  Fd fd;
  bool started = address.toSockaddr(ss, len) && network::startConnect(ss, len, fd);
  if (fd.valid()) {
    p->read_ev_.reset(event_new(base, fd.get(), EV_READ | EV_PERSIST, onSocket, p));
    p->write_ev_.reset(event_new(base, fd.get(), EV_WRITE | EV_PERSIST, onSocket, p));
    if (tls) {
      p->transport_ = tls->connect(std::move(fd), nullptr);
    } else {
      p->transport_ = std::make_unique<network::PlainTransport>(std::move(fd));
    }
  }
  // Events only fire from the loop, so `done` never runs before the caller holds the probe; a
  // connect that fails at once is reported through the timer, also from the loop.
  if (started) {
    event_add(p->write_ev_.get(), nullptr);
  } else {
    event_active(p->timer_.get(), EV_WRITE, 0);
  }
  return probe;
}

HealthProbe::~HealthProbe() {
  if (read_ev_) event_del(read_ev_.get());
  if (write_ev_) event_del(write_ev_.get());
  if (transport_) transport_->close();
}

void HealthProbe::finish(ProbeResult result) {
  if (finished_) return;
  finished_ = true;
  event_del(timer_.get());
  if (read_ev_) event_del(read_ev_.get());
  if (write_ev_) event_del(write_ev_.get());
  done_(result);  // may hand this probe to deferDelete
}

void HealthProbe::onSocket(evutil_socket_t, short what, void* arg) {
  auto* self = static_cast<HealthProbe*>(arg);
  if (!self->connected_) {
    if (int err = network::connectError(self->transport_->fd()); err != 0)
      return self->finish({ProbeResult::Kind::kConnectFailed, 0, connectFailure(err)});
    self->connected_ = true;
  }
  if (!self->open_) {
    switch (self->step_.advance(*self->transport_, self->read_ev_.get(), self->write_ev_.get(),
                                self->write_pending_, self->tls_stats_)) {
      case ConnectStep::Result::kWaiting:
        return;
      case ConnectStep::Result::kConnectFailed:
        return self->finish({ProbeResult::Kind::kConnectFailed, 0, "connect failed"});
      case ConnectStep::Result::kTlsFailed: {
        auto* t = static_cast<network::TlsTransport*>(self->transport_.get());
        return self->finish(
            {ProbeResult::Kind::kConnectFailed, 0,
             std::string("TLS handshake failed: ") + network::tlsFailureName(t->failure())});
      }
      case ConnectStep::Result::kOpen:
        break;
    }
    self->open_ = true;
    event_add(self->read_ev_.get(), nullptr);
    what |= EV_WRITE;  // the request goes now, whatever the handshake last waited for
  }
  if (what & EV_WRITE) self->onWritable();
  if ((what & EV_READ) && !self->finished_) self->onReadable();
}

void HealthProbe::onWritable() {
  size_t len = evbuffer_get_length(out_.get());
  if (network::writeAvailable(*transport_, out_.get(), len) < 0)
    return finish({ProbeResult::Kind::kError, 0, resetDetail(errno)});
  if (len == 0 && !transport_->wantsWrite()) event_del(write_ev_.get());
}

void HealthProbe::onReadable() {
  char buf[kMaxStatusLine + 2];
  ssize_t n = transport_->read(buf, sizeof(buf));
  if (n < 0) {
    if (errno == EAGAIN || errno == EINTR) return;
    return finish({ProbeResult::Kind::kError, 0, resetDetail(errno)});
  }
  if (n == 0) return finish({ProbeResult::Kind::kError, 0, "closed before a response"});
  in_.append(buf, size_t(n));
  if (!statusLineArrived() && in_.size() > kMaxStatusLine)
    finish({ProbeResult::Kind::kError, 0, "status line too long"});
}

bool HealthProbe::statusLineArrived() {
  size_t eol = in_.find('\n');
  if (eol == std::string::npos) return false;
  std::string_view text(in_.data(), eol);
  if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
  int status = 0;
  // "HTTP/1.1 200 OK": the code is the three digits after the first space.
  if (text.substr(0, 5) == "HTTP/" && text.size() >= 12 && text[8] == ' ') {
    for (size_t i = 9; i < 12 && text[i] >= '0' && text[i] <= '9'; ++i)
      status = status * 10 + (text[i] - '0');
    if (status < 100) status = 0;
  }
  if (status == 0) {
    finish({ProbeResult::Kind::kError, 0, "bad response"});
    return true;
  }
  const auto& ok = check_->expected_statuses;
  bool pass = std::find(ok.begin(), ok.end(), uint32_t(status)) != ok.end();
  finish({pass ? ProbeResult::Kind::kPass : ProbeResult::Kind::kBadStatus, status,
          "status " + std::to_string(status)});
  return true;
}

void HealthProbe::onTimeout(evutil_socket_t, short what, void* arg) {
  auto* self = static_cast<HealthProbe*>(arg);
  if (what & EV_WRITE)
    return self->finish({ProbeResult::Kind::kConnectFailed, 0, "connect failed"});
  self->finish({ProbeResult::Kind::kTimeout, 0,
                "timeout after " + std::to_string(self->check_->timeout.count()) + " ms"});
}

}  // namespace remora::upstream
