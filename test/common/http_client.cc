#include "common/http_client.h"

#include <arpa/inet.h>
#include <http_parser.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>

namespace remora::test {
namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

bool hasHeader(const std::vector<std::pair<std::string, std::string>>& headers,
               std::string_view name) {
  return std::any_of(headers.begin(), headers.end(), [&](const auto& h) {
    return h.first.size() == name.size() &&
           strncasecmp(h.first.data(), name.data(), name.size()) == 0;
  });
}

// Parser state for one response.
struct ResponseParse {
  HttpResponse* response = nullptr;
  bool head_request = false;
  bool keep_body = true;
  bool done = false;
  std::string field;
  std::string value;
  bool in_value = false;
  bool head_done = false;  // later fields are trailers

  void flushHeader() {
    if (field.empty()) return;
    std::string name = lower(field);
    auto& map = head_done ? response->trailers : response->headers;
    auto [it, inserted] = map.emplace(name, value);
    if (!inserted) it->second += ", " + value;
    field.clear();
    value.clear();
  }
};

ResponseParse* state(http_parser* p) {
  return static_cast<ResponseParse*>(p->data);
}

const http_parser_settings kSettings = [] {
  http_parser_settings s{};
  s.on_header_field = [](http_parser* p, const char* at, size_t len) {
    ResponseParse* st = state(p);
    if (st->in_value) st->flushHeader();
    st->in_value = false;
    st->field.append(at, len);
    return 0;
  };
  s.on_header_value = [](http_parser* p, const char* at, size_t len) {
    ResponseParse* st = state(p);
    st->in_value = true;
    st->value.append(at, len);
    return 0;
  };
  s.on_headers_complete = [](http_parser* p) {
    ResponseParse* st = state(p);
    st->flushHeader();
    st->in_value = false;
    st->head_done = true;
    st->response->status = p->status_code;
    st->response->http_major = p->http_major;
    st->response->http_minor = p->http_minor;
    st->response->chunked = (p->flags & F_CHUNKED) != 0;
    return st->head_request ? 1 : 0;  // 1: no body follows, whatever the headers say
  };
  s.on_body = [](http_parser* p, const char* at, size_t len) {
    ResponseParse* st = state(p);
    st->response->body_size += len;
    if (st->keep_body) st->response->body.append(at, len);
    return 0;
  };
  s.on_message_complete = [](http_parser* p) {
    ResponseParse* st = state(p);
    st->flushHeader();  // the last trailer, if any
    st->done = true;
    st->response->keep_alive = http_should_keep_alive(p) != 0;
    http_parser_pause(p, 1);  // leave a pipelined next response in the buffer
    return 0;
  };
  return s;
}();

}  // namespace

std::string HttpResponse::header(const std::string& lower_name) const {
  auto it = headers.find(lower_name);
  return it == headers.end() ? std::string() : it->second;
}

HttpClient::HttpClient(uint16_t port, std::chrono::milliseconds timeout) {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) {
    error_ = std::string("socket: ") + std::strerror(errno);
    return;
  }
  timeval tv{static_cast<time_t>(timeout.count() / 1000),
             static_cast<suseconds_t>(timeout.count() % 1000 * 1000)};
  setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  int one = 1;
  setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    error_ = "connect 127.0.0.1:" + std::to_string(port) + ": " + std::strerror(errno);
    close();
  }
}

HttpClient::~HttpClient() {
  close();
}

void HttpClient::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

void HttpClient::shutdownWrite() {
  if (fd_ >= 0) ::shutdown(fd_, SHUT_WR);
}

bool HttpClient::send(std::string_view bytes) {
  if (fd_ < 0) return false;
  while (!bytes.empty()) {
    ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      error_ = std::string("send: ") + std::strerror(errno);
      return false;
    }
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

HttpClient::Fill HttpClient::fill() {
  if (fd_ < 0) return Fill::kError;
  if (eof_) return Fill::kEof;
  char buf[64 * 1024];
  for (;;) {
    ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
    if (n > 0) {
      pending_.append(buf, static_cast<size_t>(n));
      return Fill::kData;
    }
    if (n == 0 || errno == ECONNRESET) {
      eof_ = true;
      if (n != 0) error_ = "connection reset by peer";
      return n == 0 ? Fill::kEof : Fill::kError;
    }
    if (errno == EINTR) continue;
    error_ = errno == EAGAIN || errno == EWOULDBLOCK ? "timed out waiting for data"
                                                     : std::string("recv: ") + std::strerror(errno);
    return Fill::kError;
  }
}

HttpResponse HttpClient::readResponse(bool head_request, bool keep_body) {
  HttpResponse response;
  ResponseParse st;
  st.response = &response;
  st.head_request = head_request;
  st.keep_body = keep_body;
  http_parser parser;
  http_parser_init(&parser, HTTP_RESPONSE);
  parser.data = &st;
  for (;;) {
    if (!pending_.empty()) {
      size_t n = http_parser_execute(&parser, &kSettings, pending_.data(), pending_.size());
      pending_.erase(0, n);
      if (st.done) {
        response.upgraded = parser.upgrade != 0;
        return response;
      }
      if (HTTP_PARSER_ERRNO(&parser) != HPE_OK) {
        response.error =
            std::string("bad response: ") + http_errno_description(HTTP_PARSER_ERRNO(&parser));
        return response;
      }
    }
    Fill r = fill();
    if (r == Fill::kData) continue;
    if (r == Fill::kEof) {
      http_parser_execute(&parser, &kSettings, nullptr, 0);  // EOF ends a close-delimited body
      if (st.done) return response;
      response.error = "connection closed before the response completed";
    } else {
      response.error = fd_ < 0 ? "not connected" : error_;
    }
    return response;
  }
}

HttpResponse HttpClient::request(std::string_view method, std::string_view path,
                                 const std::vector<std::pair<std::string, std::string>>& headers,
                                 std::string_view body) {
  if (!send(requestText(method, path, headers, body))) {
    HttpResponse r;
    r.error = error_.empty() ? "not connected" : error_;
    return r;
  }
  return readResponse(method == "HEAD");
}

std::string HttpClient::readRaw(size_t n) {
  while (pending_.size() < n && fill() == Fill::kData) {
  }
  std::string out = pending_.substr(0, n);
  pending_.erase(0, out.size());
  return out;
}

bool HttpClient::closedByPeer(std::chrono::milliseconds wait) {
  if (!pending_.empty()) return false;
  if (eof_ || fd_ < 0) return true;
  pollfd p{fd_, POLLIN, 0};
  int r = ::poll(&p, 1, static_cast<int>(wait.count()));
  if (r <= 0) return false;
  return fill() != Fill::kData;
}

std::string requestText(std::string_view method, std::string_view path,
                        const std::vector<std::pair<std::string, std::string>>& headers,
                        std::string_view body) {
  std::string text;
  text.append(method).append(" ").append(path).append(" HTTP/1.1\r\n");
  if (!hasHeader(headers, "host")) text += "Host: 127.0.0.1\r\n";
  for (const auto& [name, value] : headers) text += name + ": " + value + "\r\n";
  if (!body.empty() && !hasHeader(headers, "content-length") &&
      !hasHeader(headers, "transfer-encoding")) {
    text += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  }
  text += "\r\n";
  text.append(body);
  return text;
}

std::string httpGet(uint16_t port, const std::string& path) {
  HttpClient client(port);
  HttpResponse r = client.request("GET", path, {{"Connection", "close"}});
  return r.ok() ? r.body : std::string();
}

}  // namespace remora::test
