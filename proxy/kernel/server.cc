#include "kernel/server.h"

#include <prometheus/registry.h>
#include <spdlog/spdlog.h>

#include <condition_variable>
#include <csignal>
#include <thread>

#include "config/loader.h"
#include "kernel/listen_socket.h"
#include "plugin/filter_chain.h"
#include "plugin/host_api.h"
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
  current_.reset();  // chains, then plugin generations (stop, dlclose), before their services
  plugins_.reset();
  plugin::PluginGeneration::setMainDispatcher(nullptr);
}

int Server::run() {
  size_t n = initial_->workers;
  if (n == 0) n = std::max(1u, std::thread::hardware_concurrency());
  store_ = std::make_unique<stats::Store>(n);
  plugin::EventBus::setThreadDispatcher(&main_);
  plugin::PluginGeneration::setMainDispatcher(&main_);
  plugin_metrics_ = std::make_shared<plugin::PluginMetrics>(n);
  plugin::HostServices services;
  services.metrics = plugin_metrics_.get();
  services.bus = &bus_;
  services.eject = [this](const std::string& cluster, const std::string& address, uint32_t ms) {
    for (auto& w : workers_) w->ejectEndpoint(cluster, address, ms);
  };
  plugin::installHostServices(std::move(services));
  plugins_ = std::make_shared<plugin::PluginRegistry>(plugin::hostApi(), n);
  health_ = std::make_shared<upstream::HealthChecker>(
      main_, [this](const std::string& cluster, const std::string& address, bool healthy) {
        for (auto& w : workers_) w->setEndpointHealth(cluster, address, healthy);
      });
  registry_ = stats::makeRegistry(*store_, {plugin_metrics_, plugins_, health_});
  for (size_t i = 0; i < n; ++i) {
    workers_.push_back(std::make_unique<Worker>(i, *store_));
    workers_.back()->start();
  }
  if (!initial_->registration.service.empty() && initial_->etcd.endpoints.empty()) {
    spdlog::critical("cannot start: registration needs sources.etcd (the store to register in)");
    return 1;
  }
  Status applied = apply(initial_, "startup");
  if (!applied) {
    spdlog::critical("cannot start: {}", applied.error());
    return 1;
  }
  admin::AdminContext ctx;
  ctx.ready = [this] { return !draining_; };
  ctx.config = [this] { return current_ ? current_->config : nullptr; };
  ctx.registry = registry_;
  ctx.stats = store_.get();
  ctx.plugins = [this] {
    return plugins_->describe(current_ ? current_->chains : plugin::PluginRegistry::Chains{});
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
  auto admin = admin::AdminServer::create(main_.base(), initial_->admin.address, std::move(ctx));
  if (!admin) {
    spdlog::critical("cannot start: {}", admin.error());
    return 1;
  }
  admin_ = std::move(admin.value());
  startFleet();

  std::signal(SIGPIPE, SIG_IGN);
  for (int sig : {SIGTERM, SIGINT, SIGHUP, SIGUSR1}) {
    signals_.emplace_back(evsignal_new(main_.base(), sig, onSignal, this));
    event_add(signals_.back().get(), nullptr);
  }
  spdlog::info("remora {} started: {} worker(s), {} listener(s), admin on {}:{}", REMORA_VERSION, n,
               initial_->listeners.size(), initial_->admin.address.host, admin_->port());
  main_.run();
  admin_.reset();
  for (auto& w : workers_) w->stop();
  spdlog::info("remora stopped");
  return 0;
}

Status Server::apply(std::shared_ptr<const config::Config> cfg, const std::string& source) {
  // Sockets first: a listener that cannot bind refuses the whole change before any worker sees it.
  std::vector<std::map<std::string, Fd>> per_worker(workers_.size());
  for (const config::Listener& l : cfg->listeners) {
    bool unchanged = false;
    if (current_) {
      for (const config::Listener& old : current_->config->listeners)
        unchanged |= old.name == l.name && old.address == l.address;
    }
    if (unchanged) continue;
    auto fds = openListenSockets(l.address, workers_.size());
    if (!fds) return Error{"listeners." + l.name + ".address " + fds.error()};
    for (size_t i = 0; i < workers_.size(); ++i)
      per_worker[i].emplace(l.name, std::move(fds.value()[i]));
  }
  auto snap = std::make_shared<Snapshot>();
  Status chains = compileChains(*cfg, *snap);
  if (!chains) return chains;
  snap->version = next_version_++;
  snap->config = std::move(cfg);
  snap->source = source;
  snap->applied_at = std::chrono::system_clock::now();

  // Publish to every worker and wait until all have installed it.
  std::mutex mu;
  std::condition_variable cv;
  size_t pending = workers_.size();
  for (size_t i = 0; i < workers_.size(); ++i) {
    workers_[i]->install(snap, std::move(per_worker[i]), [&] {
      std::lock_guard<std::mutex> g(mu);
      if (--pending == 0) cv.notify_one();
    });
  }
  std::unique_lock<std::mutex> lock(mu);
  cv.wait(lock, [&] { return pending == 0; });
  current_ = snap;
  if (health_) health_->update(*snap->config);
  spdlog::info("config version {} applied (source: {})", snap->version, source);
  if (fleet_) fleet_->reconcile(*snap->config);
  return Status();
}

Status Server::compileChains(const config::Config& cfg, Snapshot& snap) {
  plugins_->scan(cfg.plugins.dir, cfg.plugins.cache_dir);
  std::string errors;
  for (size_t i = 0; i < cfg.listeners.size(); ++i) {
    const config::Listener& l = cfg.listeners[i];
    if (l.filters.empty()) continue;
    // The chain in service for this listener hands its plugins' state to the new one.
    const plugin::FilterChain* previous = nullptr;
    if (current_) {
      auto it = current_->chains.find(l.name);
      if (it != current_->chains.end()) previous = it->second.get();
    }
    auto chain = plugin::compileChain(l, "listeners[" + std::to_string(i) + "]", *plugins_,
                                      *plugin_metrics_, previous);
    if (!chain) {
      errors += (errors.empty() ? "" : "\n") + chain.error();
      continue;
    }
    snap.chains.emplace(l.name, chain.value());
  }
  if (!errors.empty()) return Error{errors};
  return Status();
}

void Server::reloadFromFile() {
  auto loaded = config::loadFromFile(config_path_);
  if (!loaded) {
    spdlog::error("reload of {} refused, config version {} stays in service:\n{}", config_path_,
                  current_->version, loaded.error());
    return;
  }
  const config::Config& now = *current_->config;
  if (loaded->workers != now.workers || loaded->admin != now.admin)
    spdlog::warn("reload: workers and admin.address take effect only at restart");
  Status s = apply(std::make_shared<const config::Config>(std::move(loaded.value())), "sighup");
  if (!s)
    spdlog::error("reload refused, config version {} stays in service: {}", current_->version,
                  s.error());
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
  fleet_->reconcile(*current_->config);
  fleet_->start();
}

discovery::Outcome Server::submitConfig(const std::string& yaml, const std::string& source) {
  auto loaded = config::loadFromString(yaml, source);
  if (!loaded) return {false, current_->version, loaded.error()};
  config::Config& cfg = loaded.value();
  cfg.workers = initial_->workers;
  cfg.admin = initial_->admin;
  cfg.etcd = initial_->etcd;
  cfg.registration = initial_->registration;
  Status s = apply(std::make_shared<const config::Config>(std::move(cfg)), source);
  if (!s) return {false, current_->version, s.error()};
  return {true, current_->version, ""};
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
  const config::Drain& d = current_->config->drain;
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
  timeval deadline = toTimeval(self->current_->config->drain.deadline);
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
