#include "etcd/etcd_client.h"

#include <event2/buffer.h>
#include <event2/http.h>
#include <nettle/base64.h>

#include <random>

namespace remora::etcd {

namespace {

// Unary calls are small and local; a watch stream may stay silent for as long as nothing
// changes, so its read timeout only catches a peer that vanished without closing (etcd sends
// a progress notification at least every 10 minutes when asked to).
constexpr int kCallTimeoutS = 5;
constexpr int kWatchTimeoutS = 15 * 60;

}  // namespace

// Nettle's base64 rather than OpenSSL's: the kernel links no libcrypto, whose mapping and
// relocation alone cost an idle sidecar about 1.4 MiB of RSS (docs/performance.md).
std::string base64Encode(std::string_view bytes) {
  std::string out(BASE64_ENCODE_RAW_LENGTH(bytes.size()), '\0');
  base64_encode_raw(out.data(), bytes.size(), reinterpret_cast<const uint8_t*>(bytes.data()));
  return out;
}

Result<std::string> base64Decode(std::string_view text) {
  if (text.size() % 4 != 0) return Error{"base64: length not a multiple of 4"};
  std::string out(BASE64_DECODE_LENGTH(text.size()), '\0');
  base64_decode_ctx ctx;
  base64_decode_init(&ctx);
  size_t len = out.size();
  if (!base64_decode_update(&ctx, &len, reinterpret_cast<uint8_t*>(out.data()), text.size(),
                            text.data()) ||
      !base64_decode_final(&ctx))
    return Error{"base64: invalid text"};
  out.resize(len);
  return out;
}

std::string prefixEnd(std::string_view prefix) {
  std::string end(prefix);
  while (!end.empty()) {
    if (static_cast<unsigned char>(end.back()) < 0xff) {
      end.back() = static_cast<char>(end.back() + 1);
      return end;
    }
    end.pop_back();
  }
  return std::string(1, '\0');  // every key
}

int64_t jsonInt(const nlohmann::json& object, const char* field) {
  auto it = object.find(field);
  if (it == object.end()) return 0;
  if (it->is_number_integer()) return it->get<int64_t>();
  if (it->is_string()) {
    try {
      return std::stoll(it->get<std::string>());
    } catch (const std::exception&) {
      return 0;
    }
  }
  return 0;
}

int64_t Backoff::nextMs() {
  static thread_local std::minstd_rand rng{std::random_device{}()};
  const int64_t cap = std::min<int64_t>(5000, int64_t{100} << std::min<uint32_t>(attempt_, 6));
  ++attempt_;
  return cap / 2 + int64_t(rng() % uint64_t(cap / 2 + 1));
}

// One POST on its own connection. Owns itself: freed (with its connection) from a zero timer
// after it finished or was cancelled, never inside an evhttp callback of its own connection.
class Exchange {
 public:
  Exchange(Client& client, event_base* base)
      : ref(std::make_shared<Exchange*>(this)), client_(client), base_(base) {}
  ~Exchange() { *ref = nullptr; }

  std::shared_ptr<Exchange*> ref;

  void start(const std::string& path, const std::string& body, int timeout_s) {
    const config::SocketAddress& ep = client_.endpoint();
    conn_ = evhttp_connection_base_new(base_, nullptr, ep.host.c_str(), ep.port);
    if (!conn_) return failSoon("cannot create a connection");
    evhttp_connection_set_timeout(conn_, timeout_s);
    evhttp_connection_set_retries(conn_, 0);
    evhttp_request* req = evhttp_request_new(&Exchange::onDone, this);
    if (line_) evhttp_request_set_chunked_cb(req, &Exchange::onChunk);
    evkeyvalq* headers = evhttp_request_get_output_headers(req);
    const std::string host = ep.str();
    evhttp_add_header(headers, "Host", host.c_str());
    evhttp_add_header(headers, "Content-Type", "application/json");
    evbuffer_add(evhttp_request_get_output_buffer(req), body.data(), body.size());
    if (evhttp_make_request(conn_, req, EVHTTP_REQ_POST, path.c_str()) != 0)
      failSoon("cannot send the request");
  }

