#pragma once
// A scripted upstream for what the demo upstream cannot do on purpose: trailers, a response cut
// short, garbage instead of HTTP, a keep-alive connection dropped on its second request. It
// listens on 127.0.0.1 (a port it picks) and serves the connections it accepts one after the
// other on its own thread, each through the test's handler, which reads and writes raw bytes.

#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace remora::test {

// One accepted connection, blocking I/O bounded by a timeout.
class RawConnection {
 public:
  RawConnection(int fd, std::chrono::milliseconds timeout);
  ~RawConnection();
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  // Reads until `marker` has arrived; returns everything up to and including it and keeps the
  // rest for the next read. "" on EOF or timeout before the marker.
  std::string readUntil(std::string_view marker);
  bool send(std::string_view bytes);
  // Everything this connection has received so far.
  const std::string& received() const { return received_; }

 private:
  int fd_;
  std::chrono::milliseconds timeout_;
  std::string buffer_;
  std::string received_;
};

class RawUpstream {
 public:
  // `handler(conn, index)` runs for the index-th accepted connection (0-based); the connection
  // closes when it returns.
  using Handler = std::function<void(RawConnection& conn, size_t index)>;

  explicit RawUpstream(Handler handler,
                       std::chrono::milliseconds io_timeout = std::chrono::seconds(5));
  ~RawUpstream();
  RawUpstream(const RawUpstream&) = delete;
  RawUpstream& operator=(const RawUpstream&) = delete;

  uint16_t port() const { return port_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  // What each finished connection received, in accept order.
  std::vector<std::string> received() const;
  size_t accepted() const;

 private:
  void run();

  Handler handler_;
  std::chrono::milliseconds io_timeout_;
  int listen_fd_ = -1;
  uint16_t port_ = 0;
  bool stop_ = false;
  mutable std::mutex mu_;
  std::vector<std::string> received_;
  size_t accepted_ = 0;
  std::thread thread_;
};

}  // namespace remora::test
