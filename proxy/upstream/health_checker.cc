#include "upstream/health_checker.h"

#include <spdlog/spdlog.h>

namespace remora::upstream {

struct HealthChecker::Target {
  HealthChecker* owner = nullptr;
  std::string cluster;
  config::SocketAddress address;
  std::string name;  // address.str(), the endpoint's name everywhere else
  config::HealthCheck check;
  std::shared_ptr<const network::TlsClientContext> tls;  // the cluster's, or nullptr
  EndpointHealth health;
  EventPtr timer;
  std::unique_ptr<HealthProbe> probe;  // in flight
};

HealthChecker::HealthChecker(Dispatcher& main, Publish publish)
    : main_(main), publish_(std::move(publish)) {}

HealthChecker::~HealthChecker() = default;

void HealthChecker::update(
    const config::Config& config,
    const std::map<std::string, std::shared_ptr<const network::TlsClientContext>>& tls) {
  std::map<std::pair<std::string, std::string>, std::unique_ptr<Target>> next;
  for (const config::Cluster& c : config.clusters) {
    if (c.type != config::ClusterType::kStatic || !c.health_check.enabled()) continue;
    for (const config::SocketAddress& a : c.endpoints) {
      auto key = std::make_pair(c.name, a.str());
      if (next.count(key)) continue;  // a repeated endpoint is checked once
      auto old = targets_.find(key);
      auto context = tls.find(c.name);
      auto ctx = context == tls.end() ? nullptr : context->second;
      if (old != targets_.end() && old->second->check == c.health_check) {
        old->second->tls = std::move(ctx);  // rotated material: the next check uses it
        next.emplace(key, std::move(old->second));
        continue;
      }
      auto t = std::make_unique<Target>();
      t->owner = this;
      t->cluster = c.name;
      t->address = a;
      t->name = key.second;
      t->check = c.health_check;
      t->tls = std::move(ctx);
      t->timer.reset(event_new(main_.base(), -1, EV_PERSIST, onTimer, t.get()));
      const auto ms = c.health_check.interval.count();
      timeval tv{static_cast<time_t>(ms / 1000), static_cast<suseconds_t>(ms % 1000 * 1000)};
      event_add(t->timer.get(), &tv);
      event_active(t->timer.get(), EV_TIMEOUT, 0);  // the first check now, not an interval later
      next.emplace(key, std::move(t));
    }
  }
  targets_.swap(next);  // removed targets (left in `next`) stop their timers and probes here
  for (auto& [key, t] : targets_)
    if (!t->health.healthy) publish_(t->cluster, t->name, false);
}

const HealthChecker::EndpointHealth* HealthChecker::find(const std::string& cluster,
                                                         const std::string& address) const {
  auto it = targets_.find({cluster, address});
  return it == targets_.end() ? nullptr : &it->second->health;
}

void HealthChecker::onTimer(evutil_socket_t, short, void* arg) {
  auto* t = static_cast<Target*>(arg);
  t->owner->probe(*t);
}

void HealthChecker::probe(Target& t) {
  if (t.probe) return;  // the previous check is still running (timeout == interval)
  t.probe = HealthProbe::start(main_.base(), t.address, t.check, t.tls,
                               [this, &t](const ProbeResult& r) { onResult(t, r); });
}

void HealthChecker::onResult(Target& t, const ProbeResult& result) {
  // The probe is inside its own callback: delete it once that returns.
  main_.deferDelete(std::move(t.probe));
  ++results_[{t.cluster, probeResultLabel(result.kind)}];
  EndpointHealth& h = t.health;
  h.last_result = result.detail;
  if (result.kind == ProbeResult::Kind::kPass) {
    h.consecutive_failures = 0;
    ++h.consecutive_passes;
    if (!h.healthy && h.consecutive_passes >= t.check.healthy_threshold) {
      h.healthy = true;
      h.reason.clear();
      spdlog::info("cluster {} endpoint {} is healthy again ({} passed checks)", t.cluster, t.name,
                   h.consecutive_passes);
      publish_(t.cluster, t.name, true);
    }
    return;
  }
  h.consecutive_passes = 0;
  ++h.consecutive_failures;
  if (!h.healthy) {
    h.reason = "health check failed: " + result.detail;  // the newest cause
  } else if (h.consecutive_failures >= t.check.unhealthy_threshold) {
    h.healthy = false;
    h.reason = "health check failed: " + result.detail;
    spdlog::warn("cluster {} endpoint {} is unhealthy after {} failed checks: {}", t.cluster,
                 t.name, h.consecutive_failures, result.detail);
    publish_(t.cluster, t.name, false);
  }
}

std::vector<prometheus::MetricFamily> HealthChecker::Collect() const {
  prometheus::MetricFamily total;
  total.name = "remora_health_check_total";
  total.help = "Active health checks, by cluster and result.";
  total.type = prometheus::MetricType::Counter;
  for (const auto& [key, n] : results_) {
    prometheus::ClientMetric m;
    m.label = {{"cluster", key.first}, {"result", key.second}};
    m.counter.value = double(n);
    total.metric.push_back(std::move(m));
  }
  prometheus::MetricFamily healthy;
  healthy.name = "remora_endpoint_healthy";
  healthy.help = "1 while a health-checked endpoint passes its checks, 0 while it is out.";
  healthy.type = prometheus::MetricType::Gauge;
  for (const auto& [key, t] : targets_) {
    prometheus::ClientMetric m;
    m.label = {{"cluster", key.first}, {"endpoint", key.second}};
    m.gauge.value = t->health.healthy ? 1 : 0;
    healthy.metric.push_back(std::move(m));
  }
  return {std::move(total), std::move(healthy)};
}

}  // namespace remora::upstream