  void cancel() {
    done_ = nullptr;
    line_ = nullptr;
    end_ = nullptr;
    destroySoon();
  }

  std::function<void(int status, std::string body)> done_;  // unary
  Client::LineFn line_;                                     // streamed
  Client::EndFn end_;

 private:
  void failSoon(const char* why) {
    why_ = why;
    status_failed_ = true;
    destroySoon();
  }

  static void onChunk(evhttp_request* req, void* arg) {
    auto* self = static_cast<Exchange*>(arg);
    evbuffer* in = evhttp_request_get_input_buffer(req);
    const size_t n = evbuffer_get_length(in);
    self->pending_.append(reinterpret_cast<const char*>(evbuffer_pullup(in, -1)), n);
    evbuffer_drain(in, n);
    size_t start = 0;
    for (size_t nl; (nl = self->pending_.find('\n', start)) != std::string::npos; start = nl + 1) {
      if (!self->line_) break;
      std::string_view line(self->pending_.data() + start, nl - start);
      if (line.empty() || line == "\r") continue;
      nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
      if (j.is_discarded()) continue;
      self->line_(j);
    }
    self->pending_.erase(0, std::min(start, self->pending_.size()));
  }

  static void onDone(evhttp_request* req, void* arg) {
    auto* self = static_cast<Exchange*>(arg);
    const int status = req ? evhttp_request_get_response_code(req) : 0;
    if (status == 0) self->client_.onTransportFailure();
    std::string body;
    if (req) {
      evbuffer* in = evhttp_request_get_input_buffer(req);
      body.assign(reinterpret_cast<const char*>(evbuffer_pullup(in, -1)), evbuffer_get_length(in));
    }
    if (auto done = std::move(self->done_)) {
      self->done_ = nullptr;
      done(status, std::move(body));
    } else if (auto end = std::move(self->end_)) {
      self->end_ = nullptr;
      self->line_ = nullptr;
      end(status == 0 ? "connection to etcd lost"
                      : "watch stream ended (HTTP " + std::to_string(status) + ")");
    }
    self->destroySoon();
  }

  void destroySoon() {
    if (destroying_) return;
    destroying_ = true;
    timeval zero{0, 0};
    event_base_once(base_, -1, EV_TIMEOUT, &Exchange::onDestroy, this, &zero);
  }

  static void onDestroy(evutil_socket_t, short, void* arg) {
    auto* self = static_cast<Exchange*>(arg);
    if (self->status_failed_) {
      // start() could not even send: report it like a transport failure.
      if (auto done = std::move(self->done_)) done(0, self->why_);
      if (auto end = std::move(self->end_)) end(self->why_);
    }
    if (self->conn_) evhttp_connection_free(self->conn_);  // frees a request still pending
    delete self;
  }

