#include "kernel/server.h"

#include <prometheus/registry.h>
#include <spdlog/spdlog.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

#include "admin/control_auth.h"
#include "config/loader.h"
#include "http/host_api.h"
#include "kernel/thread_latency.h"
#include "kernel/tls_inventory.h"
#include "stats/collector.h"

namespace remora {
namespace {

timeval toTimeval(config::Duration d) {
  return {static_cast<time_t>(d.count() / 1000), static_cast<suseconds_t>(d.count() % 1000 * 1000)};
}

}  // namespace

Server::Server(std::string config_path, config::Config initial)
    : config_path_(std::move(config_path)),
      initial_(std::make_shared<const config::Config>(std::move(initial))) {}

Server::~Server() {
  admin_.reset();
  for (auto& w : workers_) w->stop();
  workers_.clear();
  watcher_.reset();
  tls_watchers_.clear();
  config_service_.reset();
  if (publisher_)
    publisher_->reset();  // chains, then plugin generations (stop, dlclose),
                          // before their services
  plugins_.reset();
}

int Server::run() {
  size_t n = initial_->workers;
  if (n == 0) n = std::max(1u, std::thread::hardware_concurrency());
  store_ = std::make_unique<stats::Store>(n);
  plugin::EventBus::setThreadDispatcher(&main_);
  plugin_metrics_ = std::make_shared<plugin::PluginMetrics>(n);
  host_context_.metrics = plugin_metrics_.get();
  host_context_.bus = &bus_;
  host_context_.main = &main_;
  host_context_.eject = [this](const std::string& cluster, const std::string& address,
                               uint32_t ms) {
    for (auto& w : workers_) w->ejectEndpoint(cluster, address, ms);
  };
  plugins_ = std::make_shared<plugin::PluginRegistry>(plugin::hostApi(), host_context_, n);
  health_ = std::make_shared<upstream::HealthChecker>(
      main_, [this](const std::string& cluster, const std::string& address, bool healthy) {
        for (auto& w : workers_) w->setEndpointHealth(cluster, address, healthy);
      });
  auto certs = std::make_shared<TlsCertificateMetrics>(
      [this] { return publisher_ ? publisher_->current() : SnapshotPtr(); });
  registry_ = stats::makeRegistry(*store_, {plugin_metrics_, plugins_, health_, certs});
  for (size_t i = 0; i < n; ++i) {
    workers_.push_back(std::make_unique<Worker>(i, *store_));
    workers_.back()->start();
  }
  // A config push replies only once this thread runs again after the last worker installed the
  // snapshot; under load that wake-up is one of the two waits in a push (docs/performance.md).
  if (!requestShortSlice())
    spdlog::debug("main thread: short scheduler slice refused: {}", std::strerror(errno));
  if (!initial_->registration.service.empty() && initial_->etcd.endpoints.empty()) {
    spdlog::critical("cannot start: registration needs sources.etcd (the store to register in)");
    return 1;
  }
  publisher_ = std::make_unique<SnapshotPublisher>(workers_, *plugins_, *plugin_metrics_);
  config_service_ = std::make_unique<ConfigService>(
      [this](std::shared_ptr<const config::Config> cfg, uint64_t version,
             const std::string& source) { return apply(std::move(cfg), version, source); },
      *registry_);
  ApplyOutcome applied = config_service_->submit(initial_, "startup");
  if (!applied.ok) {
    spdlog::critical("cannot start: the config was refused");
    return 1;
  }
  updateWatch();
  updateTlsWatch();
  config_service_->observe([this](const ApplyOutcome& outcome) {
    if (!outcome.ok) return;
    updateWatch();
    updateTlsWatch();
  });
  admin::AdminContext ctx;
  ctx.ready = [this] { return !draining_; };
  ctx.config = [this] { return config_service_->current(); };
  ctx.config_service = config_service_.get();
  ctx.drain = [this] {
    if (!draining_) beginDrain();
  };
  ctx.registry = registry_;
  ctx.stats = store_.get();
  ctx.certs = [this] {
    const SnapshotPtr& now = publisher_->current();
    return now ? certificatesJson(now->tls) : nlohmann::json::object();
  };
  ctx.plugins = [this] {
    const SnapshotPtr& now = publisher_->current();
    return plugins_->describe(now ? now->chains : plugin::PluginRegistry::Chains{});
  };
  ctx.endpoint_health = [this](const std::string& cluster, const std::string& address) {
    nlohmann::json out;  // null: not health checked
    if (const auto* h = health_->find(cluster, address)) {
      out = {{"healthy", h->healthy},
             {"last_result", h->last_result},
             {"consecutive_failures", h->consecutive_failures},
             {"consecutive_passes", h->consecutive_passes}};
      if (!h->healthy) out["reason"] = h->reason;
    }
    return out;
  };
  ctx.discovered = [this](const std::string& cluster) -> discovery::EndpointSet {
    auto it = discovered_.find(cluster);
    return it == discovered_.end() ? nullptr : it->second;
  };
  if (!startAdmin(std::move(ctx))) return 1;
  startFleet();

  std::signal(SIGPIPE, SIG_IGN);
  for (int sig : {SIGTERM, SIGINT, SIGHUP, SIGUSR1}) {
    signals_.emplace_back(evsignal_new(main_.base(), sig, onSignal, this));
    event_add(signals_.back().get(), nullptr);
  }
  spdlog::info(
      "remora {} started: {} worker(s), {} listener(s), admin observe on {}, control on {}",
      REMORA_VERSION, n, initial_->listeners.size(), admin_->where(), control_->where());
  main_.run();
  admin_.reset();
  control_.reset();
  for (auto& w : workers_) w->stop();
  spdlog::info("remora stopped");
  return 0;
}

bool Server::startAdmin(admin::AdminContext ctx) {
  const config::Admin& cfg = initial_->admin;
  std::string token;
  if (!cfg.control.token_file.empty()) {
    auto read = admin::readTokenFile(cfg.control.token_file);
    if (!read) {
      spdlog::critical("cannot start: {}", read.error().front().str());
      return false;
    }
    token = std::move(read.value());
  }
  auto observe = admin::AdminServer::create(main_.base(), admin::AdminListener::observe(cfg), ctx);
  if (!observe) {
    spdlog::critical("cannot start: {}", observe.error());
    return false;
  }
  auto control = admin::AdminServer::create(
      main_.base(), admin::AdminListener::control(cfg, std::move(token)), std::move(ctx));
  if (!control) {
    spdlog::critical("cannot start: {}", control.error());
    return false;
  }
  admin_ = std::move(observe.value());
  control_ = std::move(control.value());
  return true;
}

ConfigStatus Server::apply(std::shared_ptr<const config::Config> cfg, uint64_t version,
                           const std::string& source) {
  if (const SnapshotPtr& now = publisher_->current()) {
    if (cfg->workers != now->config->workers || cfg->admin != now->config->admin)
      spdlog::warn("config from {}: workers and admin take effect only at restart", source);
  }
  ConfigStatus published = publisher_->publish(std::move(cfg), version, source);
  if (!published) return published;
  const config::Config& now = *publisher_->current()->config;
  if (health_) health_->update(now, publisher_->current()->tls.clusters);
  if (fleet_) fleet_->reconcile(now);
  return ConfigStatus();
}

void Server::reloadFromFile() {
  std::ifstream file(config_path_, std::ios::binary);
  if (!file) {
    spdlog::error("reload of {} refused, config version {} stays in service: cannot open: {}",
                  config_path_, config_service_->version(), std::strerror(errno));
    return;
  }
  std::ostringstream text;
  text << file.rdbuf();
  if (watcher_) watcher_->markSeen(text.str());
  (void)config_service_->submit(text.str(), ConfigFormat::kYaml, "sighup");
}

void Server::updateWatch() {
  const bool want = !config_path_.empty() && config_service_->current()->config_watch;
  if (!want) {
    if (watcher_) spdlog::info("config_watch: off, no longer watching {}", config_path_);
    watcher_.reset();
    return;
  }
  if (watcher_) return;
  std::ifstream file(config_path_, std::ios::binary);
  std::ostringstream text;
  text << file.rdbuf();
  auto watcher = ConfigWatcher::create(
      main_.base(), config_path_, text.str(), [this](const std::string& changed) {
        (void)config_service_->submit(changed, ConfigFormat::kYaml, "file");
      });
  if (!watcher) {
    spdlog::error("{}; the file is applied on SIGHUP only", watcher.error());
    return;
  }
  watcher_ = std::move(watcher.value());
}

void Server::updateTlsWatch() {
  std::map<std::string, std::unique_ptr<ConfigWatcher>> watchers;
  for (const std::string& path : tlsFiles(*config_service_->current())) {
    if (watchers.count(path)) continue;
    auto it = tls_watchers_.find(path);
    if (it != tls_watchers_.end()) {
      watchers.emplace(path, std::move(it->second));
      continue;
    }
    std::ifstream file(path, std::ios::binary);
    std::ostringstream text;
    text << file.rdbuf();
    // Rotation: the same config again, so the snapshot's contexts are built from the new files
    // (a bad file is refused with its path and the running material stays in service).
    auto watcher =
        ConfigWatcher::create(main_.base(), path, text.str(), [this, path](const std::string&) {
          spdlog::info("{} changed: reloading TLS material", path);
          (void)config_service_->submit(config_service_->current(), "tls");
        });
    if (!watcher) {
      spdlog::error("{}; TLS material is reloaded on SIGHUP only", watcher.error());
      continue;
    }
    watchers.emplace(path, std::move(watcher.value()));
  }
  tls_watchers_.swap(watchers);
}

void Server::startFleet() {
  fleet_ = std::make_unique<discovery::Fleet>(
      main_.base(), *initial_,
      [this](const std::string& yaml, const std::string& source) {
        return submitConfig(yaml, source);
      },
      [this](const std::string& cluster, discovery::EndpointSet endpoints) {
        discovered_[cluster] = endpoints;
        for (auto& w : workers_) w->updateEndpoints(cluster, endpoints);
      });
  fleet_->reconcile(*config_service_->current());
  fleet_->start();
}

discovery::Outcome Server::submitConfig(const std::string& yaml, const std::string& source) {
  auto loaded = config::loadFromString(yaml, source);
  if (!loaded) return {false, config_service_->version(), loaded.error()};
  config::Config& cfg = loaded.value();
  cfg.workers = initial_->workers;
  cfg.admin = initial_->admin;
  cfg.etcd = initial_->etcd;
  cfg.registration = initial_->registration;
  ApplyOutcome outcome =
      config_service_->submit(std::make_shared<const config::Config>(std::move(cfg)), source);
  return {outcome.ok, outcome.version, std::move(outcome.errors)};
}

void Server::onSignal(evutil_socket_t sig, short, void* arg) {
  auto* self = static_cast<Server*>(arg);
  if (sig == SIGUSR1) {
    spdlog::info("SIGUSR1: asking filters to reopen their log files");
    self->bus_.publish("remora.reopen_logs", "");
    return;
  }
  if (sig == SIGHUP) {
    spdlog::info("SIGHUP: reloading {}", self->config_path_);
    return self->reloadFromFile();
  }
  if (self->draining_) {
    spdlog::warn("second stop signal: exiting now");
    return self->finishDrain();
  }
  self->beginDrain();
}

void Server::beginDrain() {
  draining_ = true;
  const config::Drain& d = config_service_->current()->drain;
  spdlog::info(
      "draining: /ready now fails; accepting for {} ms more, then up to {} ms for "
      "in-flight requests",
      d.grace_period.count(), d.deadline.count());
  grace_timer_.reset(evtimer_new(main_.base(), onGraceOver, this));
  timeval grace = toTimeval(d.grace_period);
  event_add(grace_timer_.get(), &grace);
}

void Server::onGraceOver(evutil_socket_t, short, void* arg) {
  auto* self = static_cast<Server*>(arg);
  timeval deadline = toTimeval(self->config_service_->current()->drain.deadline);
  self->deadline_timer_.reset(evtimer_new(self->main_.base(), onDeadline, self));
  event_add(self->deadline_timer_.get(), &deadline);
  for (auto& w : self->workers_) {
    w->drain([self] {
      self->main_.post([self] {
        if (++self->workers_drained_ == self->workers_.size()) {
          spdlog::info("drained: no connection left");
          self->finishDrain();
        }
      });
    });
  }
}

void Server::onDeadline(evutil_socket_t, short, void* arg) {
  spdlog::warn("drain deadline reached: closing remaining connections");
  static_cast<Server*>(arg)->finishDrain();
}

void Server::finishDrain() {
  main_.exit();
}

}  // namespace remora
