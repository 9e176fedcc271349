#include "common/raw_upstream.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace remora::test {

RawConnection::RawConnection(int fd, std::chrono::milliseconds timeout)
    : fd_(fd), timeout_(timeout) {}

RawConnection::~RawConnection() {
  ::close(fd_);
}

std::string RawConnection::readUntil(std::string_view marker) {
  auto deadline = std::chrono::steady_clock::now() + timeout_;
  for (;;) {
    size_t at = buffer_.find(marker);
    if (at != std::string::npos) {
      std::string out = buffer_.substr(0, at + marker.size());
      buffer_.erase(0, out.size());
      return out;
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return "";
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
    char buf[16 * 1024];
    ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return "";
    buffer_.append(buf, static_cast<size_t>(n));
    received_.append(buf, static_cast<size_t>(n));
  }
}

bool RawConnection::send(std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

RawUpstream::RawUpstream(Handler handler, std::chrono::milliseconds io_timeout)
    : handler_(std::move(handler)), io_timeout_(io_timeout) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  if (listen_fd_ < 0 || ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), len) != 0 ||
      ::listen(listen_fd_, 64) != 0 ||
      ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    throw std::runtime_error(std::string("RawUpstream: ") + std::strerror(errno));
  }
  port_ = ntohs(addr.sin_port);
  thread_ = std::thread([this] { run(); });
}

RawUpstream::~RawUpstream() {
  {
    std::lock_guard<std::mutex> g(mu_);
    stop_ = true;
  }
  thread_.join();
  ::close(listen_fd_);
}

void RawUpstream::run() {
  for (;;) {
    {
      std::lock_guard<std::mutex> g(mu_);
      if (stop_) return;
    }
    pollfd p{listen_fd_, POLLIN, 0};
    if (::poll(&p, 1, 20) <= 0) continue;  // short, so the destructor never waits long
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    size_t index;
    {
      std::lock_guard<std::mutex> g(mu_);
      index = accepted_++;
    }
    RawConnection conn(fd, io_timeout_);
    handler_(conn, index);
    std::lock_guard<std::mutex> g(mu_);
    received_.push_back(conn.received());
  }
}

std::vector<std::string> RawUpstream::received() const {
  std::lock_guard<std::mutex> g(mu_);
  return received_;
}

size_t RawUpstream::accepted() const {
  std::lock_guard<std::mutex> g(mu_);
  return accepted_;
}

}  // namespace remora::test
