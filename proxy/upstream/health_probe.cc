#include "upstream/health_probe.h"

#include <arpa/inet.h>
#include <event2/buffer.h>
#include <netinet/in.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace remora::upstream {
namespace {

// A status line longer than this is not an HTTP response worth reading further.
constexpr size_t kMaxStatusLine = 1024;

bool toSockaddr(const config::SocketAddress& a, sockaddr_storage& ss, socklen_t& len) {
  auto* v4 = reinterpret_cast<sockaddr_in*>(&ss);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&ss);
  if (inet_pton(AF_INET, a.host.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(a.port);
    len = sizeof(sockaddr_in);
    return true;
  }
  if (inet_pton(AF_INET6, a.host.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(a.port);
    len = sizeof(sockaddr_in6);
    return true;
  }
  return false;
}

std::string connectError(int err) {
  if (err == ECONNREFUSED) return "connect refused";
  return std::string("connect failed: ") + std::strerror(err);
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

std::unique_ptr<HealthProbe> HealthProbe::start(event_base* base,
                                                const config::SocketAddress& address,
                                                const config::HealthCheck& check, Done done) {
  std::unique_ptr<HealthProbe> probe(new HealthProbe());
  probe->check_ = &check;
  probe->done_ = std::move(done);
  probe->timer_.reset(evtimer_new(base, onTimeout, probe.get()));
  const auto ms = check.timeout.count();
  timeval tv{static_cast<time_t>(ms / 1000), static_cast<suseconds_t>(ms % 1000 * 1000)};
  event_add(probe->timer_.get(), &tv);

  probe->bev_ = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
  bufferevent_setcb(probe->bev_, onRead, nullptr, onEvent, probe.get());
  bufferevent_enable(probe->bev_, EV_READ | EV_WRITE);
  std::string request = "GET " + check.path + " HTTP/1.1\r\nHost: " + address.str() +
                        "\r\nUser-Agent: remora-health-check\r\nConnection: close\r\n\r\n";
  bufferevent_write(probe->bev_, request.data(), request.size());
  sockaddr_storage ss{};
  socklen_t len = 0;
  // Callbacks are deferred, so `done` never runs before the caller holds the probe; a connect
  // that fails at once is reported through the timer, also from the loop.
  if (!toSockaddr(address, ss, len) ||
      bufferevent_socket_connect(probe->bev_, reinterpret_cast<sockaddr*>(&ss), int(len)) != 0) {
    // Reported on the next timer tick rather than from inside start.
    event_active(probe->timer_.get(), EV_WRITE, 0);
  }
  return probe;
}

HealthProbe::~HealthProbe() {
  if (bev_) bufferevent_free(bev_);
}

void HealthProbe::finish(ProbeResult result) {
  if (finished_) return;
  finished_ = true;
  event_del(timer_.get());
  bufferevent_disable(bev_, EV_READ | EV_WRITE);
  done_(result);  // may hand this probe to deferDelete
}

void HealthProbe::onRead(bufferevent* bev, void* arg) {
  auto* self = static_cast<HealthProbe*>(arg);
  evbuffer* in = bufferevent_get_input(bev);
  size_t n = 0;
  char* line = evbuffer_readln(in, &n, EVBUFFER_EOL_CRLF);
  if (line == nullptr) {
    if (evbuffer_get_length(in) > kMaxStatusLine)
      self->finish({ProbeResult::Kind::kError, 0, "status line too long"});
    return;
  }
  std::string_view text(line, n);
  int status = 0;
  // "HTTP/1.1 200 OK": the code is the three digits after the first space.
  if (text.substr(0, 5) == "HTTP/" && text.size() >= 12 && text[8] == ' ') {
    for (size_t i = 9; i < 12 && text[i] >= '0' && text[i] <= '9'; ++i)
      status = status * 10 + (text[i] - '0');
    if (status < 100) status = 0;
  }
  std::free(line);
  if (status == 0) return self->finish({ProbeResult::Kind::kError, 0, "bad response"});
  const auto& ok = self->check_->expected_statuses;
  bool pass = std::find(ok.begin(), ok.end(), uint32_t(status)) != ok.end();
  self->finish({pass ? ProbeResult::Kind::kPass : ProbeResult::Kind::kBadStatus, status,
                "status " + std::to_string(status)});
}

void HealthProbe::onEvent(bufferevent*, short what, void* arg) {
  auto* self = static_cast<HealthProbe*>(arg);
  if (what & BEV_EVENT_CONNECTED) {
    self->connected_ = true;
    return;
  }
  if (what & BEV_EVENT_ERROR) {
    int err = EVUTIL_SOCKET_ERROR();
    if (!self->connected_)
      return self->finish({ProbeResult::Kind::kConnectFailed, 0, connectError(err)});
    return self->finish(
        {ProbeResult::Kind::kError, 0, std::string("reset: ") + std::strerror(err)});
  }
  if (what & BEV_EVENT_EOF)
    self->finish({ProbeResult::Kind::kError, 0, "closed before a response"});
}

void HealthProbe::onTimeout(evutil_socket_t, short what, void* arg) {
  auto* self = static_cast<HealthProbe*>(arg);
  if (what & EV_WRITE)
    return self->finish({ProbeResult::Kind::kConnectFailed, 0, "connect failed"});
  self->finish({ProbeResult::Kind::kTimeout, 0,
                "timeout after " + std::to_string(self->check_->timeout.count()) + " ms"});
}

}  // namespace remora::upstream
