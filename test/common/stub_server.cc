#include "common/stub_server.h"

#include <arpa/inet.h>
#include <http_parser.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <deque>
#include <stdexcept>

namespace remora::test {
namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

// Parser state for one connection: requests completed but not yet answered, in order.
struct RequestParse {
  StubRequest current;
  std::deque<std::pair<StubRequest, bool>> complete;  // request, keep-alive
  std::string field;
  std::string value;
  bool in_value = false;

  void flushHeader() {
    if (field.empty()) return;
    auto [it, inserted] = current.headers.emplace(lower(field), value);
    if (!inserted) it->second += ", " + value;
    field.clear();
    value.clear();
  }
};

RequestParse* state(http_parser* p) {
  return static_cast<RequestParse*>(p->data);
}

const http_parser_settings kSettings = [] {
  http_parser_settings s{};
  s.on_message_begin = [](http_parser* p) {
    RequestParse* st = state(p);
    st->current = StubRequest{};
    st->field.clear();
    st->value.clear();
    st->in_value = false;
    return 0;
  };
  s.on_url = [](http_parser* p, const char* at, size_t len) {
    state(p)->current.target.append(at, len);
    return 0;
  };
  s.on_header_field = [](http_parser* p, const char* at, size_t len) {
    RequestParse* st = state(p);
    if (st->in_value) st->flushHeader();
    st->in_value = false;
    st->field.append(at, len);
    return 0;
  };
  s.on_header_value = [](http_parser* p, const char* at, size_t len) {
    RequestParse* st = state(p);
    st->in_value = true;
    st->value.append(at, len);
    return 0;
  };
  s.on_headers_complete = [](http_parser* p) {
    RequestParse* st = state(p);
    st->flushHeader();
    st->current.method = http_method_str(static_cast<http_method>(p->method));
    return 0;
  };
  s.on_body = [](http_parser* p, const char* at, size_t len) {
    state(p)->current.body.append(at, len);
    return 0;
  };
  s.on_message_complete = [](http_parser* p) {
    RequestParse* st = state(p);
    st->complete.emplace_back(std::move(st->current), http_should_keep_alive(p) != 0);
    st->current = StubRequest{};
    return 0;
  };
  return s;
}();

std::string statusText(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 500:
      return "Internal Server Error";
    case 503:
      return "Service Unavailable";
    default:
      return "Status";
  }
}

bool sendAll(int fd, const std::string& bytes) {
  size_t off = 0;
  while (off < bytes.size()) {
    ssize_t n = ::send(fd, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    off += static_cast<size_t>(n);
  }
  return true;
}

}  // namespace

StubServer::StubServer(Handler handler) : handler_(std::move(handler)) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  int one = 1;
  setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (listen_fd_ < 0 || ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      ::listen(listen_fd_, 128) != 0 ||
      ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    std::string why = std::strerror(errno);
    if (listen_fd_ >= 0) ::close(listen_fd_);
    throw std::runtime_error("StubServer: cannot listen on 127.0.0.1:0: " + why);
  }
  port_ = ntohs(addr.sin_port);
  acceptor_ = std::thread([this] { acceptLoop(); });
}

StubServer::~StubServer() {
  stopping_ = true;
  acceptor_.join();  // polls with a short timeout, so it sees stopping_ soon
  ::close(listen_fd_);
  std::vector<std::thread> threads;
  {
    std::lock_guard<std::mutex> g(mu_);
    // Wakes every connection thread blocked in recv(); the fds are closed after the joins so
    // none can be reused while a thread still holds its number.
    for (int fd : conn_fds_) ::shutdown(fd, SHUT_RDWR);
    threads = std::move(threads_);
  }
  for (auto& t : threads) t.join();
  for (int fd : conn_fds_) ::close(fd);
}

std::vector<StubRequest> StubServer::received() const {
  std::lock_guard<std::mutex> g(mu_);
  return received_;
}

void StubServer::acceptLoop() {
  while (!stopping_) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (::poll(&p, 1, 50) <= 0) continue;
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    std::lock_guard<std::mutex> g(mu_);
    conn_fds_.push_back(fd);
    threads_.emplace_back([this, fd] { serve(fd); });
  }
}

void StubServer::serve(int fd) {
  RequestParse st;
  http_parser parser;
  http_parser_init(&parser, HTTP_REQUEST);
  parser.data = &st;
  char buf[16 * 1024];
  while (!stopping_) {
    ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    size_t used = http_parser_execute(&parser, &kSettings, buf, static_cast<size_t>(n));
    bool bad = used != static_cast<size_t>(n) || HTTP_PARSER_ERRNO(&parser) != HPE_OK;
    bool keep_open = !bad;
    while (!st.complete.empty()) {
      auto [request, keep_alive] = std::move(st.complete.front());
      st.complete.pop_front();
      {
        std::lock_guard<std::mutex> g(mu_);
        received_.push_back(request);
      }
      StubResponse response = handler_(request);
      ++requests_;
      std::string out = "HTTP/1.1 " + std::to_string(response.status) + " " +
                        statusText(response.status) + "\r\n";
      for (const auto& [name, value] : response.headers) out += name + ": " + value + "\r\n";
      out += "content-length: " + std::to_string(response.body.size()) + "\r\n";
      if (!keep_alive) out += "connection: close\r\n";
      out += "\r\n" + response.body;
      if (!sendAll(fd, out) || !keep_alive) {
        keep_open = false;
        break;
      }
    }
    if (!keep_open) break;
  }
  ::shutdown(fd, SHUT_RDWR);
}

}  // namespace remora::test
