#pragma once
// StubServer: an in-process HTTP/1.1 server on 127.0.0.1 whose answers a test scripts with a
// handler, for peers the demo upstream cannot play: an endpoint that always fails (retries), an
// authorization service that sets headers on its answer (ext_authz). Keep-alive is supported,
// since remora pools its upstream connections. One thread per connection; fine for tests.

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace remora::test {

struct StubRequest {
  std::string method;
  std::string target;                          // path and query as received
  std::map<std::string, std::string> headers;  // lowercase names; repeats joined with ", "
  std::string body;

  std::string header(const std::string& lower_name) const {
    auto it = headers.find(lower_name);
    return it == headers.end() ? std::string() : it->second;
  }
};

struct StubResponse {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

class StubServer {
 public:
  using Handler = std::function<StubResponse(const StubRequest&)>;

  // Binds 127.0.0.1:0 and starts serving at once. The handler runs on connection threads, so
  // it must be thread-safe. Throws std::runtime_error if it cannot bind.
  explicit StubServer(Handler handler);
  // Stops accepting, closes every connection and joins the threads.
  ~StubServer();
  StubServer(const StubServer&) = delete;
  StubServer& operator=(const StubServer&) = delete;

  uint16_t port() const { return port_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  // Requests answered so far.
  uint64_t requests() const { return requests_.load(); }
  // Copies of the requests received so far (also those still being answered), oldest first.
  std::vector<StubRequest> received() const;

 private:
  void acceptLoop();
  void serve(int fd);

  Handler handler_;
  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<uint64_t> requests_{0};
  mutable std::mutex mu_;
  std::vector<int> conn_fds_;
  std::vector<std::thread> threads_;
  std::vector<StubRequest> received_;
  std::thread acceptor_;
};

}  // namespace remora::test