  Client& client_;
  event_base* base_;
  evhttp_connection* conn_ = nullptr;
  std::string pending_;
  std::string why_;
  bool status_failed_ = false;
  bool destroying_ = false;
};

ExchangeHandle& ExchangeHandle::operator=(ExchangeHandle&& o) noexcept {
  if (this != &o) {
    cancel();
    ref_ = std::move(o.ref_);
  }
  return *this;
}

void ExchangeHandle::cancel() {
  if (ref_ && *ref_) (*ref_)->cancel();
  ref_.reset();
}

Client::Client(event_base* base, std::vector<config::SocketAddress> endpoints)
    : base_(base), endpoints_(std::move(endpoints)) {}

ExchangeHandle Client::call(const std::string& path, const nlohmann::json& body, JsonDone done) {
  auto* ex = new Exchange(*this, base_);
  // The handle is usually dropped by the callback's owner when `done` runs; the exchange stays
  // valid until its own destroy timer, so a late cancel() is harmless.
  ex->done_ = [done = std::move(done)](int status, std::string text) {
    if (status == 0) return done(Error{"etcd unreachable: " + (text.empty() ? "no answer" : text)});
    // Streamed unary answers (lease keepalive) carry one object per line.
    const size_t nl = text.find('\n');
    nlohmann::json j = nlohmann::json::parse(text.substr(0, nl), nullptr, false);
    if (j.is_discarded()) return done(Error{"etcd: HTTP " + std::to_string(status) + ", bad JSON"});
    if (j.contains("error")) {
      const nlohmann::json& e = j["error"];
      return done(Error{"etcd: " + e.value("message", e.dump())});
    }
    if (status != 200)
      return done(Error{"etcd: HTTP " + std::to_string(status) + ": " +
                        j.value("message", j.value("error", text))});
    if (j.contains("result")) return done(j["result"]);
    done(std::move(j));
  };
  ex->start(path, body.dump(), kCallTimeoutS);
  return ExchangeHandle(ex->ref);
}

ExchangeHandle Client::watch(const nlohmann::json& create_request, LineFn line, EndFn end) {
  auto* ex = new Exchange(*this, base_);
  ex->line_ = std::move(line);
  ex->end_ = std::move(end);
  ex->start("/v3/watch", nlohmann::json{{"create_request", create_request}}.dump(), kWatchTimeoutS);
  return ExchangeHandle(ex->ref);
}

ExchangeHandle Client::range(const std::string& key, const std::string& range_end,
                             std::function<void(Result<RangeResult>)> done) {
  nlohmann::json body = {{"key", base64Encode(key)}};
  if (!range_end.empty()) body["range_end"] = base64Encode(range_end);
  return call("/v3/kv/range", body, [done = std::move(done)](Result<nlohmann::json> r) {
    if (!r) return done(Error{r.error()});
    RangeResult out;
    out.revision = jsonInt(r->value("header", nlohmann::json::object()), "revision");
    for (const nlohmann::json& kv : r->value("kvs", nlohmann::json::array())) {
      auto key = base64Decode(kv.value("key", ""));
      auto value = base64Decode(kv.value("value", ""));
      if (!key || !value) continue;
      out.kvs.push_back(
          {std::move(key.value()), std::move(value.value()), jsonInt(kv, "mod_revision")});
    }
    done(std::move(out));
  });
}

ExchangeHandle Client::put(const std::string& key, const std::string& value, int64_t lease,
                           std::function<void(Status)> done) {
  nlohmann::json body = {{"key", base64Encode(key)}, {"value", base64Encode(value)}};
  if (lease != 0) body["lease"] = std::to_string(lease);
  return call("/v3/kv/put", body, [done = std::move(done)](Result<nlohmann::json> r) {
    done(r ? Status() : Status(Error{r.error()}));
  });
}

ExchangeHandle Client::del(const std::string& key, const std::string& range_end,
                           std::function<void(Result<int64_t>)> done) {
  nlohmann::json body = {{"key", base64Encode(key)}};
  if (!range_end.empty()) body["range_end"] = base64Encode(range_end);
  return call("/v3/kv/deleterange", body, [done = std::move(done)](Result<nlohmann::json> r) {
    if (!r) return done(Error{r.error()});
    done(jsonInt(*r, "deleted"));
  });
}

ExchangeHandle Client::leaseGrant(int64_t ttl_s, std::function<void(Result<int64_t>)> done) {
  return call("/v3/lease/grant", {{"TTL", std::to_string(ttl_s)}},
              [done = std::move(done)](Result<nlohmann::json> r) {
                if (!r) return done(Error{r.error()});
                const int64_t id = jsonInt(*r, "ID");
                if (id == 0) return done(Error{"etcd: lease grant without an ID"});
                done(id);
              });
}

ExchangeHandle Client::leaseKeepAlive(int64_t id, std::function<void(Result<int64_t>)> done) {
  return call("/v3/lease/keepalive", {{"ID", std::to_string(id)}},
              [done = std::move(done)](Result<nlohmann::json> r) {
                if (!r) return done(Error{r.error()});
                done(jsonInt(*r, "TTL"));
              });
}

}  // namespace remora::etcd
