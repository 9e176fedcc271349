// remora-demo-upstream: a small HTTP/1.1 server that answers by path, used as the application
// behind the sidecar in the README demo and as the real upstream of the integration tests.
//
//   remora-demo-upstream --listen 127.0.0.1:8080 [--name NAME]
//
// Once bound it prints "listening on HOST:PORT" (the real port when asked for port 0) and
// serves until SIGTERM or SIGINT. Every response carries "x-upstream: NAME".
//
//   /              200 "hello from NAME\n" (also anything unmatched)
//   /echo          streams the request body back (same Content-Length, or chunked)
//   /count         "N\n", the number of request body bytes received
//   /bytes/N       N bytes of 'x' with Content-Length; ?chunked=1 for chunked encoding
//   /status/N      status N with a short body (none for 1xx, 204, 304)
//   /slow/MS       "hello from NAME\n" after MS milliseconds
//   /reset         no reply; the connection is reset (SO_LINGER 0)
//   /close         replies with "connection: close", then closes
//   /headers       the request line and headers as received, one "name: value" per line
//   /stats         "connections=N requests=M\n" (accepted so far; requests including this one)
//   /ws            with "Upgrade: websocket": 101, then echoes raw bytes both ways
//
// HEAD gets the headers only; "Expect: 100-continue" gets "100 Continue" before the body.

#include <event2/event.h>
#include <event2/util.h>
#include <netinet/in.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>

#include "server.h"

namespace {

void usage(const char* argv0) {
  std::fprintf(stderr, "usage: %s --listen HOST:PORT [--name NAME]\n", argv0);
}

// HOST:PORT or [V6HOST]:PORT with a numeric host. Written here rather than with
// evutil_parse_sockaddr_port, which refuses port 0, the port tests ask for.
bool parseListen(const std::string& text, sockaddr_storage& addr, int& len) {
  size_t colon = text.rfind(':');
  if (colon == std::string::npos) return false;
  std::string host = text.substr(0, colon);
  char* end = nullptr;
  unsigned long port = std::strtoul(text.c_str() + colon + 1, &end, 10);
  if (colon + 1 == text.size() || *end != '\0' || port > 65535) return false;
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    auto* a6 = reinterpret_cast<sockaddr_in6*>(&addr);
    a6->sin6_family = AF_INET6;
    a6->sin6_port = htons(static_cast<uint16_t>(port));
    len = sizeof(sockaddr_in6);
    return evutil_inet_pton(AF_INET6, host.substr(1, host.size() - 2).c_str(), &a6->sin6_addr) == 1;
  }
  auto* a4 = reinterpret_cast<sockaddr_in*>(&addr);
  a4->sin_family = AF_INET;
  a4->sin_port = htons(static_cast<uint16_t>(port));
  len = sizeof(sockaddr_in);
  return evutil_inet_pton(AF_INET, host.c_str(), &a4->sin_addr) == 1;
}

void onSignal(evutil_socket_t, short, void* arg) {
  event_base_loopexit(static_cast<event_base*>(arg), nullptr);
}

}  // namespace

int main(int argc, char** argv) {
  std::string listen;
  std::string name = "demo-upstream";
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if ((arg == "--listen" || arg == "--name") && i + 1 < argc) {
      (arg == "--listen" ? listen : name) = argv[++i];
    } else if (arg == "--help" || arg == "-h") {
      usage(argv[0]);
      return 0;
    } else {
      usage(argv[0]);
      return 2;
    }
  }
  sockaddr_storage addr{};
  int addr_len = 0;
  if (listen.empty() || !parseListen(listen, addr, addr_len)) {
    usage(argv[0]);
    return 2;
  }
  // A peer that closes while we write must not kill the process.
  std::signal(SIGPIPE, SIG_IGN);

  event_base* base = event_base_new();
  if (base == nullptr) {
    std::fprintf(stderr, "event_base_new failed\n");
    return 1;
  }
  int rc = 0;
  {
    remora::demo::Server server(base, name);
    std::string error;
    uint16_t port = server.listen(reinterpret_cast<sockaddr*>(&addr), addr_len, error);
    if (port == 0) {
      std::fprintf(stderr, "cannot listen on %s: %s\n", listen.c_str(), error.c_str());
      rc = 1;
    } else {
      std::string host = listen.substr(0, listen.rfind(':'));
      std::printf("listening on %s:%u\n", host.c_str(), port);
      std::fflush(stdout);
      event* term = evsignal_new(base, SIGTERM, onSignal, base);
      event* intr = evsignal_new(base, SIGINT, onSignal, base);
      evsignal_add(term, nullptr);
      evsignal_add(intr, nullptr);
      event_base_dispatch(base);
      event_free(term);
      event_free(intr);
    }
  }
  event_base_free(base);
  return rc;
}
