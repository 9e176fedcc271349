#pragma once
// A deliberately plain HTTP/1.1 client for tests: one blocking TCP socket to 127.0.0.1, bytes
// sent exactly as the test wrote them, responses parsed with http_parser. It lets a test
// pipeline, split a body over several writes, send malformed bytes, or watch for a close,
// which a full client library would hide.

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace remora::test {

struct HttpResponse {
  int status = 0;
  int http_major = 0;
  int http_minor = 0;
  std::map<std::string, std::string> headers;   // lowercase names; repeats joined with ", "
  std::map<std::string, std::string> trailers;  // of a chunked body, like headers
  std::string body;                             // decoded (no chunk framing)
  uint64_t body_size = 0;  // bytes of body received, also when the body was not kept
  bool chunked = false;
  bool keep_alive = false;  // http_should_keep_alive() of the response
  bool upgraded = false;    // 101 with Upgrade; bytes after it are the new protocol's
  std::string error;        // empty when a whole response was read

  bool ok() const { return error.empty(); }
  bool has(const std::string& lower_name) const { return headers.count(lower_name) != 0; }
  // The header's value, or "" when absent.
  std::string header(const std::string& lower_name) const;
};

class HttpClient {
 public:
  // Connects at once; connected() and error() tell whether it worked. `timeout` bounds each
  // send and each wait for data.
  explicit HttpClient(uint16_t port, std::chrono::milliseconds timeout = std::chrono::seconds(10));
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  bool connected() const { return fd_ >= 0; }
  const std::string& error() const { return error_; }
  int fd() const { return fd_; }

  // Sends all of `bytes`; false (and error()) on failure.
  bool send(std::string_view bytes);
  // Reads one response. A 1xx interim response (100 Continue) is returned on its own; call
  // again for the final one. `head_request` says the request was HEAD, so no body follows.
  // With keep_body false only body_size is filled, for bodies too large to hold.
  HttpResponse readResponse(bool head_request = false, bool keep_body = true);
  // send() + readResponse() of requestText(...).
  HttpResponse request(std::string_view method, std::string_view path,
                       const std::vector<std::pair<std::string, std::string>>& headers = {},
                       std::string_view body = {});
  // Raw bytes (after an upgrade): waits until `n` bytes arrived, EOF, or the timeout.
  std::string readRaw(size_t n);
  // True if the peer closed (EOF or reset) within `wait`; false if data came or time ran out.
  bool closedByPeer(std::chrono::milliseconds wait = std::chrono::seconds(2));
  void shutdownWrite();
  void close();

 private:
  enum class Fill { kData, kEof, kError };
  // Appends what one recv() returns to pending_. A reset counts as kError (with error_ set)
  // and, like EOF, ends the stream.
  Fill fill();

  int fd_ = -1;
  bool eof_ = false;
  std::string pending_;  // received, not yet consumed (the start of a pipelined next response)
  std::string error_;
};

// "METHOD PATH HTTP/1.1" with a Host header, then `headers`, and a Content-Length for a
// non-empty body unless the headers already frame it (Content-Length or Transfer-Encoding).
std::string requestText(std::string_view method, std::string_view path,
                        const std::vector<std::pair<std::string, std::string>>& headers = {},
                        std::string_view body = {});

// One GET on a fresh connection ("connection: close"); returns the body, or "" on failure.
std::string httpGet(uint16_t port, const std::string& path);

}  // namespace remora::test
