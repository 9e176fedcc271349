// sdk_probe: a plugin built only for tests. Each request header `x-probe: <action>` makes it
// exercise one corner of the SDK through the real C ABI (exceptions, local replies, callouts,
// routes, per-worker state, the event bus), so test/unit/filters/sdk_test.cc can check what
// reaches the host.

#include <remora/sdk/config_reader.h>
#include <remora/sdk/filter.h>
#include <remora/sdk/per_worker.h>

#include <memory>
#include <stdexcept>
#include <string>

namespace probe {

using remora::sdk::Status;
namespace sdk = remora::sdk;

struct WorkerState {
  uint64_t requests = 0;
};

class Config {
 public:
  static std::unique_ptr<Config> create(const nlohmann::json& json, sdk::ConfigContext& ctx,
                                        std::string& error) {
    if (!sdk::checkObject(json, "", {"fail", "throw", "ctor_throw", "greeting"}, error)) {
      return nullptr;
    }
    if (json.value("fail", false)) {
      error = "fail: requested";
      return nullptr;
    }
    if (json.value("throw", false)) throw std::runtime_error("create threw on purpose");
    auto c = std::make_unique<Config>();
    c->ctor_throw = json.value("ctor_throw", false);
    c->greeting = json.value("greeting", std::string("hi"));
    c->requests = ctx.counter("probe_requests_total", "Requests seen");
    c->logs = ctx.counter("probe_logs_total", "Streams logged");
    c->latency = ctx.histogram("probe_latency_seconds", "Fake latency");
    c->inflight = ctx.gauge("probe_inflight", "Streams alive");
    auto by_method = ctx.counterFamily("probe_by_method_total", "Requests by method", "method");
    c->get = ctx.series(by_method, "GET");
    c->post = ctx.series(by_method, "POST");
    return c;
  }

  // The plugin's event-bus presence: answers "probe.ping" with "probe.pong".
  static bool onPluginStart(std::string&) {
    ping() = sdk::Subscription::subscribe("probe.ping", [](std::string_view, std::string_view p) {
      sdk::publish("probe.pong", std::string(p) + "!");
    });
    return ping().active();
  }
  static void onPluginStop() { ping().reset(); }
  static sdk::Subscription& ping() {
    static sdk::Subscription s;
    return s;
  }

  bool ctor_throw = false;
  std::string greeting;
  sdk::Counter requests, logs, get, post;
  sdk::Histogram latency;
  sdk::Gauge inflight;
  sdk::PerWorker<WorkerState> workers;
};

class Filter : public sdk::Filter {
 public:
  Filter(const Config& config, sdk::Stream stream) : sdk::Filter(stream), config_(config) {
    if (config.ctor_throw) throw std::runtime_error("constructor threw on purpose");
    config_.inflight.add(stream, 1);
  }
  ~Filter() override { config_.inflight.sub(stream(), 1); }

  Status onRequestHeaders(bool) override {
    const sdk::Stream& s = stream();
    config_.requests.inc(s);
    if (s.method() == "GET") config_.get.inc(s);
    if (s.method() == "POST") config_.post.inc(s);
    config_.latency.observe(s, 0.25);
    s.setMetadata("probe.seen", std::string(s.method()) + " " + std::string(s.path()));
    std::string action(s.requestHeader("x-probe").value_or(""));
    if (action == "throw") throw std::runtime_error("hook threw on purpose");
    if (action == "reply") {
      s.sendLocalReply(418, "short and stout", {{"x-teapot", config_.greeting}});
      return Status::kReplied;
    }
    if (action == "callout" || action == "callout-throw") {
      bool throws = action == "callout-throw";
      bool started =
          httpCall("auth", "POST", "/check", {{"x-from", "probe"}}, "payload",
                   std::chrono::milliseconds(250), [this, throws](const sdk::CalloutResponse& r) {
                     if (throws) throw std::runtime_error("callback threw on purpose");
                     if (r.status() == 200) {
                       stream().setRequestHeader("x-auth", r.header("x-user").value_or("?"));
                       stream().resume();
                     } else {
                       stream().sendLocalReply(403, r.failed() ? r.body() : "denied");
                     }
                   });
      if (!started) {
        stream().sendLocalReply(503, "callout not started");
        return Status::kReplied;
      }
      return Status::kStop;
    }
    if (action == "route") {
      std::string error;
      sdk::Route r;
      r.cluster = s.requestHeader("x-cluster").value_or("");
      r.timeout = std::chrono::milliseconds(1500);
      r.retry_max = 2;
      r.retry_on = REMORA_RETRY_5XX | REMORA_RETRY_RESET;
      r.path = "/rewritten";
      if (!s.setRoute(r, &error)) s.setMetadata("probe.route_error", error);
    }
    if (action == "worker") {
      uint64_t n = ++config_.workers.local().requests;
      s.setRequestHeader("x-worker-requests", std::to_string(n));
    }
    if (action == "publish") sdk::publish("probe.topic", s.path());
    if (action == "headers") {
      std::string all;
      s.forEachHeader(sdk::HeaderKind::kRequest, [&](sdk::Header h) {
        all += std::string(h.name) + "=" + std::string(h.value) + ";";
      });
      s.setMetadata("probe.headers", all);
      s.removeRequestHeader("x-remove-me");
      s.addRequestHeader("x-added", "1");
      s.addRequestHeader("x-added", "2");
      s.setMetadata("probe.facts", std::string(s.authority()) + "|" +
                                       std::string(s.clientAddress()) + "|" +
                                       std::string(s.listenerName()));
    }
    return Status::kContinue;
  }

  Status onRequestBody(std::string_view chunk, bool end_stream) override {
    body_bytes_ += chunk.size();
    if (end_stream) stream().setMetadata("probe.body_bytes", std::to_string(body_bytes_));
    return Status::kContinue;
  }

  Status onResponseHeaders(bool) override {
    stream().setResponseHeader("x-probe-status", std::to_string(stream().responseStatus()));
    return Status::kContinue;
  }

  void onLog() override { config_.logs.inc(stream()); }

 private:
  const Config& config_;
  size_t body_bytes_ = 0;
};

}  // namespace probe

REMORA_FILTER_PLUGIN("sdk_probe", "0.0.1", 42, probe::Config, probe::Filter)
