#pragma once
// A small client for etcd's v3 JSON gateway (etcd 3.4: /v3/kv/*, /v3/watch, /v3/lease/*), on the
// main thread's event_base through libevent's evhttp client. Keys and values travel base64
// encoded and 64-bit numbers as strings; this file hides both.
//
// Every unary call opens its own connection (closed when the call ends), so a call never waits
// behind another and a dead endpoint fails only the calls that used it. A failed connection moves
// the client to the next endpoint for the following call. Main thread only.

#include <event2/event.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result.h"
#include "config/config.h"

namespace remora::etcd {

std::string base64Encode(std::string_view bytes);
// Nullopt-like: an error for text that is not base64.
Result<std::string> base64Decode(std::string_view text);
// The range_end that selects every key starting with `prefix` (etcd's "prefix + 1").
std::string prefixEnd(std::string_view prefix);
// A 64-bit field as the gateway sends it ("12" or 12); 0 when absent.
int64_t jsonInt(const nlohmann::json& object, const char* field);

struct KeyValue {
  std::string key;
  std::string value;
  int64_t mod_revision = 0;
};

// One HTTP exchange in flight; cancelling it (or destroying the handle) guarantees that no
// callback runs afterwards.
class Exchange;
class ExchangeHandle {
 public:
  ExchangeHandle() = default;
  explicit ExchangeHandle(std::shared_ptr<Exchange*> ref) : ref_(std::move(ref)) {}
  ExchangeHandle(ExchangeHandle&&) noexcept = default;
  ExchangeHandle& operator=(ExchangeHandle&& o) noexcept;
  ~ExchangeHandle() { cancel(); }
  void cancel();

 private:
  // Shared with the exchange, which clears it when it frees itself.
  std::shared_ptr<Exchange*> ref_;
};

class Client {
 public:
  using JsonDone = std::function<void(Result<nlohmann::json>)>;
  // One line of a streamed response (watch): a JSON object, or an error that ends the stream.
  using LineFn = std::function<void(const nlohmann::json&)>;
  using EndFn = std::function<void(const std::string& why)>;

  Client(event_base* base, std::vector<config::SocketAddress> endpoints);

  // POST `body` to a gateway path; `done` gets the response object ("result" unwrapped for
  // streamed unary answers such as lease keepalive) or the error.
  ExchangeHandle call(const std::string& path, const nlohmann::json& body, JsonDone done);
  // Opens a watch stream: `line` per message, `end` once when the stream stops for any reason.
  ExchangeHandle watch(const nlohmann::json& create_request, LineFn line, EndFn end);

  // Typed helpers over call().
  struct RangeResult {
    std::vector<KeyValue> kvs;
    int64_t revision = 0;
  };
  ExchangeHandle range(const std::string& key, const std::string& range_end,
                       std::function<void(Result<RangeResult>)> done);
  ExchangeHandle put(const std::string& key, const std::string& value, int64_t lease,
                     std::function<void(Status)> done);
  // Deletes `key`, or every key in [key, range_end) when range_end is not empty.
  ExchangeHandle del(const std::string& key, const std::string& range_end,
                     std::function<void(Result<int64_t>)> done);  // keys deleted
  ExchangeHandle leaseGrant(int64_t ttl_s, std::function<void(Result<int64_t>)> done);
  // The lease's remaining TTL in seconds; 0 when the lease is gone.
  ExchangeHandle leaseKeepAlive(int64_t id, std::function<void(Result<int64_t>)> done);

  event_base* base() const { return base_; }
  const config::SocketAddress& endpoint() const { return endpoints_[current_]; }

 private:
  friend class Exchange;
  void onTransportFailure() { current_ = (current_ + 1) % endpoints_.size(); }

  event_base* base_;
  std::vector<config::SocketAddress> endpoints_;
  size_t current_ = 0;
};

// Exponential backoff with jitter (so a fleet does not reconnect in lockstep after an etcd
// restart): 100 ms doubling to 5 s, each delay drawn from [d/2, d].
class Backoff {
 public:
  int64_t nextMs();
  void reset() { attempt_ = 0; }

 private:
  uint32_t attempt_ = 0;
};

}  // namespace remora::etcd
