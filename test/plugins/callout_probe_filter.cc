// callout_probe: a plugin built only for tests. Every request it sees becomes one callout to the
// cluster of its config, and the client gets back what the callout's callback saw, so the
// integration tests can check callouts through the real binary over HTTP/1.1 and HTTP/2:
//
//   request                           callout
//   x-callout-method: POST            the method (default GET)
//   x-callout-path: /p                the target (default the request's own path)
//   x-callout-body: text              the body (default none)
//   x-callout-grpc-message: text      the body: `text` as one gRPC length-prefixed message
//   x-callout-header-NAME: value      header NAME: value
//
// The reply is 200 with `x-callout-status: <status, 0 on failure>`, one
// `x-callout-h-NAME: value` per header the callback received (in order; trailers come after the
// response headers), `x-callout-count: <headers received>` and the callout's body as its body.
// Config: {"cluster": "name", "timeout_ms": 1000}.

#include <remora/sdk/config_reader.h>
#include <remora/sdk/filter.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

namespace callout_probe {

namespace sdk = remora::sdk;

struct Config {
  static std::unique_ptr<Config> create(const nlohmann::json& json, sdk::ConfigContext&,
                                        std::string& error) {
    if (!sdk::checkObject(json, "", {"cluster", "timeout_ms"}, error)) return nullptr;
    auto c = std::make_unique<Config>();
    c->cluster = json.value("cluster", "");
    c->timeout = std::chrono::milliseconds(json.value("timeout_ms", 1000));
    if (c->cluster.empty()) {
      error = "cluster: required";
      return nullptr;
    }
    return c;
  }
  std::string cluster;
  std::chrono::milliseconds timeout{1000};
};

class Filter : public sdk::Filter {
 public:
  Filter(const Config& config, sdk::Stream stream) : sdk::Filter(stream), config_(config) {}

  sdk::Status onRequestHeaders(bool) override {
    constexpr std::string_view kHeaderPrefix = "x-callout-header-";
    std::vector<std::string> storage;  // names and values the Header views point into
    stream().forEachHeader(sdk::HeaderKind::kRequest, [&](sdk::Header h) {
      if (h.name.size() > kHeaderPrefix.size() &&
          h.name.substr(0, kHeaderPrefix.size()) == kHeaderPrefix) {
        storage.emplace_back(h.name.substr(kHeaderPrefix.size()));
        storage.emplace_back(h.value);
      }
    });
    std::vector<sdk::Header> headers;
    for (size_t i = 0; i + 1 < storage.size(); i += 2)
      headers.push_back({storage[i], storage[i + 1]});
    std::string method(stream().requestHeader("x-callout-method").value_or("GET"));
    std::string path(stream().requestHeader("x-callout-path").value_or(stream().path()));
    std::string body(stream().requestHeader("x-callout-body").value_or(""));
    if (auto message = stream().requestHeader("x-callout-grpc-message")) {
      // Uncompressed flag, then the 4-byte big-endian length (a header value is short).
      body.assign({'\0', '\0', '\0', static_cast<char>(message->size() >> 8),
                   static_cast<char>(message->size() & 0xff)});
      body.append(*message);
    }
    bool started = httpCall(config_.cluster, method, path, headers, body, config_.timeout,
                            [this](const sdk::CalloutResponse& r) { answer(r); });
    if (!started) {
      stream().sendLocalReply(503, "callout not started\n");
      return sdk::Status::kReplied;
    }
    return sdk::Status::kStop;
  }

 private:
  void answer(const sdk::CalloutResponse& r) {
    std::vector<std::string> storage;
    storage.reserve(2 * r.headerCount() + 4);
    storage.emplace_back("x-callout-status");
    storage.emplace_back(std::to_string(r.status()));
    storage.emplace_back("x-callout-count");
    storage.emplace_back(std::to_string(r.headerCount()));
    for (size_t i = 0; i < r.headerCount(); ++i) {
      sdk::Header h = r.headerAt(i);
      storage.emplace_back("x-callout-h-" + std::string(h.name));
      storage.emplace_back(h.value);
    }
    std::vector<sdk::Header> headers;
    for (size_t i = 0; i + 1 < storage.size(); i += 2)
      headers.push_back({storage[i], storage[i + 1]});
    stream().sendLocalReply(200, r.body(), headers);
  }

  const Config& config_;
};

}  // namespace callout_probe

REMORA_FILTER_PLUGIN("callout_probe", "1.0.0", 500, callout_probe::Config, callout_probe::Filter)
