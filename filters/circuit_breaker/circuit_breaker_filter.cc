#include "circuit_breaker_filter.h"

#include "breaker_events.h"
#include "outcome.h"

namespace remora::circuit_breaker {

namespace {

constexpr std::string_view kClusterMetadata = "remora.cluster";
constexpr std::string_view kGrpcStatusMetadata = "remora.grpc_status";

// Created in onPluginStart and destroyed in onPluginStop (main thread), when no stream and no
// config of this plugin is left, so workers never see it change.
std::unique_ptr<sdk::PerWorker<WorkerState>> g_worker_states;

uint64_t nowMs() {
  return sdk::nowMonotonicUs() / 1000;
}

}  // namespace

bool BreakerPluginConfig::onPluginStart(std::string&) {
  g_worker_states = std::make_unique<sdk::PerWorker<WorkerState>>();
  return true;
}

void BreakerPluginConfig::onPluginStop() {
  g_worker_states.reset();
}

sdk::PerWorker<WorkerState>* BreakerPluginConfig::workerStates() {
  return g_worker_states.get();
}

std::unique_ptr<BreakerPluginConfig> BreakerPluginConfig::create(const nlohmann::json& json,
                                                                 sdk::ConfigContext& ctx,
                                                                 std::string& error) {
  auto c = std::make_unique<BreakerPluginConfig>();
  c->config = parseBreakerConfig(json, error);
  if (!c->config) return nullptr;
  auto active = ctx.gaugeFamily("circuit_breaker_active_requests",
                                "Requests in flight to the cluster", "cluster");
  auto open = ctx.gaugeFamily("circuit_breaker_open",
                              "Workers whose breaker for the cluster is open", "cluster");
  auto half_open = ctx.gaugeFamily("circuit_breaker_half_open",
                                   "Workers whose breaker for the cluster is half-open", "cluster");
  auto opened = ctx.counterFamily("circuit_breaker_opened_total",
                                  "Times a worker's breaker for the cluster opened", "cluster");
  auto ejections = ctx.counterFamily("circuit_breaker_ejections_total",
                                     "Endpoints of the cluster ejected as outliers", "cluster");
  auto overloaded = ctx.counterFamily(
      "circuit_breaker_overloaded_total",
      "Requests refused with 503 at the cluster's max_active_requests", "cluster");
  auto rejected = ctx.counterFamily("circuit_breaker_rejected_open_total",
                                    "Requests refused with 503 by an open breaker", "cluster");
  auto pending_overflow = ctx.counterFamily(
      "circuit_breaker_pending_overflow_total",
      "Requests refused with 503 at the cluster's max_pending_requests", "cluster");
  auto retry_overflow = ctx.counterFamily(
      "circuit_breaker_retry_overflow_total",
      "Retries not attempted at the cluster's max_retries (the failure was answered)", "cluster");
  c->metrics.resize(c->config->clusters.size());
  for (const auto& [name, limits] : c->config->clusters) {
    ClusterMetrics& m = c->metrics[limits.index];
    m.active = ctx.series(active, name);
    m.open = ctx.series(open, name);
    m.half_open = ctx.series(half_open, name);
    m.opened = ctx.series(opened, name);
    m.ejections = ctx.series(ejections, name);
    m.overloaded = ctx.series(overloaded, name);
    m.rejected_open = ctx.series(rejected, name);
    m.pending_overflow = ctx.series(pending_overflow, name);
    m.retry_overflow = ctx.series(retry_overflow, name);
  }
  return c;
}

std::string BreakerPluginConfig::exportState() const {
  if (!g_worker_states) return "";
  nlohmann::json out = {{"format", "circuit_breaker.state.v1"},
                        {"table", reinterpret_cast<uintptr_t>(g_worker_states.get())},
                        {"clusters", g_worker_states->local().save()}};
  return out.dump();
}

void BreakerPluginConfig::importState(std::string_view state) const {
  if (!g_worker_states) return;
  nlohmann::json in = nlohmann::json::parse(state, nullptr, false);
  if (!in.is_object() || in.value("format", "") != "circuit_breaker.state.v1") return;
  if (in.value("table", uintptr_t{0}) == reinterpret_cast<uintptr_t>(g_worker_states.get()))
    return;  // the same build: its tables are already shared by every config
  g_worker_states->local().load(in["clusters"], *config);
}

sdk::Status BreakerFilter::onRequestHeaders(bool) {
  std::optional<std::string_view> cluster = stream().metadata(kClusterMetadata);
  if (!cluster) {
    if (!config_.no_cluster_logged.exchange(true, std::memory_order_relaxed)) {
      sdk::log(sdk::LogLevel::kWarn,
               "no remora.cluster on the stream at request headers: the circuit_breaker must "
               "run after the router; streams without a cluster are let through (logged once)");
    }
    return sdk::Status::kContinue;
  }
  const ClusterLimits* limits = config_.config->find(*cluster);
  sdk::PerWorker<WorkerState>* states = BreakerPluginConfig::workerStates();
  if (limits == nullptr || states == nullptr) return sdk::Status::kContinue;

  std::optional<BreakerState> dropped;
  ClusterState& state = states->local().cluster(*limits, config_.config->generation, &dropped);
  if (dropped)
    reportTransition(*limits, Transition{*dropped, BreakerState::kClosed, "breaker_removed"});
  const ClusterMetrics& m = config_.metrics[limits->index];
  if (state.active >= limits->max_active_requests) {
    m.overloaded.inc(stream());
    return refuse("upstream overloaded\n");
  }
  Breaker::Ticket ticket{true, false, 0};
  if (state.breaker) {
    std::optional<Transition> t;
    ticket = state.breaker->admit(nowMs(), &t);
    if (t) reportTransition(*limits, *t);
    if (!ticket.allowed) {
      m.rejected_open.inc(stream());
      return refuse("circuit open\n");
    }
  }
  ++state.active;
  m.active.add(stream(), 1);
  limits_ = limits;
  state_ = &state;
  ticket_ = ticket;
  if (limits->max_pending || limits->max_retries) setUpstreamLimits(*limits);
  return sdk::Status::kContinue;
}

void BreakerFilter::setUpstreamLimits(const ClusterLimits& limits) {
  // The kernel owns the pool queue and the retries, so it checks the bounds where they matter,
  // with no call back into the plugin on that path.
  upstream_limits_set_ = stream().setUpstreamLimits(limits.max_pending.value_or(REMORA_NO_LIMIT),
                                                    limits.max_retries.value_or(REMORA_NO_LIMIT));
  if (!upstream_limits_set_ && !config_.no_limits_logged.exchange(true)) {
    sdk::log(sdk::LogLevel::kWarn,
             "this kernel has no set_upstream_limits: max_pending_requests and max_retries are "
             "not enforced (logged once)");
  }
}

void BreakerFilter::onLog() {
  if (state_ == nullptr) return;
  --state_->active;
  const ClusterMetrics& m = config_.metrics[limits_->index];
  m.active.sub(stream(), 1);
  if (upstream_limits_set_) {
    uint32_t hit = stream().upstreamLimitsHit();
    if (hit & REMORA_LIMIT_HIT_PENDING) m.pending_overflow.inc(stream());
    if (hit & REMORA_LIMIT_HIT_RETRIES) m.retry_overflow.inc(stream());
  }
  std::string_view address = stream().upstreamAddress();
  Outcome outcome =
      classifyOutcome(stream().responseStatus(), stream().responseFlags(), !address.empty());
  // A gRPC failure travels in grpc-status under HTTP 200; the kernel exposes it as metadata.
  if (outcome == Outcome::kSuccess && limits_->grpc_failures != 0) {
    if (auto grpc = stream().metadata(kGrpcStatusMetadata))
      outcome = classifyGrpcStatus(*grpc, limits_->grpc_failures);
  }
  uint64_t now = nowMs();
  if (state_->breaker && ticket_.epoch != 0) {
    if (outcome == Outcome::kNone) {
      state_->breaker->abandon(ticket_);
    } else if (auto t = state_->breaker->record(ticket_, isFailure(outcome), now)) {
      reportTransition(*limits_, *t);
    }
  }
  if (limits_->outlier) judgeEndpoint(outcome, address, now);
}

void BreakerFilter::judgeEndpoint(Outcome outcome, std::string_view address, uint64_t now_ms) {
  const OutlierSettings& settings = *limits_->outlier;
  const char* reason = state_->outlier.record(settings, address, outcome, now_ms);
  if (reason == nullptr) return;
  const std::string& cluster = limits_->name;
  size_t ejected = 0;
  bool known = false;
  std::vector<sdk::EndpointInfo> endpoints = stream().endpoints(cluster);
  for (const sdk::EndpointInfo& e : endpoints) {
    ejected += e.ejected ? 1 : 0;
    if (e.address == address) {
      known = true;
      if (e.ejected) return;  // another worker got there first
    }
  }
  if (!known) return;  // no longer an endpoint of the cluster (discovery removed it)
  if (!OutlierDetector::withinBudget(endpoints.size(), ejected, settings.max_ejection_percent)) {
    sdk::log(sdk::LogLevel::kDebug, "cluster " + cluster + ": not ejecting " +
                                        std::string(address) + ": max_ejection_percent reached");
    return;
  }
  OutlierDetector::Ejection e = state_->outlier.eject(settings, address, now_ms);
  sdk::ejectEndpoint(cluster, address, e.duration_ms);
  config_.metrics[limits_->index].ejections.inc(stream());
  sdk::publish(kEventTopic, ejectionEventJson(cluster, address, e.duration_ms, e.times, reason));
  sdk::log(sdk::LogLevel::kWarn, ejectionLogLine(cluster, address, e.duration_ms, e.times, reason));
}

void BreakerFilter::reportTransition(const ClusterLimits& limits, const Transition& t) {
  const ClusterMetrics& m = config_.metrics[limits.index];
  if (t.from == BreakerState::kOpen) m.open.sub(stream(), 1);
  if (t.from == BreakerState::kHalfOpen) m.half_open.sub(stream(), 1);
  if (t.to == BreakerState::kOpen) {
    m.open.add(stream(), 1);
    m.opened.inc(stream());
  }
  if (t.to == BreakerState::kHalfOpen) m.half_open.add(stream(), 1);
  sdk::publish(kEventTopic, stateEventJson(limits.name, t));
  sdk::log(t.to == BreakerState::kOpen ? sdk::LogLevel::kWarn : sdk::LogLevel::kInfo,
           stateLogLine(limits.name, t));
}

sdk::Status BreakerFilter::refuse(const char* body) {
  stream().sendLocalReply(503, body,
                          {{"x-remora-overloaded", "true"},
                           {"content-type", "text/plain"},
                           sdk::grpcStatusHeader(sdk::GrpcStatus::kUnavailable)});
  return sdk::Status::kReplied;
}

}  // namespace remora::circuit_breaker

REMORA_FILTER_PLUGIN("circuit_breaker", "1.0.0", 1100, remora::circuit_breaker::BreakerPluginConfig,
                     remora::circuit_breaker::BreakerFilter)
